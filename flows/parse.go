package flows

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest flow file Parse accepts.
const MaxFileSize = 1 << 20

// Load reads and parses a flow file; see Parse.
func Load(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("flows: reading %s: %w", path, err)
	}
	file, err := Parse(data, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return file, nil
}

// Parse decodes a flow file and validates it (File.Validate). name selects
// the format: a ".json" name is JSON, anything else YAML. Unknown fields
// are refused in both, so a misspelt "asert:" is an error rather than a
// check that silently never runs.
func Parse(data []byte, name string) (*File, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: the file is larger than %d bytes", ErrInvalid, MaxFileSize)
	}
	var f File
	if strings.EqualFold(filepath.Ext(name), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%w: JSON: %v", ErrInvalid, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("%w: JSON: more than one value in the file", ErrInvalid)
		}
	} else {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil {
			if err == io.EOF {
				return nil, fmt.Errorf("%w: the file is empty", ErrInvalid)
			}
			return nil, fmt.Errorf("%w: YAML: %v", ErrInvalid, err)
		}
		var extra any
		if err := dec.Decode(&extra); err != io.EOF {
			return nil, fmt.Errorf("%w: YAML: more than one document in the file", ErrInvalid)
		}
	}
	for i := range f.Flows {
		for j := range f.Flows[i].Steps {
			body, err := normalizeJSON(f.Flows[i].Steps[j].JSON)
			if err != nil {
				return nil, fmt.Errorf("%w: flow %q step %q: json: %v", ErrInvalid, f.Flows[i].Name, f.Flows[i].Steps[j].Name, err)
			}
			f.Flows[i].Steps[j].JSON = body
		}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// normalizeJSON turns a YAML-decoded body into JSON types (YAML allows
// non-string map keys, which JSON cannot encode).
func normalizeJSON(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
		return x, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("map key %v is not a string", k)
			}
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	case []any:
		for i, e := range x {
			n, err := normalizeJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
		return x, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, fmt.Errorf("%v is not a JSON number", x)
		}
		return v, nil
	case nil, string, bool, int, int64, uint64, json.Number:
		return v, nil
	}
	return nil, fmt.Errorf("value of type %T cannot be sent as JSON", v)
}
