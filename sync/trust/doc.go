// Package trust is the site's chain of trust: the site certificate
// authority, one-time enrolment tokens, wing certificates, and the one TCP
// port per wing that carries raft and the site HTTP API over mutual TLS,
// split by ALPN.
//
// # Files
//
// An [Authority] lives in the folder of the wing that initialised the site:
// ca.crt, ca.key (0600), tokens/ (the SHA-256 of each token secret with its
// expiry; never the secret) and issued/ (every certificate issued, per
// wing). An [Identity] lives in a folder of every wing: wing.crt, wing.key
// (0600) and site-ca.crt. The two may share a folder.
//
// # Caveats
//
//   - Certificates never expire (NotAfter 9999-12-31) and NotBefore is not
//     enforced: boards boot with wrong clocks, and a handshake that fails
//     until NTP answers would cut a wing off the site. The control is
//     revocation: the decommissioned serials live in raft and are consulted
//     through [Identity.SetRevoked] on every handshake and by [PeerWing] on
//     every request.
//   - Peers are verified by the site CA and the wing id in the certificate's
//     URI (wingnode://SITE/wing/ID), never by host name.
//   - TLS session resumption is off, so every connection runs the full
//     check.
//   - A connection that was accepted before its peer was revoked stays open
//     until [SiteListener.CloseRevoked] is called; HTTP handlers are covered
//     by [PeerWing], which checks revocation on every request.
package trust
