package trust

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"
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
