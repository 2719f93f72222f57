package site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/roster"
	"wingnode/appliance/store"
)

// loopbackStream is raft's stream layer over plain TCP on loopback, for a
// node of one wing: it dials only its own address.
type loopbackStream struct{ net.Listener }

func (s loopbackStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if string(addr) != s.Addr().String() {
		return nil, fmt.Errorf("test stream: no wing at %s", addr)
	}
	return net.DialTimeout("tcp", string(addr), timeout)
}

// errNoPeers is what the test node's client answers every call with.
var errNoPeers = errors.New("test client: no other wing")

// leadingNode starts a site of one wing, A, that leads it, with a real
// store in a temporary folder; every request to its site API is from
// wing B. It calls no other wing.
func leadingNode(t testing.TB) *Node {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return nil, errNoPeers }}}
	n, err := Start(Config{
		Wing: "A", Dir: filepath.Join(dir, "raft"), Store: st, Stream: loopbackStream{ln}, Advertise: ln.Addr().String(),
		Client: client, PeerWing: func(*http.Request) (string, error) { return "B", nil }, Bootstrap: true, Log: quiet(),
	})
	require.NoError(t, err)
	t.Cleanup(func() { n.Close() })
	require.Eventually(t, func() bool {
		a := n.fsm.snapshot().Agreed
		_, listed := a.Wings["A"]
		return n.raft.State() == raft.Leader && listed && a.Rules > 0
	}, 10*time.Second, 10*time.Millisecond, "wing A leads its site, has listed itself in it, and the site applies the rules")
	return n
}

// TestSiteAPIRefusesBodiesItCannotRead: a peer's command or join that is
// larger than its limit is refused with 413 (not cut short and then
// read), one that is not JSON or has more after its value with 400;
// nothing is committed.
func TestSiteAPIRefusesBodiesItCannotRead(t *testing.T) {
	n := leadingNode(t)
	h := n.Handler()
	lockdown := `{"op": "lockdown", "by": "2001", "lockdown": {"active": true, "reason": "fight", "by": "2001", "since": "2026-12-01T09:00:00Z"}}`
	for _, c := range []struct {
		name, path, body string
		status           int
		says             string
	}{
		{"command too large", "/site/v1/command", strings.TrimSuffix(lockdown, "}") + `, "reason": "` + strings.Repeat("x", maxCommandBody) + `"}`, http.StatusRequestEntityTooLarge, "body: larger than 64 KiB"},
		{"command padded", "/site/v1/command", lockdown + strings.Repeat(" ", maxCommandBody), http.StatusRequestEntityTooLarge, "body: larger than"},
		{"command not JSON", "/site/v1/command", "op=lockdown", http.StatusBadRequest, "body: not JSON"},
		{"command and more", "/site/v1/command", lockdown + `{"op": "rollout.stop"}`, http.StatusBadRequest, "body: more follows the JSON value"},
		{"command cut short", "/site/v1/command", lockdown[:40], http.StatusBadRequest, "body: the JSON ends"},
		{"no command", "/site/v1/command", "", http.StatusBadRequest, "body: empty"},
		{"join too large", "/site/v1/join", `{"addr": "` + strings.Repeat("1", 5000) + `"}`, http.StatusRequestEntityTooLarge, "body: larger than"},
		{"join and more", "/site/v1/join", `{"addr": "127.0.0.1:1"} {"addr": "127.0.0.1:2"}`, http.StatusBadRequest, "body: more follows"},
		{"join without addr", "/site/v1/join", `{}`, http.StatusBadRequest, "addr: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := fmt.Sprint(n.fsm.snapshot().Agreed)
			servers, err := n.configuration()
			require.NoError(t, err)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, c.path, strings.NewReader(c.body)))
			assert.Equal(t, c.status, rec.Code)
			assert.Contains(t, rec.Body.String(), `{"error":"`+c.says)
			assert.Equal(t, before, fmt.Sprint(n.fsm.snapshot().Agreed), "nothing committed")
			after, err := n.configuration()
			require.NoError(t, err)
			assert.Equal(t, servers.Servers, after.Servers, "no wing added")
		})
	}

	// The same command, sent whole, is committed; a field this build does
	// not know (a newer wing's) is ignored, not refused.
	require.NoError(t, n.Propose(t.Context(), Command{Op: OpRoster, By: SiteIT, Roster: Roster{{ID: "2001", Role: roster.Supervisor}}}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/site/v1/command", strings.NewReader(strings.TrimSuffix(lockdown, "}")+`, "newer": 1}`)))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.True(t, n.fsm.snapshot().Agreed.Lockdown.Active)
}

// agreedButRefusals is what the site agreed but its list of refused
// commands: a command the rules refuse is answered 422 and changes that
// list alone.
func agreedButRefusals(n *Node) string {
	a := n.fsm.snapshot().Agreed
	a.Refused = nil
	return fmt.Sprint(a)
}

// FuzzSiteAPI drives the site API's whole handler, as a peer wing sees
// it, with fuzzed methods, paths, queries and bodies: it never panics,
// answers no 5xx but 503 (the store or raft failing, as documented in
// Handler), answers within a bounded time, and commits nothing when it
// refuses.
func FuzzSiteAPI(f *testing.F) {
	for _, s := range []struct{ method, target, body string }{
		{"GET", "/site/v1/status", ""},
		{"GET", "/site/v1/heads", ""},
		{"GET", "/site/v1/commits?after=0.0&limit=10", ""},
		{"GET", "/site/v1/commits?after=x&limit=0", ""},
		{"GET", "/site/v1/outbox?after=0&wait=1s", ""},
		{"GET", "/site/v1/outbox?after=-1&wait=forever", ""},
		{"POST", "/site/v1/command", `{"op": "lockdown", "lockdown": {"active": true, "reason": "fight", "by": "2001", "since": "2026-12-01T09:00:00Z"}}`},
		{"POST", "/site/v1/command", `{"op": "rollout.stop", "reason": "stop"} {}`},
		{"POST", "/site/v1/command", `{"op": "wing.remove", "wing": "A"}`},
		{"POST", "/site/v1/command", `{"op": "wing.add", "wing": "C"}`},
		{"POST", "/site/v1/join", `{"addr": "127.0.0.1:1"}`},
		{"POST", "/site/v1/join", `{"addr": ""}`},
		{"DELETE", "/site/v1/status", ""},
		{"GET", "/site/v1/../v1/status", ""},
	} {
		f.Add(s.method, s.target, s.body)
	}
	n := leadingNode(f)
	h := n.Handler()
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t") {
			return // not a request a server would hand its handler
		}
		if strings.HasPrefix(target, "/site/v1/join") {
			return // a join adds a raft server: each would stay, and slow the next
		}
		r, err := http.NewRequest(method, "http://wing-a"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		r = r.WithContext(ctx)
		before := agreedButRefusals(n)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, r)
		}()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("%s %s: no answer within 15 s", method, target)
		}
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if rec.Code >= 300 && agreedButRefusals(n) != before {
			t.Fatalf("%s %s %q: refused with %d, yet the site's agreed state changed", method, target, body, rec.Code)
		}
		if rec.Code >= 400 && !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"error":`)) && rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: %d without a sentence: %q", method, target, rec.Code, rec.Body)
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
