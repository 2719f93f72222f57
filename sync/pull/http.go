package pull

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"wingnode/sync/trust"
)

// NewHTTPClient is an HTTP client for wings' off-board ports: it trusts a
// server whose certificate the site CA ca issued to a wing (checked by
// the CA and the wing named in it, not by host name, since wings are
// reached at addresses a certificate cannot know), and presents cert, a
// client certificate from `wingnode site client-cert`, when it is not nil.
func NewHTTPClient(ca *x509.Certificate, cert *tls.Certificate) *http.Client {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS13,
		// The chain is checked against the site CA below, by the wing
		// named in the certificate rather than by host name.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("pull: the wing presented no certificate")
			}
			if _, _, err := trust.VerifyWingCertificate(ca, cs.PeerCertificates[0].Raw); err != nil {
				return fmt.Errorf("pull: the server is not a wing of the site: %w", err)
			}
			return nil
		},
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:     cfg,
		MaxIdleConnsPerHost: 2,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   false,
	}}
}
