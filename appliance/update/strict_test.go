package update_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/firmware"
	"wingnode/sync/site"
)

// fakeSite is a site that agrees to whatever is proposed, and keeps it.
type fakeSite struct {
	mu       sync.Mutex
	proposed []site.Command
}

func (s *fakeSite) Status() site.Status { return site.Status{Wing: "A", Leader: "A"} }
func (s *fakeSite) Propose(_ context.Context, c site.Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.proposed = append(s.proposed, c)
	return nil
}
func (s *fakeSite) Changed() <-chan struct{} { return make(chan struct{}) }
func (s *fakeSite) Client() *http.Client     { return &http.Client{} }

func (s *fakeSite) proposals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.proposed)
}

// TestRolloutStopReadsItsBodyStrictly: stopping a rollout takes nothing or
// {"reason": ...}; a body past its limit is refused with 413, one with
// more after its object, another field or a reason that breaks the rule
// for text with 400, and nothing is proposed to the site.
func TestRolloutStopReadsItsBodyStrictly(t *testing.T) {
	s := &fakeSite{}
	r := newUpdateRigOf(t, s)
	for _, c := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"too large", `{"reason": "` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge, "body: larger than 4 KiB"},
		{"more after it", `{"reason": "a"} {"reason": "b"}`, http.StatusBadRequest, "body: more follows the JSON value"},
		{"not JSON", `reason=a`, http.StatusBadRequest, "body: not JSON"},
		{"another field", `{"reason": "a", "force": true}`, http.StatusBadRequest, "force: not a field of this request"},
		{"reason too long", `{"reason": "` + strings.Repeat("x", 201) + `"}`, http.StatusBadRequest, "text refused: the reason has 201 characters"},
		{"bidi override", `{"reason": "stop \u202e here"}`, http.StatusBadRequest, "text refused: the reason holds an invisible or control character"},
		{"NUL", `{"reason": "stop\u0000"}`, http.StatusBadRequest, "text refused: the reason holds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body := r.do(t, http.MethodPost, "/api/v1/firmware/rollout/stop", r.token, []byte(c.body))
			assert.Equal(t, c.status, status)
			assert.True(t, strings.HasPrefix(fmt.Sprint(body["error"]), c.says), "%q", body["error"])
			assert.Zero(t, s.proposals(), "nothing proposed")
		})
	}
	for i, body := range []string{"", `{"reason": "build 6 fails its health check"}`} {
		status, got := r.do(t, http.MethodPost, "/api/v1/firmware/rollout/stop", r.token, []byte(body))
		require.Equal(t, http.StatusOK, status, got)
		require.Equal(t, i+1, s.proposals())
	}
	assert.Equal(t, site.Command{Op: site.OpRolloutStop, By: site.SiteIT, Reason: "build 6 fails its health check"}, s.proposed[1])
}

// FuzzUpdates drives the whole firmware endpoint, and the bundles it
// serves other wings, with site IT's token,
// fuzzed methods, paths, queries and bodies: it never panics, answers no
// 5xx but 503 (no update machinery or no site, as documented), answers
// within a bounded time, and when it refuses, installs nothing, proposes
// nothing and does not reboot.
func FuzzUpdates(f *testing.F) {
	for _, s := range []struct{ method, target, body string }{
		{"GET", "/api/v1/firmware", ""},
		{"POST", "/api/v1/firmware", "hello"},
		{"POST", "/api/v1/firmware/rollout", "WNB1\x00\x00"},
		{"POST", "/api/v1/firmware/rollout/stop", `{"reason": "stop"}`},
		{"POST", "/api/v1/firmware/rollout/stop", `{"reason": "stop"} x`},
		{"PUT", "/api/v1/firmware/reboot", ""},
		{"GET", "/api/v1/firmware/nothing?x=1", ""},
	} {
		f.Add(s.method, s.target, s.body)
	}
	f.Add("GET", "/site/v1/bundle/"+strings.Repeat("ab", 32), "")
	f.Add("GET", "/site/v1/bundle/../../slots.json", "")
	s := &fakeSite{}
	r := newUpdateRigOf(f, s)
	mux := http.NewServeMux() // as the site port mounts the bundles beside the endpoint
	mux.Handle("GET /site/v1/bundle/{digest}", r.u.ServeBundle())
	mux.Handle("/", r.u)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t") {
			return
		}
		if method == http.MethodPost && strings.HasPrefix(target, "/api/v1/firmware/reboot") {
			return // succeeds, as it should: nothing to refuse
		}
		req, err := http.NewRequest(method, "http://wing-a"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+r.token)
		req.RemoteAddr = "192.0.2.1:1234"
		proposals := s.proposals()
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			mux.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: no answer within 10 s", method, target)
		}
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if rec.Code >= 300 {
			if s.proposals() != proposals {
				t.Fatalf("%s %s: refused with %d, yet proposed to the site", method, target, rec.Code)
			}
			if st := r.slots(t); st.Active != firmware.SlotA || st.B.Status == firmware.Trial {
				t.Fatalf("%s %s: refused with %d, yet the slots changed: %+v", method, target, rec.Code, st)
			}
			if r.reboots.Load() != 0 {
				t.Fatalf("%s %s: refused with %d, yet rebooted", method, target, rec.Code)
			}
			if rec.Code >= 400 && !strings.HasPrefix(rec.Body.String(), `{"error":`) && !strings.HasPrefix(target, "/site/") {
				t.Fatalf("%s %s: %d without a sentence: %q", method, target, rec.Code, rec.Body)
			}
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
