package edge

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/launchready/launchready/readiness"
)

// checkHeaders grades the security headers of /, the API path and the
// first health path with readiness.SecurityHeaderFindings, the rules of
// the in-process CORS007 check (which cors.NewHeaders passes). A finding
// seen on several paths is reported once, naming them all.
func (s *scan) checkHeaders(ctx context.Context) {
	paths := []string{"/", s.c.cfg.APIPath}
	if len(s.c.cfg.HealthPaths) > 0 {
		paths = append(paths, s.c.cfg.HealthPaths[0])
	}
	type key struct {
		sev  readiness.Severity
		seen string
	}
	var order []key
	merged := map[key]*readiness.Finding{}
	seenPath := map[string]bool{}
	for _, p := range paths {
		if seenPath[p] {
			continue
		}
		seenPath[p] = true
		res := s.root
		if p != "/" {
			var err error
			if res, err = s.c.do(ctx, s.client, http.MethodGet, s.c.url(p), nil, nil); err != nil {
				s.unverified("the security headers of "+p, err)
				continue
			}
		}
		for _, f := range readiness.SecurityHeaderFindings(res.header) {
			k := key{f.Severity, f.Seen}
			if m, ok := merged[k]; ok {
				m.Route += ", GET " + p
				continue
			}
			f.Route = "GET " + p
			merged[k] = &f
			order = append(order, k)
		}
	}
	for _, k := range order {
		s.add(*merged[k])
	}
}

// checkCookies grades every cookie the login page (and, with credentials,
// the login response) sets with readiness.CookieFindings: the SESS001–
// SESS004 rules of the in-process session check.
func (s *scan) checkCookies(ctx context.Context) {
	c := s.c
	type seen struct {
		route string
		ck    *http.Cookie
	}
	var all []seen
	for _, ck := range s.root.cookies {
		all = append(all, seen{"GET /", ck})
	}
	if c.cfg.LoginPage != "/" {
		if res, err := c.do(ctx, s.client, http.MethodGet, c.url(c.cfg.LoginPage), nil, nil); err != nil {
			s.unverified("the cookies of the login page "+c.cfg.LoginPage, err)
		} else {
			s.loginPage = res
			for _, ck := range res.cookies {
				all = append(all, seen{"GET " + c.cfg.LoginPage, ck})
			}
		}
	}
	if cr := c.cfg.Credentials; cr != nil {
		body, _ := json.Marshal(map[string]string{"email": cr.Email, "password": cr.Password})
		hdr := http.Header{"Content-Type": {"application/json"}}
		res, err := c.do(context.WithValue(ctx, allowPostKey{}, true), s.client, http.MethodPost, c.url(c.cfg.LoginPath), hdr, body)
		switch {
		case err != nil:
			s.unverified("signing in at "+c.cfg.LoginPath, err)
		case res.status < 200 || res.status > 299:
			s.unverified("signing in at "+c.cfg.LoginPath, fmt.Errorf("the login answered %d with the configured credentials", res.status))
		case strings.Contains(string(res.body), `"mfa_required"`) && strings.Contains(string(res.body), "true"):
			s.unverified("the signed-in session", fmt.Errorf("the account needs a second factor; use an account without MFA for the check"))
			fallthrough
		default:
			for _, ck := range res.cookies {
				all = append(all, seen{"POST " + c.cfg.LoginPath, ck})
				if ck.Value != "" && ck.MaxAge >= 0 {
					s.session = append(s.session, ck)
				}
			}
		}
	}
	done := map[string]bool{}
	for _, sc := range all {
		if done[sc.ck.Name] {
			continue
		}
		done[sc.ck.Name] = true
		s.add(readiness.CookieFindings(sc.ck, sc.route)...)
	}
}
