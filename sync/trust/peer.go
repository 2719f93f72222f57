package trust

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"weak"
)

// ErrNoPeer is returned (wrapped) by PeerWing when a request carries no
// verified, unrevoked site certificate.
var ErrNoPeer = errors.New("no verified site certificate")

// verified maps the leaf certificate of every connection that passed the
// handshake check to the Identity that checked it. It is keyed by a weak
// pointer, so an entry goes when the connection's certificate is collected.
var verified sync.Map // weak.Pointer[x509.Certificate] → *Identity

func register(leaf *x509.Certificate, id *Identity) {
	k := weak.Make(leaf)
	if _, loaded := verified.LoadOrStore(k, id); !loaded {
		runtime.AddCleanup(leaf, func(k weak.Pointer[x509.Certificate]) { verified.Delete(k) }, k)
	}
}

// PeerWing is the wing id of the client of a request served on a
// SiteListener's HTTP side: its certificate was verified against the site CA
// at the handshake, and it is checked against the revocation list again now,
// so a keep-alive connection of a wing decommissioned since is refused.
// Every site handler except enrolment calls it and answers 403 on error.
func PeerWing(r *http.Request) (string, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", fmt.Errorf("trust: %w: the request has no client certificate", ErrNoPeer)
	}
	leaf := r.TLS.PeerCertificates[0]
	v, ok := verified.Load(weak.Make(leaf))
	if !ok {
		return "", fmt.Errorf("trust: %w: the connection was not accepted by a site listener", ErrNoPeer)
	}
	id := v.(*Identity)
	if id.isRevoked(leaf.SerialNumber) {
		return "", fmt.Errorf("trust: %w: certificate %s is revoked (decommissioned)", ErrNoPeer, leaf.SerialNumber.Text(16))
	}
	return wingOf(leaf, id.site)
}
