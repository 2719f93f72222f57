package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// SiteID is a site's id: the SHA-256 fingerprint of its CA certificate,
// in lower-case hex. Two sites never share one, even under one name.
func SiteID(ca *x509.Certificate) string {
	f := Fingerprint(ca)
	return hex.EncodeToString(f[:])
}

// SiteID is the id of this wing's site (see the function SiteID).
func (id *Identity) SiteID() string { return SiteID(id.ca) }

// Sign signs a SHA-256 digest with this wing's site key (ECDSA P-256,
// ASN.1). The signature verifies with the public key of Certificate(),
// which VerifyWingCertificate checks against the site CA.
func (id *Identity) Sign(digest []byte) ([]byte, error) {
	sig, err := id.key.Sign(rand.Reader, digest, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("trust: sign with wing %s's key: %w", id.wing, err)
	}
	return sig, nil
}

// VerifyWingCertificate checks that der is a wing certificate issued by
// the site CA ca and returns the wing it names, offline: no revocation
// list is consulted, and validity dates are not enforced (see the package
// doc).
func VerifyWingCertificate(ca *x509.Certificate, der []byte) (string, *x509.Certificate, error) {
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return "", nil, fmt.Errorf("trust: not a certificate: %w", err)
	}
	site, err := siteOf(ca)
	if err != nil {
		return "", nil, fmt.Errorf("trust: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	at := time.Now()
	for _, c := range []*x509.Certificate{leaf, ca} {
		if at.Before(c.NotBefore) {
			at = c.NotBefore
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return "", nil, fmt.Errorf("trust: certificate %s is not from site %s: %w", leaf.SerialNumber.Text(16), site, err)
	}
	wing, err := wingOf(leaf, site)
	if err != nil {
		return "", nil, fmt.Errorf("trust: %w", err)
	}
	return wing, leaf, nil
}

// ReadCA reads a site CA certificate from a PEM file (a wing's
// site/identity/site-ca.crt, or the copy site IT hands out with a client
// certificate).
func ReadCA(path string) (*x509.Certificate, error) {
	c, err := readCert(path)
	if err != nil {
		return nil, fmt.Errorf("trust: site CA certificate %s: %w", path, err)
	}
	if _, err := siteOf(c); err != nil {
		return nil, fmt.Errorf("trust: %s: %w", path, err)
	}
	return c, nil
}

// CertificatePEM is a certificate in PEM form, as ReadCA reads it.
func CertificatePEM(c *x509.Certificate) []byte { return certPEM(c.Raw) }

// ServerCertificate is this wing's certificate and key for a TLS server:
// the off-board port presents it to central systems and site IT.
func (id *Identity) ServerCertificate() tls.Certificate { return id.tlsCert }

// clientURI names a client of the site: a central system or site IT's
// tooling, with a certificate from the site CA for the off-board port.
func clientURI(site, name string) *url.URL {
	return &url.URL{Scheme: "wingnode", Host: site, Path: "/client/" + name}
}

// IssueClient issues a client certificate for the off-board port to the
// client name, with a new key: it returns both in PEM form (the key
// unencrypted: hand it over like a password) and the certificate's serial.
// The certificate works only once the site registers the client with
// that serial (site.OpAddClient), and stops when the site revokes it.
func (a *Authority) IssueClient(name string) (certificate, key []byte, serial *big.Int, err error) {
	if !event.ValidID(name) {
		return nil, nil, nil, fmt.Errorf("trust: client name %q: use 1-64 letters, digits, '.', '_' or '-'", name)
	}
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("trust: client key: %w", err)
	}
	if serial, err = newSerial(); err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{a.site}, OrganizationalUnit: []string{"client"}},
		NotBefore:    a.cert.NotBefore,
		NotAfter:     noExpiry,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		URIs:         []*url.URL{clientURI(a.site, name)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, priv.Public(), a.key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("trust: sign the client certificate: %w", err)
	}
	kp, err := keyPEM(priv)
	if err != nil {
		return nil, nil, nil, err
	}
	return certPEM(der), kp, serial, nil
}

// VerifyClientCertificate checks that a certificate presented on the
// off-board port was issued by the site CA ca to a client, and returns
// the client's name. Whether the client is registered and not revoked is
// the site's agreed state, checked by the caller.
func VerifyClientCertificate(ca *x509.Certificate, leaf *x509.Certificate) (string, error) {
	site, err := siteOf(ca)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	at := time.Now()
	for _, c := range []*x509.Certificate{leaf, ca} {
		if at.Before(c.NotBefore) {
			at = c.NotBefore
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return "", fmt.Errorf("trust: certificate %s is not from site %s: %w", leaf.SerialNumber.Text(16), site, err)
	}
	for _, u := range leaf.URIs {
		if u.Scheme != "wingnode" || u.Host != site {
			continue
		}
		if name, ok := strings.CutPrefix(u.Path, "/client/"); ok && event.ValidID(name) {
			return name, nil
		}
	}
	return "", fmt.Errorf("trust: certificate %s names no client of site %s (a wing's certificate is for the site port)", leaf.SerialNumber.Text(16), site)
}
