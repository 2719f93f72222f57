package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
)

// File names inside an Authority's folder.
const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"
	tokensDir  = "tokens"
	issuedDir  = "issued"
)

// ErrAlreadyEnrolled is returned (wrapped) when a wing id already holds a
// certificate that is not revoked: decommission the wing first.
var ErrAlreadyEnrolled = errors.New("wing is already enrolled")

// noExpiry is RFC 5280's "no well-defined expiration date".
var noExpiry = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Authority is the site CA, held in a folder of the wing that initialised the
// site, or of the one wing its backup was restored on (see Backup). Its methods are safe for concurrent use, also against other
// processes using the same folder.
type Authority struct {
	dir     string
	site    string
	cert    *x509.Certificate
	key     crypto.Signer
	revoked atomic.Pointer[func(*big.Int) bool]
	// enrolled is the site's own record of enrolled wings, which a CA
	// restored from an older backup lacks in issued/.
	enrolled atomic.Pointer[func(wing string) bool]
	now      func() time.Time // tests move the clock
}

// InitSite creates the site CA (ECDSA P-256) in dir, creating dir if needed,
// with the key at mode 0600. It refuses when dir already holds a CA.
func InitSite(dir, site string) (*Authority, error) {
	if !event.ValidID(site) {
		return nil, fmt.Errorf("trust: site name %q: use 1-64 letters, digits, '.', '_' or '-'", site)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("trust: init site: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("trust: init site: lock %s: %w", dir, err)
	}
	defer unlock()
	for _, name := range []string{caCertFile, caKeyFile} {
		ok, err := exists(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("trust: init site: %w", err)
		}
		if ok {
			return nil, fmt.Errorf("trust: init site: %s already holds a site CA; use it, or move it away to start a new site", dir)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("trust: init site: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wingnode site CA " + site, Organization: []string{site}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              noExpiry,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		URIs:                  []*url.URL{siteURI(site)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("trust: init site: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("trust: init site: %w", err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{tokensDir, issuedDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("trust: init site: %w", err)
		}
	}
	// The key first: a CA certificate without its key would look like a site.
	if err := datadir.WriteFile(filepath.Join(dir, caKeyFile), kp, 0o600); err != nil {
		return nil, fmt.Errorf("trust: init site: write key: %w", err)
	}
	if err := datadir.WriteFile(filepath.Join(dir, caCertFile), certPEM(der), 0o644); err != nil {
		return nil, fmt.Errorf("trust: init site: write certificate: %w", err)
	}
	return &Authority{dir: dir, site: site, cert: cert, key: key, now: time.Now}, nil
}

// LoadAuthority opens the site CA in dir. The error wraps fs.ErrNotExist
// when dir holds no CA.
func LoadAuthority(dir string) (*Authority, error) {
	cert, err := readCert(filepath.Join(dir, caCertFile))
	if err != nil {
		return nil, fmt.Errorf("trust: load site CA from %s: %w", dir, err)
	}
	k, err := readKey(filepath.Join(dir, caKeyFile))
	if err != nil {
		return nil, fmt.Errorf("trust: load site CA key from %s: %w", dir, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok || !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("trust: load site CA from %s: the key does not match the certificate", dir)
	}
	site, err := siteOf(cert)
	if err != nil {
		return nil, fmt.Errorf("trust: load site CA from %s: %w", dir, err)
	}
	for _, d := range []string{tokensDir, issuedDir} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("trust: load site CA: %w", err)
		}
	}
	return &Authority{dir: dir, site: site, cert: cert, key: key, now: time.Now}, nil
}

// Site is the site's name.
func (a *Authority) Site() string { return a.site }

// Certificate is the site CA certificate.
func (a *Authority) Certificate() *x509.Certificate { return a.cert }

// Fingerprint is the SHA-256 of the CA certificate, as carried in tokens.
func (a *Authority) Fingerprint() [32]byte { return Fingerprint(a.cert) }

// SetRevoked sets the check for revoked serials (the decommissioned list in
// raft). A wing id may enrol again only when every certificate it was issued
// is revoked. Without a check, a wing id can never enrol twice.
func (a *Authority) SetRevoked(f func(serial *big.Int) bool) {
	if f == nil {
		a.revoked.Store(nil)
		return
	}
	a.revoked.Store(&f)
}

// SetEnrolled sets the check for wing ids the site holds as enrolled with a
// certificate it does not refuse (raft's record of the site's wings). Such
// a wing id is refused enrolment even when issued/ holds no certificate
// for it: a CA restored from a backup does not know the certificates
// issued after the backup was taken.
func (a *Authority) SetEnrolled(f func(wing string) bool) {
	if f == nil {
		a.enrolled.Store(nil)
		return
	}
	a.enrolled.Store(&f)
}

func (a *Authority) isRevoked(serial *big.Int) bool {
	f := a.revoked.Load()
	return f != nil && (*f)(serial)
}

// issue signs a wing certificate for pub. It refuses a wing id that holds an
// unrevoked certificate, and records the new certificate under issued/.
// The caller holds the folder lock.
func (a *Authority) issue(wing string, pub crypto.PublicKey) ([]byte, error) {
	if !event.ValidID(wing) {
		return nil, fmt.Errorf("wing id %q: use 1-64 letters, digits, '.', '_' or '-'", wing)
	}
	path := filepath.Join(a.dir, issuedDir, wing+".pem")
	prev, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read issued certificates of wing %s: %w", wing, err)
	}
	for rest := prev; len(rest) > 0; {
		var c *x509.Certificate
		c, rest, err = nextCert(rest)
		if err != nil {
			return nil, fmt.Errorf("read issued certificates of wing %s: %w", wing, err)
		}
		if c == nil {
			break
		}
		if !a.isRevoked(c.SerialNumber) {
			return nil, fmt.Errorf("%w: wing %s holds certificate %s; decommission it first (wingnode site decommission %s)", ErrAlreadyEnrolled, wing, c.SerialNumber.Text(16), wing)
		}
	}
	if f := a.enrolled.Load(); f != nil && (*f)(wing) {
		return nil, fmt.Errorf("%w: the site holds wing %s as enrolled; replace it first (wingnode site replace %s) or decommission it", ErrAlreadyEnrolled, wing, wing)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: wing, Organization: []string{a.site}},
		// Not before the CA: wing clocks are not trusted, see the package doc.
		NotBefore:   a.cert.NotBefore,
		NotAfter:    noExpiry,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:        []*url.URL{wingURI(a.site, wing)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, pub, a.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate: %w", err)
	}
	if err := datadir.WriteFile(path, append(prev, certPEM(der)...), 0o644); err != nil {
		return nil, fmt.Errorf("record certificate of wing %s: %w", wing, err)
	}
	return der, nil
}

func newSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("trust: serial: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // positive, never zero
}

func siteURI(site string) *url.URL { return &url.URL{Scheme: "wingnode", Host: site} }

func wingURI(site, wing string) *url.URL {
	return &url.URL{Scheme: "wingnode", Host: site, Path: "/wing/" + wing}
}

// siteOf reads the site name from a CA certificate's URI.
func siteOf(ca *x509.Certificate) (string, error) {
	for _, u := range ca.URIs {
		if u.Scheme == "wingnode" && (u.Path == "" || u.Path == "/") && event.ValidID(u.Host) {
			return u.Host, nil
		}
	}
	return "", errors.New("not a wingnode site CA certificate")
}

// wingOf reads the wing id from a wing certificate of site.
func wingOf(c *x509.Certificate, site string) (string, error) {
	for _, u := range c.URIs {
		if u.Scheme != "wingnode" || u.Host != site {
			continue
		}
		if id, ok := strings.CutPrefix(u.Path, "/wing/"); ok && event.ValidID(id) {
			return id, nil
		}
	}
	return "", fmt.Errorf("certificate %s names no wing of site %s", c.SerialNumber.Text(16), site)
}

func nextCert(b []byte) (*x509.Certificate, []byte, error) {
	for {
		blk, rest := pemDecode(b)
		if blk == nil {
			return nil, nil, nil
		}
		if blk.Type != "CERTIFICATE" {
			b = rest
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		return c, rest, err
	}
}

type publicKeyEqualer interface{ Equal(crypto.PublicKey) bool }

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(publicKeyEqualer)
	return ok && e.Equal(b)
}
