package offboard_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/wingtest"
	"wingnode/sync/offboard"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

type member struct {
	id      *trust.Identity
	clients map[string]site.ClientRecord
}

func (m member) Identity() *trust.Identity             { return m.id }
func (m member) Clients() map[string]site.ClientRecord { return m.clients }

func hash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

func TestRolesAndReadOnlyCentral(t *testing.T) {
	id, ca, err := wingtest.NewIdentity(t.TempDir(), "test", "A")
	require.NoError(t, err)
	certPEM, _, serial, err := ca.IssueClient("hq")
	require.NoError(t, err)
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(t, err)
	m := member{id: id, clients: map[string]site.ClientRecord{
		"hq":  {Role: site.RoleCentral, Serial: serial.String()},
		"it":  {Role: site.RoleSiteIT, TokenHash: hash("wnc_it")},
		"old": {Role: site.RoleSiteIT, TokenHash: hash("wnc_old"), Revoked: true},
	}}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := offboard.ClientOf(r)
		w.Write([]byte(c.Name + " " + c.By))
	})
	s := offboard.New(offboard.Config{Member: func() offboard.Member { return m }, Routes: []offboard.Route{
		{Pattern: "/read", Handler: ok, Roles: []string{site.RoleCentral, site.RoleSiteIT}},
		{Pattern: "/backup", Handler: ok, Roles: []string{site.RoleSiteIT}},
		{Pattern: "/change", Handler: ok, Roles: []string{site.RoleCentral, site.RoleSiteIT}, Writes: true},
		{Pattern: "/self", Handler: ok},
	}})
	ask := func(method, path, token string, withCert bool) (int, string) {
		r := httptest.NewRequest(method, path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		if withCert {
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	code, body := ask("GET", "/read", "", true)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "hq certificate", body)
	code, body = ask("GET", "/read", "wnc_it", false)
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, "it token", body)
	code, body = ask("GET", "/backup", "", true)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "has the role central, and /backup needs siteit")
	code, body = ask("POST", "/change", "", true)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "reads only")
	code, _ = ask("POST", "/change", "wnc_it", false)
	assert.Equal(t, http.StatusOK, code)
	code, body = ask("GET", "/read", "wnc_old", false)
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Contains(t, body, "revoked")
	code, _ = ask("GET", "/self", "", false)
	assert.Equal(t, http.StatusOK, code, "a route that authenticates itself is passed on")
	code, _ = ask("GET", "/nothing", "", false)
	assert.Equal(t, http.StatusNotFound, code)

	// A replaced certificate: the record holds another serial.
	m.clients["hq"] = site.ClientRecord{Role: site.RoleCentral, Serial: "1"}
	code, body = ask("GET", "/read", "", true)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Contains(t, body, "replaced or revoked")
}

func TestNoMemberYet(t *testing.T) {
	s := offboard.New(offboard.Config{Member: func() offboard.Member { return nil }, Routes: []offboard.Route{
		{Pattern: "/read", Handler: http.NotFoundHandler(), Roles: []string{site.RoleCentral}}}})
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/read", nil))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	_, err := s.TLSConfig().GetCertificate(nil)
	assert.Error(t, err, "no certificate to present before the wing has joined")
}

func TestRateLimitRefills(t *testing.T) {
	s := offboard.New(offboard.Config{Rate: 20, Burst: 2, Routes: []offboard.Route{{Pattern: "/self", Handler: http.NotFoundHandler()}}})
	codes := func() (out []int) {
		for range 3 {
			w := httptest.NewRecorder()
			s.ServeHTTP(w, httptest.NewRequest("GET", "/self", nil))
			out = append(out, w.Code)
		}
		return out
	}
	assert.Equal(t, []int{404, 404, 429}, codes())
	time.Sleep(150 * time.Millisecond) // refills 3 at 20 a second, capped at 2
	assert.Equal(t, []int{404, 404, 429}, codes())
}

// FuzzOffboard drives the off-board port's whole handler, with the
// site's pull behind it as the appliance mounts it, and fuzzed methods,
// paths, queries, bodies and credentials (site IT's token, a revoked one,
// a central client's certificate, or none): it never panics, answers no
// 5xx but 503, answers within a bounded time, and a route reached without
// a credential that allows it is never run.
func FuzzOffboard(f *testing.F) {
	for _, s := range []struct {
		method, target, body string
		cred                 uint8
	}{
		{"GET", "/api/v1/site/events?limit=2", "", 0},
		{"GET", "/api/v1/site/events?after=1.0", "", 1},
		{"POST", "/api/v1/site/events", `{"after": "1.0"}`, 1},
		{"GET", "/change", "", 2},
		{"POST", "/change", "x", 2},
		{"POST", "/change", "x", 0},
		{"GET", "/backup", "", 3},
		{"DELETE", "/api/v1/site/events", "", 0},
		{"GET", "/nothing", "", 0},
	} {
		f.Add(s.method, s.target, s.body, s.cred)
	}
	o := wingtest.StartOrder(f)
	o.MustCommit(f, "A", 3)
	id, ca, err := wingtest.NewIdentity(f.TempDir(), "test", "A")
	require.NoError(f, err)
	certPEM, _, serial, err := ca.IssueClient("hq")
	require.NoError(f, err)
	blk, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(blk.Bytes)
	require.NoError(f, err)
	m := member{id: id, clients: map[string]site.ClientRecord{
		"hq":  {Role: site.RoleCentral, Serial: serial.String()},
		"it":  {Role: site.RoleSiteIT, TokenHash: hash("wnc_it")},
		"old": {Role: site.RoleSiteIT, TokenHash: hash("wnc_old"), Revoked: true},
	}}
	var ran atomic.Int32
	changed := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran.Add(1); w.WriteHeader(http.StatusNoContent) })
	s := offboard.New(offboard.Config{Member: func() offboard.Member { return m }, Rate: 1e9, Burst: 1 << 30, Log: slog.New(slog.DiscardHandler),
		Routes: []offboard.Route{
			{Pattern: "/api/v1/site/events", Handler: o.Pull, Roles: []string{site.RoleCentral, site.RoleSiteIT}},
			{Pattern: "/change", Handler: changed, Roles: []string{site.RoleSiteIT}, Writes: true},
			{Pattern: "GET /backup", Handler: changed, Roles: []string{site.RoleSiteIT}},
		}})
	f.Fuzz(func(t *testing.T, method, target, body string, cred uint8) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || strings.Contains(target, "wait") {
			return // not a request a server would hand its handler; a long poll slows the fuzzer
		}
		r, err := http.NewRequest(method, "https://wing-a"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.RemoteAddr = "192.0.2.9:5000"
		allowed := false // may the credential call /change and /backup?
		switch cred % 4 {
		case 1:
			r.Header.Set("Authorization", "Bearer wnc_it")
			allowed = true
		case 2:
			r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		case 3:
			r.Header.Set("Authorization", "Bearer wnc_old")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r = r.WithContext(ctx)
		before := ran.Load()
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.ServeHTTP(rec, r)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: no answer within 10 s", method, target)
		}
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
		if ran.Load() != before && !allowed {
			t.Fatalf("%s %s with credential %d: a site IT route ran", method, target, cred%4)
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
