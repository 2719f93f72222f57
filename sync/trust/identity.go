package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"wingnode/appliance/datadir"
)

// File names inside an Identity's folder.
const (
	wingCertFile = "wing.crt"
	wingKeyFile  = "wing.key"
	siteCAFile   = "site-ca.crt"
)

// ALPN protocol names on the site port.
const (
	ProtoRaft = "wingnode-raft/1"
	ProtoHTTP = "http/1.1"
)

// Identity is this wing's key, certificate and the site CA certificate. Its
// methods are safe for concurrent use.
type Identity struct {
	wing, site string
	key        crypto.Signer
	cert       *x509.Certificate
	ca         *x509.Certificate
	roots      *x509.CertPool
	tlsCert    tls.Certificate
	revoked    atomic.Pointer[func(*big.Int) bool]
}

// NewIdentity creates the identity of the wing that holds the site CA: a new
// key and a certificate signed locally by a, stored in dir (key 0600). It
// refuses a wing id that is already enrolled (see ErrAlreadyEnrolled) and a
// dir that already holds an identity.
func NewIdentity(dir, wing string, a *Authority) (*Identity, error) {
	if err := refuseExisting(dir); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("trust: new identity: generate key: %w", err)
	}
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, fmt.Errorf("trust: new identity: lock %s: %w", a.dir, err)
	}
	der, err := a.issue(wing, key.Public())
	unlock()
	if err != nil {
		return nil, fmt.Errorf("trust: new identity: %w", err)
	}
	id, err := newIdentity(key, der, a.cert.Raw)
	if err != nil {
		return nil, fmt.Errorf("trust: new identity: %w", err)
	}
	if err := id.save(dir); err != nil {
		return nil, err
	}
	return id, nil
}

// LoadIdentity opens the identity in dir. The error wraps fs.ErrNotExist
// when this wing is not enrolled.
func LoadIdentity(dir string) (*Identity, error) {
	certPath := filepath.Join(dir, wingCertFile)
	b, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("trust: load identity from %s: %w", dir, err)
	}
	leaf, err := parseCertPEM(b)
	if err != nil {
		return nil, fmt.Errorf("trust: load identity: %s: %w", certPath, err)
	}
	ca, err := readCert(filepath.Join(dir, siteCAFile))
	if err != nil {
		return nil, fmt.Errorf("trust: load identity from %s: site CA: %w", dir, err)
	}
	k, err := readKey(filepath.Join(dir, wingKeyFile))
	if err != nil {
		return nil, fmt.Errorf("trust: load identity from %s: key: %w", dir, err)
	}
	key, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("trust: load identity from %s: unusable key type", dir)
	}
	id, err := newIdentity(key, leaf.Raw, ca.Raw)
	if err != nil {
		return nil, fmt.Errorf("trust: load identity from %s: %w", dir, err)
	}
	return id, nil
}

// newIdentity checks that the parts fit together: the key matches the
// certificate, the certificate is a wing certificate of the CA's site.
func newIdentity(key crypto.Signer, certDER, caDER []byte) (*Identity, error) {
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("wing certificate: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("site CA certificate: %w", err)
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, errors.New("the key does not match the wing certificate")
	}
	site, err := siteOf(ca)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	id := &Identity{site: site, key: key, cert: cert, ca: ca, roots: roots}
	id.tlsCert = tls.Certificate{Certificate: [][]byte{cert.Raw, ca.Raw}, PrivateKey: key, Leaf: cert}
	wing, err := id.verify([]*x509.Certificate{cert}, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, fmt.Errorf("wing certificate: %w", err)
	}
	id.wing = wing
	return id, nil
}

func refuseExisting(dir string) error {
	ok, err := exists(filepath.Join(dir, wingCertFile))
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	if ok {
		return fmt.Errorf("trust: %s already holds a wing identity; this wing is enrolled", dir)
	}
	return nil
}

// save writes the identity; the certificate goes last, because its presence
// is what "enrolled" means to LoadIdentity.
func (id *Identity) save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("trust: save identity: %w", err)
	}
	kp, err := keyPEM(id.key)
	if err != nil {
		return fmt.Errorf("trust: save identity: %w", err)
	}
	if err := datadir.WriteFile(filepath.Join(dir, siteCAFile), certPEM(id.ca.Raw), 0o644); err != nil {
		return fmt.Errorf("trust: save identity: %w", err)
	}
	if err := datadir.WriteFile(filepath.Join(dir, wingKeyFile), kp, 0o600); err != nil {
		return fmt.Errorf("trust: save identity: write key: %w", err)
	}
	if err := datadir.WriteFile(filepath.Join(dir, wingCertFile), certPEM(id.cert.Raw), 0o644); err != nil {
		return fmt.Errorf("trust: save identity: %w", err)
	}
	return nil
}

// Wing is this wing's id.
func (id *Identity) Wing() string { return id.wing }

// Site is the site's name.
func (id *Identity) Site() string { return id.site }

// Serial is the serial number of this wing's certificate, the number that
// decommissioning puts on the revocation list.
func (id *Identity) Serial() *big.Int { return new(big.Int).Set(id.cert.SerialNumber) }

// Certificate is this wing's certificate.
func (id *Identity) Certificate() *x509.Certificate { return id.cert }

// CA is the site CA certificate.
func (id *Identity) CA() *x509.Certificate { return id.ca }

// SetRevoked sets the check consulted on every handshake, in both
// directions, and by PeerWing on every request: it reports whether a serial
// is revoked (the decommissioned list held in raft). It must be fast and
// safe for concurrent use. nil revokes nothing.
func (id *Identity) SetRevoked(f func(serial *big.Int) bool) {
	if f == nil {
		id.revoked.Store(nil)
		return
	}
	id.revoked.Store(&f)
}

func (id *Identity) isRevoked(serial *big.Int) bool {
	f := id.revoked.Load()
	return f != nil && (*f)(serial)
}

// verify checks a peer's chain against the site CA, for usage, and returns
// the wing id. Validity dates are not enforced (see the package doc), so the
// check runs at a time inside the certificate's validity when the local
// clock is behind.
func (id *Identity) verify(certs []*x509.Certificate, usage x509.ExtKeyUsage) (string, error) {
	if len(certs) == 0 {
		return "", errors.New("no site certificate presented")
	}
	leaf := certs[0]
	at := time.Now()
	for _, c := range []*x509.Certificate{leaf, id.ca} {
		if at.Before(c.NotBefore) {
			at = c.NotBefore
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: id.roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		return "", fmt.Errorf("certificate %s is not from site %s: %w", leaf.SerialNumber.Text(16), id.site, err)
	}
	wing, err := wingOf(leaf, id.site)
	if err != nil {
		return "", err
	}
	if id.isRevoked(leaf.SerialNumber) {
		return "", fmt.Errorf("wing %s's certificate %s is revoked (decommissioned)", wing, leaf.SerialNumber.Text(16))
	}
	return wing, nil
}

// clientConfig is the TLS configuration for dialling a site port with the
// given ALPN protocol. The server is verified by the site CA and revocation,
// not by host name.
func (id *Identity) clientConfig(proto string) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.tlsCert},
		NextProtos:   []string{proto},
		// Peers are loopback or site addresses, not names: VerifyConnection
		// checks the chain against the site CA instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if _, err := id.verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth); err != nil {
				return fmt.Errorf("trust: site peer refused: %w", err)
			}
			if cs.NegotiatedProtocol != proto {
				return fmt.Errorf("trust: site peer does not speak %s", proto)
			}
			return nil
		},
	}
}

// dialTLS dials addr through dial and completes a TLS handshake for proto.
func (id *Identity) dialTLS(ctx context.Context, dial DialFunc, addr, proto string) (*tls.Conn, error) {
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, id.clientConfig(proto))
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// HTTPClient is an mTLS client for the site API (outbox pull, central pull)
// that presents this wing's certificate and verifies the server against the
// site CA. URLs are https://HOST:PORT/... with the peer's site port. A nil
// dial dials directly.
func (id *Identity) HTTPClient(dial DialFunc) *http.Client {
	if dial == nil {
		dial = Routes(nil)
	}
	return &http.Client{Transport: &http.Transport{
		DialTLSContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return id.dialTLS(ctx, dial, addr, ProtoHTTP)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
	}}
}
