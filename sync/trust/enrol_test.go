package trust

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestEnrolSecondWing(t *testing.T) {
	s := newSite(t)
	a := s.identity(t, "A")
	srvA := serve(t, a, s.auth.EnrolHandler(quietLog()), nil)

	dirB := t.TempDir()
	b, err := Join(ctx(t), dirB, "B", s.token(t, srvA.addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Wing() != "B" || b.Site() != testSite {
		t.Fatalf("joined as wing %q of site %q", b.Wing(), b.Site())
	}
	if b.Serial().Cmp(a.Serial()) == 0 {
		t.Fatal("two wings share a serial")
	}

	loaded, err := LoadIdentity(dirB)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Wing() != "B" || loaded.Serial().Cmp(b.Serial()) != 0 {
		t.Fatalf("reloaded wing %q serial %v", loaded.Wing(), loaded.Serial())
	}
	info, err := os.Stat(filepath.Join(dirB, wingKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("wing key mode %v, want 0600", info.Mode().Perm())
	}

	// B talks to A, and A to B, each seeing the other's wing id.
	if wing, code, err := whoami(b.HTTPClient(nil), srvA.addr); err != nil || code != 200 || wing != "B" {
		t.Fatalf("B at A: %q %d %v", wing, code, err)
	}
	srvB := serve(t, loaded, nil, nil)
	if wing, code, err := whoami(a.HTTPClient(nil), srvB.addr); err != nil || code != 200 || wing != "A" {
		t.Fatalf("A at B: %q %d %v", wing, code, err)
	}
	// Already enrolled: Join refuses to overwrite the identity.
	if _, err := Join(ctx(t), dirB, "B", s.token(t, srvA.addr), nil); err == nil {
		t.Fatal("Join overwrote an existing identity")
	}
}

func TestTokenReuseRefused(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv.addr)
	if _, err := Join(ctx(t), t.TempDir(), "B", tok, nil); err != nil {
		t.Fatal(err)
	}
	_, err := Join(ctx(t), t.TempDir(), "C", tok, nil)
	var ee *EnrolError
	if !errors.As(err, &ee) || ee.Status != http.StatusForbidden || ee.Message != ErrEnrolmentRefused.Error() {
		t.Fatalf("reused token: %v", err)
	}
	assertNoSecret(t, err.Error(), tok)
}

func TestExpiredTokenRefused(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv.addr) // one minute
	s.offset.Store(int64(2 * time.Minute))
	_, err := Join(ctx(t), t.TempDir(), "B", tok, nil)
	var ee *EnrolError
	if !errors.As(err, &ee) || ee.Status != http.StatusForbidden || ee.Message != ErrEnrolmentRefused.Error() {
		t.Fatalf("expired token: %v", err)
	}
	assertNoSecret(t, err.Error(), tok)
}

func TestUnknownTokenRefused(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	forged := Token{Addr: srv.addr, CAFingerprint: s.auth.Fingerprint()}
	forged.secret[0] = 1
	_, err := Join(ctx(t), t.TempDir(), "B", forged.encode(), nil)
	var ee *EnrolError
	if !errors.As(err, &ee) || ee.Status != http.StatusForbidden || ee.Message != ErrEnrolmentRefused.Error() {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestWrongFingerprintRefusedByJoiner(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv.addr)
	parsed, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	parsed.CAFingerprint[0] ^= 0xff // another site's CA, or a device in between
	dir := t.TempDir()
	_, err = Join(ctx(t), dir, "B", parsed.encode(), nil)
	if !errors.Is(err, ErrCAMismatch) {
		t.Fatalf("wrong fingerprint: %v", err)
	}
	if _, err := LoadIdentity(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("identity stored after a refused enrolment: %v", err)
	}
	// The secret never left the joiner, so the real token still works.
	if _, err := Join(ctx(t), dir, "B", tok, nil); err != nil {
		t.Fatalf("token consumed by a refused handshake: %v", err)
	}
}

func TestWingAlreadyEnrolled(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv.addr)
	_, err := Join(ctx(t), t.TempDir(), "A", tok, nil)
	var ee *EnrolError
	if !errors.As(err, &ee) || ee.Status != http.StatusForbidden || ee.Message != ErrEnrolmentRefused.Error() {
		t.Fatalf("duplicate wing id: %v", err)
	}
	// A conflict does not consume the token.
	b, err := Join(ctx(t), t.TempDir(), "B", tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Once B's certificate is revoked, wing id B may enrol again.
	s.auth.SetRevoked(func(serial *big.Int) bool { return serial.Cmp(b.Serial()) == 0 })
	b2, err := Join(ctx(t), t.TempDir(), "B", s.token(t, srv.addr), nil)
	if err != nil {
		t.Fatalf("re-enrolling a decommissioned wing: %v", err)
	}
	if b2.Serial().Cmp(b.Serial()) == 0 {
		t.Fatal("re-enrolment reused the revoked serial")
	}
}

func TestEnrolRefusesMalformedRequests(t *testing.T) {
	s := newSite(t)
	srv := serve(t, s.identity(t, "A"), s.auth.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv.addr)
	parsed, _ := ParseToken(tok)
	secret := base64.RawURLEncoding.EncodeToString(parsed.secret[:])
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	url := "https://" + srv.addr + EnrolPath
	for _, tc := range []struct {
		name, body, want string
		code             int
	}{
		{"not json", "{", "malformed enrolment request", 400},
		{"too large", `{"secret":"` + secret + `","wing":"B","csr":"` + strings.Repeat("A", maxEnrolBody) + `"}`, "body: larger than 64 KiB", 413},
		{"more after it", `{"secret":"` + secret + `","wing":"B","csr":""} {"wing":"C"}`, "body: more follows the JSON value", 400},
		{"another field", `{"secret":"` + secret + `","wing":"B","csr":"","role":"ca"}`, "role: not a field of this request", 400},
		{"bad secret", `{"secret":"x","wing":"B","csr":""}`, "secret", 400},
		{"bad wing", `{"secret":"` + secret + `","wing":"B wing","csr":""}`, "wing id", 400},
		{"no csr", `{"secret":"` + secret + `","wing":"B","csr":"nope"}`, "certificate request", 400},
		{"garbage csr", `{"secret":"` + secret + `","wing":"B","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}`, "malformed certificate request", 400},
	} {
		resp, err := c.Post(url, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %q", tc.name, resp.StatusCode, b)
		}
		assertNoSecret(t, string(b), tok)
	}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
	// None of that consumed the token.
	if _, err := Join(ctx(t), t.TempDir(), "B", tok, nil); err != nil {
		t.Fatal(err)
	}
}

// Two Authority values on one folder (as the appliance and a second process
// would be) and two concurrent joins with one token: exactly one wins.
func TestTokenSingleUseAcrossAuthorities(t *testing.T) {
	s := newSite(t)
	other, err := LoadAuthority(s.dir)
	if err != nil {
		t.Fatal(err)
	}
	a := s.identity(t, "A")
	srv1 := serve(t, a, s.auth.EnrolHandler(quietLog()), nil)
	srv2 := serve(t, a, other.EnrolHandler(quietLog()), nil)
	tok := s.token(t, srv1.addr)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, dial := range []DialFunc{nil, Routes(map[string]string{srv1.addr: srv2.addr})} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Join(ctx(t), t.TempDir(), []string{"B", "C"}[i], tok, dial)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("want exactly one success: %v, %v", errs[0], errs[1])
	}
}

func TestInitAndLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadAuthority(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty folder: %v", err)
	}
	if _, err := LoadIdentity(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty folder: %v", err)
	}
	if _, err := InitSite(dir, "bad site"); err == nil {
		t.Fatal("accepted a site name with a space")
	}
	a, err := InitSite(dir, testSite)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InitSite(dir, testSite); err == nil || !strings.Contains(err.Error(), "already holds a site CA") {
		t.Fatalf("second InitSite: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, caKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("CA key mode %v", info.Mode().Perm())
	}
	b, err := LoadAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	if b.Site() != testSite || b.Fingerprint() != a.Fingerprint() {
		t.Fatalf("reloaded site %q", b.Site())
	}
	// The identity may share the folder.
	id, err := NewIdentity(dir, "A", b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewIdentity(dir, "A2", b); err == nil {
		t.Fatal("NewIdentity overwrote an identity")
	}
	if _, err := NewIdentity(t.TempDir(), "A", b); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("second identity for wing A: %v", err)
	}
	got, err := LoadIdentity(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Wing() != "A" || got.Site() != testSite || got.Serial().Cmp(id.Serial()) != 0 {
		t.Fatalf("loaded %s/%s", got.Site(), got.Wing())
	}
}

// The stored token is its hash: no file in the CA folder holds the secret.
func TestTokenSecretNotStored(t *testing.T) {
	s := newSite(t)
	tok := s.token(t, "127.0.0.1:7000")
	parsed, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	needles := [][]byte{parsed.secret[:], []byte(tok), []byte(base64.RawURLEncoding.EncodeToString(parsed.secret[:]))}
	err = filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s holds the token secret", p)
			}
		}
		if strings.HasPrefix(p, filepath.Join(s.dir, tokensDir)) {
			if info, _ := d.Info(); info.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v", p, info.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(parsed.String(), base64.RawURLEncoding.EncodeToString(parsed.secret[:])) {
		t.Fatal("Token.String prints the secret")
	}
	if _, err := s.auth.IssueToken("no-port", time.Minute); err == nil {
		t.Fatal("accepted an address without a port")
	}
	if _, err := s.auth.IssueToken("127.0.0.1:7000", 0); err == nil {
		t.Fatal("accepted a zero lifetime")
	}
}

func assertNoSecret(t *testing.T, s, tok string) {
	t.Helper()
	parsed, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, tok) || strings.Contains(s, strings.TrimPrefix(tok, tokenPrefix)) ||
		strings.Contains(s, base64.RawURLEncoding.EncodeToString(parsed.secret[:])) {
		t.Fatalf("message reveals the token: %s", s)
	}
}

// FuzzEnrol drives the enrolment handler with fuzzed methods, paths and
// bodies, some holding the real token's secret: it never panics, answers
// no 5xx, answers within a bounded time, and a refused request leaves the
// token unused.
func FuzzEnrol(f *testing.F) {
	a, err := InitSite(f.TempDir(), testSite)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := a.IssueToken("127.0.0.1:8443", time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	parsed, _ := ParseToken(tok)
	secret := base64.RawURLEncoding.EncodeToString(parsed.secret[:])
	for _, s := range []struct{ method, path, body string }{
		{"POST", EnrolPath, `{"secret":"` + secret + `","wing":"B","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}`},
		{"POST", EnrolPath, `{"secret":"SECRET","wing":"B","csr":""} {}`},
		{"POST", EnrolPath, `{"secret":"x","wing":"B wing","csr":""}`},
		{"POST", EnrolPath, "{"},
		{"GET", EnrolPath, ""},
		{"POST", "/site/v1/enrol/x", ""},
	} {
		f.Add(s.method, s.path, s.body)
	}
	h := a.EnrolHandler(quietLog())
	f.Fuzz(func(t *testing.T, method, path, body string) {
		body = strings.ReplaceAll(body, "SECRET", secret) // lets the fuzzer keep the real secret
		r := httptest.NewRequest(http.MethodGet, EnrolPath, strings.NewReader(body))
		r.Method, r.URL.Path = method, path
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, r)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s %s: no answer within 10 s", method, path)
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK {
			if err := a.checkToken(parsed.secret[:]); err != nil {
				t.Fatalf("%s %s: refused with %d, yet the token is spent: %v", method, path, rec.Code, err)
			}
		}
		assertNoSecret(t, rec.Body.String(), tok)
	})
}
