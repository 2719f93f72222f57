package offboard_test

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
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
