package trust

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNoPeer is returned (wrapped) by PeerWing when a request carries no
// verified, unrevoked site certificate.
var ErrNoPeer = errors.New("no verified site certificate")

// checkedBy is the context key under which SiteListener.Serve records, for
// each connection, the Identity whose handshake check the connection passed.
// It belongs to the connection: nothing is kept once the connection ends.
type checkedBy struct{}

// PeerWing is the wing id of the client of a request served by
// SiteListener.Serve: its certificate was verified against the site CA at
// the handshake, and it is checked against the revocation list again now,
// so a keep-alive connection of a wing decommissioned since is refused.
// Every site handler except enrolment calls it and answers 403 on error.
func PeerWing(r *http.Request) (string, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return "", fmt.Errorf("trust: %w: the request has no client certificate", ErrNoPeer)
	}
	id, ok := r.Context().Value(checkedBy{}).(*Identity)
	if !ok {
		return "", fmt.Errorf("trust: %w: the connection was not accepted by a site listener", ErrNoPeer)
	}
	leaf := r.TLS.PeerCertificates[0]
	if id.isRevoked(leaf.SerialNumber) {
		return "", fmt.Errorf("trust: %w: certificate %s is revoked (decommissioned)", ErrNoPeer, leaf.SerialNumber.Text(16))
	}
	return wingOf(leaf, id.site)
}
