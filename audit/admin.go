package audit

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
)

// AdminView is what Admin serves.
type AdminView struct {
	// Records are the newest records first, at most the handler's limit.
	Records []Record `json:"records"`
	// Total is the number of intact records in the file.
	Total int `json:"total"`
	// DamagedLines counts lines that are not intact records.
	DamagedLines int `json:"damaged_lines"`
	// Truncated is set when the file ends in an incomplete record (the
	// writer crashed mid-write and has not written since).
	Truncated bool `json:"truncated"`
}

// Admin returns a read-only JSON view of the newest limit records of the
// file (limit <= 0 means 100), for an admin page. Mount it only behind an
// admin-only route: records name who did what. Read errors answer a
// problem+json 500 and are logged to logger (nil discards).
func (s *FileSink) Admin(limit int, logger *slog.Logger) http.Handler {
	if limit <= 0 {
		limit = 100
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recs, err := s.ReadAll()
		view := AdminView{Total: len(recs), Records: []Record{}}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				logger.ErrorContext(r.Context(), "audit: admin view cannot read the audit file", slog.String("error", err.Error()))
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusInternalServerError)
				_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Internal Server Error", "status": 500})
				return
			}
			if u, ok := err.(interface{ Unwrap() []error }); ok {
				view.DamagedLines = len(u.Unwrap())
			}
			view.Truncated = errors.Is(err, ErrTruncated)
		}
		for i := len(recs) - 1; i >= 0 && len(view.Records) < limit; i-- {
			view.Records = append(view.Records, recs[i])
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(view)
	})
}
