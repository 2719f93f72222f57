package trust

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const testSite = "hmp-test"

// wingServer is one wing's site port on 127.0.0.1 with the site API.
type wingServer struct {
	id   *Identity
	sl   *SiteListener
	addr string
}

// serve runs a site port for id. enrol, when non-nil, is mounted at
// EnrolPath; /site/v1/whoami answers the caller's wing id from PeerWing.
func serve(t *testing.T, id *Identity, enrol http.Handler, dial DialFunc) *wingServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := Listen(ln, id, dial)
	mux := http.NewServeMux()
	if enrol != nil {
		mux.Handle(EnrolPath, enrol)
	}
	mux.HandleFunc("GET /site/v1/whoami", func(w http.ResponseWriter, r *http.Request) {
		wing, err := PeerWing(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		io.WriteString(w, wing)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go sl.Serve(srv)
	t.Cleanup(func() {
		srv.Close()
		sl.Close()
	})
	return &wingServer{id: id, sl: sl, addr: ln.Addr().String()}
}

// testSiteCA is a site CA with a clock the test can move.
type testSiteCA struct {
	auth   *Authority
	dir    string
	offset atomic.Int64 // added to time.Now, in ns
}

func newSite(t *testing.T) *testSiteCA {
	t.Helper()
	dir := t.TempDir()
	a, err := InitSite(dir, testSite)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSiteCA{auth: a, dir: dir}
	a.now = func() time.Time { return time.Now().Add(time.Duration(s.offset.Load())) }
	return s
}

func (s *testSiteCA) identity(t *testing.T, wing string) *Identity {
	t.Helper()
	id, err := NewIdentity(t.TempDir(), wing, s.auth)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *testSiteCA) token(t *testing.T, addr string) string {
	t.Helper()
	tok, err := s.auth.IssueToken(addr, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// whoami asks srv for the caller's wing id with client c.
func whoami(c *http.Client, addr string) (string, int, error) {
	resp, err := c.Get("https://" + addr + "/site/v1/whoami")
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), resp.StatusCode, err
}

// refusedByPeer reports whether c was refused by its peer: in TLS 1.3 the
// client finishes its handshake before the server checks the client
// certificate, so the refusal arrives on the first read.
func refusedByPeer(t *testing.T, c net.Conn) bool {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte{0})
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("peer neither refused nor answered: %v", err)
	}
	return err != nil
}

// quietLog discards what the code under test logs.
func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }
