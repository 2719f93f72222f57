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
// wing), with last-backup once it was backed up. An [Identity] lives in a
// folder of every wing: wing.crt, wing.key (0600) and site-ca.crt. The two
// may share a folder.
//
// # The CA's backup
//
// The CA key is on one wing only: a wing that held it could mint
// certificates, so it is never copied to the others. Instead
// [Authority.Backup] seals the folder's files with a passphrase
// (argon2id, then XChaCha20-Poly1305, the header authenticated too), and
// [SealedAuthority.Restore] installs the backup on another wing of the
// same site — one whose site-ca.crt is the backup's CA — when the first
// is lost. The restored folder carries a "restored" marker: such a wing
// never forms a new site of its own. Tokens issued after the backup was
// taken are unknown to the restored CA, and so are certificates issued
// since; the site's raft record of its wings ([Authority.SetEnrolled])
// keeps such a wing id from being enrolled twice.
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
