// Package export is the site's event export as central systems receive
// and keep it: pages of committed events in the site's commit order
// (records, each with its canonical bytes), the cursor that resumes them,
// the signed head every page carries (the site's committed heads, signed
// by the answering wing's site key), the NDJSON files `wingnode pull`
// writes, and the offline check of all of it against the site CA
// certificate: hashes, each wing's chain without a gap, and the signed
// heads, which also prove that no tail was cut. It depends on neither the
// store nor raft, so an integrator's program imports it cheaply.
//
// # Caveats
//
// A head's signature proves what a wing of the site held; it does not
// prove that the wing was still trusted when it signed: an offline
// verifier has no revocation list. Cursors are positions, not evidence:
// the check holds them to increasing order, nothing more. A filtered page
// cannot prove continuity, so records of a filtered pull are checked for
// their hashes and heads for their signatures only.
package export
