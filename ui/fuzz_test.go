package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// fuzzFootprint is what the fake wing would change for an action, but a
// refused sign-in: that is recorded, as it should be.
func (f *fakeWing) fuzzFootprint() string {
	signIns := slices.DeleteFunc(f.signIns(), func(s string) bool { return s == "refused" })
	return fmt.Sprint(f.recordCount(), signIns, f.rosterWithPINs(), f.Site().Lockdown)
}

// FuzzScreens drives the screens' whole handler (pages, forms, live
// streams and the JSON API) over the fake wing, with fuzzed methods,
// paths, queries, content types and bodies, from the kiosk or from off
// the board, with a signed-in supervisor's session and token or without:
// it never panics, answers no 5xx but 503 (documented: a store that
// refuses events, a site that cannot agree, a server stopping), answers
// within a bounded time, and when it refuses (4xx or 5xx) changes nothing.
func FuzzScreens(f *testing.F) {
	for _, c := range screenForms {
		f.Add("POST", c.path, "", "application/x-www-form-urlencoded", c.form.Encode(), true, true)
	}
	for _, c := range apiActions {
		f.Add("POST", c.path, "", "application/json", c.body, true, true)
		f.Add("POST", c.path, "", "application/json", c.body+" {}", true, false)
	}
	for _, p := range []string{"/", "/events", "/plan", "/regime", "/walktest", "/site", "/signin", "/officers", "/checks", "/checks/A1-01",
		"/roll", "/roll/count/1", "/roll/expected", "/handover", "/timeline", "/timeline.ndjson", "/figures", "/healthz",
		"/api/v1/state", "/api/v1/events", "/api/v1/events/tail", "/api/v1/site", "/api/v1/checks", "/api/v1/roll", "/api/v1/timeline",
		"/api/v1/figures", "/live", "/live/shift", "/alarms/A/1/resolve", "/records/A/1/correct", "/static/app.js", "/nothing"} {
		f.Add("GET", p, "", "", "", true, false)
	}
	f.Add("GET", "/api/v1/events", "limit=0&from=x&kind=door.opened&cursor=%zz", "", "", false, true)
	f.Add("GET", "/live", "page=events&kind=nope", "", "", false, true)
	f.Add("POST", "/walktest/start", "", "application/x-www-form-urlencoded", "minutes=1&pad="+strings.Repeat("x", 100), true, false)
	f.Add("POST", "/signin", "", "application/x-www-form-urlencoded", "officer=1001&pin=0000", false, true)

	w := newFakeWing()
	w.raise("A-STAFF", "staff-alarm", 1)
	srv := New(w, Options{Version: "fuzz", Now: func() time.Time { return w.ago(0) }, Logger: slog.New(slog.DiscardHandler)})
	f.Cleanup(srv.Close)
	var cookie, token string
	signedIn := func() bool {
		_, _, ok := srv.sessions.lookup(cookie)
		return ok
	}
	signInAgain := func(t testing.TB) {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/api/v1/signin", strings.NewReader(`{"officer": "`+testOfficer+`", "pin": "2468"}`))
		r.Header.Set("Content-Type", "application/json")
		srv.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("sign in: %d %s", rec.Code, rec.Body)
		}
		var got apiSignInResult
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		token = got.CSRFToken
		for _, c := range rec.Result().Cookies() {
			if c.Name == sessionCookie {
				cookie = c.Value
			}
		}
	}
	signInAgain(f)

	f.Fuzz(func(t *testing.T, method, path, query, contentType, body string, session, onBoard bool) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path+query, " \r\n\t#") {
			return // not a request a server would hand its handler
		}
		r, err := http.NewRequest(method, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.URL.RawQuery = query
		r.RemoteAddr = "192.0.2.7:40000"
		if onBoard {
			r.RemoteAddr = "127.0.0.1:40000"
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if session {
			if !signedIn() {
				signInAgain(t)
			}
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
			r.Header.Set(csrfHeader, token)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond) // a live stream ends with its client
		defer cancel()
		r = r.WithContext(ctx)
		before := w.fuzzFootprint()
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ServeHTTP(rec, r)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s %s?%s: no answer within 5 s", method, path, query)
		}
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && w.fuzzFootprint() != before {
			t.Fatalf("%s %s?%s %q: refused with %d, yet the wing changed:\n%s\n%s", method, path, query, body, rec.Code, before, w.fuzzFootprint())
		}
	})
}

// validMethod reports whether m is an HTTP method token, as a server
// would parse one.
func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
