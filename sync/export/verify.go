package export

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"wingnode/appliance/event"
	"wingnode/sync/trust"
)

// ErrBad is wrapped by every Problem: the export does not verify.
var ErrBad = errors.New("the export does not verify")

// Problem names the first record or head of an export that does not
// verify, and why.
type Problem struct {
	// Record counts the records read before the problem was found, plus
	// one when the problem is a record: the problem's record number.
	Record int
	// Cursor is the bad record's cursor, or the place of a bad head.
	Cursor string
	// Where is the file and line, when the export was read from files.
	Where  string
	Reason string
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString("export: ")
	if p.Where != "" {
		b.WriteString(p.Where + ": ")
	}
	if p.Record > 0 {
		fmt.Fprintf(&b, "record %d", p.Record)
		if p.Cursor != "" {
			fmt.Fprintf(&b, " (cursor %s)", p.Cursor)
		}
		b.WriteString(": ")
	} else if p.Cursor != "" {
		fmt.Fprintf(&b, "at %s: ", p.Cursor)
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Unwrap makes errors.Is(p, ErrBad) true.
func (p *Problem) Unwrap() error { return ErrBad }

// Report is what a verified export holds.
type Report struct {
	Site    string
	Records int
	Heads   int
	// First and Last are the cursors of the first and last record.
	First, Last string
	// Wings is each wing's newest event in the export.
	Wings map[string]Tip
	// Proven is the place of the newest signed head the records were
	// checked against: the export holds every committed event up to it.
	Proven string
	// From is where the export began: the start, or the state a single
	// file opened with.
	From State
}

// Verifier checks an export as it is read: every record's hash and its
// agreement with its body, each wing's chain without a gap, cursors in
// increasing order, and every signed head: its signature by a wing of the
// site, and, once the records reach its place, that they hold exactly the
// events it names. Finish reports a head beyond the last record: a cut
// tail. Feed records and heads in the order they were received.
type Verifier struct {
	ca      *x509.Certificate
	site    string
	state   State
	last    Cursor
	pending []pendingHead // heads ahead of the records, by place
	certs   map[string]signer
	rep     Report
	err     *Problem
}

type pendingHead struct {
	at   Cursor
	head Head
}

type signer struct {
	wing string
	key  *ecdsa.PublicKey
}

// NewVerifier checks an export of the site whose CA certificate is ca,
// from state (the zero State for an export from the start).
func NewVerifier(ca *x509.Certificate, from State) *Verifier {
	from = from.Clone()
	v := &Verifier{ca: ca, site: trust.SiteID(ca), state: from, certs: map[string]signer{}}
	v.rep.Site, v.rep.From = v.site, from.Clone()
	if c, err := ParseCursor(from.Cursor); from.Cursor != "" && err == nil {
		v.last = c
	}
	return v
}

// State is where the verifier stands: the cursor of the last record and
// each wing's newest event.
func (v *Verifier) State() State {
	s := v.state.Clone()
	s.Site = v.site
	return s
}

func (v *Verifier) fail(record bool, cursor, format string, args ...any) error {
	n := v.rep.Records
	if record {
		n++
	}
	v.err = &Problem{Record: n, Cursor: cursor, Reason: fmt.Sprintf(format, args...)}
	return v.err
}

// Record checks the next record. After a problem every call returns it.
func (v *Verifier) Record(r Record) error {
	if v.err != nil {
		return v.err
	}
	c, err := ParseCursor(r.Cursor)
	if err != nil {
		return v.fail(true, r.Cursor, "the cursor is unreadable: %v", err)
	}
	return v.record(&r, c, false)
}

// record checks the next record, at the place c, against the event its
// body holds: with decode, r.Event is set to that event; otherwise it
// must say what the body says.
func (v *Verifier) record(r *Record, c Cursor, decode bool) error {
	switch {
	case c.Site != SiteTag(v.site):
		return v.fail(true, r.Cursor, "the cursor is not of site %s", SiteTag(v.site))
	case c.Compare(v.last) <= 0:
		return v.fail(true, r.Cursor, "out of order: it follows %s", v.last)
	}
	e, err := DecodeBody(r.Body)
	if err != nil {
		return v.fail(true, r.Cursor, "the body is not an event's canonical encoding: %v", err)
	}
	switch {
	case decode:
		r.Event = e
	case r.Event.Hash != e.Hash: // DecodeBody's hash is the body's SHA-256
		return v.fail(true, r.Cursor, "event %s: its hash %s is not the SHA-256 of its body, %s (altered)", r.Event.ID(), r.Event.Hash, e.Hash)
	case !sameEvent(e, r.Event):
		return v.fail(true, r.Cursor, "event %s: its fields do not say what its body says (altered)", r.Event.ID())
	}
	if !v.state.Filtered {
		tip := v.state.Wings[e.Wing]
		switch {
		case e.Seq <= tip.Seq:
			return v.fail(true, r.Cursor, "event %s again: wing %s's seq %d was already read", e.ID(), e.Wing, tip.Seq)
		case e.Seq != tip.Seq+1:
			return v.fail(true, r.Cursor, "event %s follows wing %s's seq %d: seqs %d..%d are missing", e.ID(), e.Wing, tip.Seq, tip.Seq+1, e.Seq-1)
		case e.Prev != tip.Hash:
			return v.fail(true, r.Cursor, "event %s: its prev %s is not the hash of wing %s's seq %d, %s", e.ID(), e.Prev, e.Wing, tip.Seq, tip.Hash)
		}
	}
	if v.state.Wings == nil {
		v.state.Wings = map[string]Tip{}
	}
	v.state.Wings[e.Wing] = Tip{Seq: e.Seq, Hash: e.Hash}
	v.state.Cursor, v.last = r.Cursor, c
	v.rep.Records++
	if v.rep.First == "" {
		v.rep.First = r.Cursor
	}
	v.rep.Last = r.Cursor
	for len(v.pending) > 0 && v.pending[0].at.Compare(v.last) <= 0 {
		p := v.pending[0]
		v.pending = v.pending[1:]
		if p.at.Compare(v.last) < 0 {
			return v.fail(false, p.head.At, "the head signed by wing %s names a place that is not in the export (records were removed or reordered)", p.head.Wing)
		}
		if err := v.match(p.head); err != nil {
			return err
		}
	}
	return nil
}

// Page checks p as the page of a pull that follows what the verifier has
// read: it is of the site, each of its records, then its head; a page
// from the start of the order that names a floor begins the chains
// there. The verifier's state then stands at p.Next, where the pull goes
// on (a filtered page moves on past what did not match). After a problem
// every call returns it.
func (v *Verifier) Page(p Page) error {
	if err := v.pageStart(p); err != nil {
		return err
	}
	for _, r := range p.Records {
		if err := v.Record(r); err != nil {
			return err
		}
	}
	return v.pageEnd(p)
}

// ReadBinary reads a page in its binary form (see the package's
// ReadBinary) and checks it as Page does, decoding each record's event
// once, from its body, as it checks it. It returns the page only when all
// of it verifies.
func (v *Verifier) ReadBinary(b []byte) (Page, error) {
	if v.err != nil {
		return Page{}, v.err
	}
	p, places, err := readBinary(b)
	if err != nil {
		return Page{}, err
	}
	if err := v.pageStart(p); err != nil {
		return Page{}, err
	}
	for i := range p.Records {
		if err := v.record(&p.Records[i], places[i], true); err != nil {
			return Page{}, err
		}
	}
	if err := v.pageEnd(p); err != nil {
		return Page{}, err
	}
	return p, nil
}

func (v *Verifier) pageStart(p Page) error {
	if v.err != nil {
		return v.err
	}
	if p.Site != v.site {
		v.err = &Problem{Record: v.rep.Records, Reason: fmt.Sprintf("the page is of site %s, not %s", p.Site, v.site)}
		return v.err
	}
	if v.state.Cursor == "" && len(v.state.Wings) == 0 && len(p.Floor) > 0 {
		// Retention removed the oldest events: the chains begin after the
		// floor the wing names (the signed heads still prove the rest).
		v.state.Wings = maps.Clone(p.Floor)
	}
	return nil
}

func (v *Verifier) pageEnd(p Page) error {
	if err := v.Head(p.Head); err != nil {
		return err
	}
	v.state.Cursor = p.Next
	return nil
}

// Head checks a signed head. After a problem every call returns it.
func (v *Verifier) Head(h Head) error {
	if v.err != nil {
		return v.err
	}
	body, at, err := v.checkHead(h)
	if err != nil {
		return v.fail(false, h.At, "%v", err)
	}
	v.rep.Heads++
	if v.state.Filtered {
		return nil
	}
	switch at.Compare(v.last) {
	case -1:
		return v.fail(false, h.At, "the head signed by wing %s comes after records beyond its place %s (the export's order was changed)", body.Wing, body.At)
	case 0:
		return v.match(body)
	}
	i, _ := slices.BinarySearchFunc(v.pending, at, func(p pendingHead, at Cursor) int { return p.at.Compare(at) })
	v.pending = slices.Insert(v.pending, i, pendingHead{at: at, head: body})
	return nil
}

// checkHead verifies a head's certificate (once per certificate), its
// signature and its fields.
func (v *Verifier) checkHead(h Head) (Head, Cursor, error) {
	s, ok := v.certs[string(h.Certificate)]
	if !ok {
		wing, cert, err := trust.VerifyWingCertificate(v.ca, h.Certificate)
		if err != nil {
			return Head{}, Cursor{}, fmt.Errorf("the head's certificate: %w", err)
		}
		key, isECDSA := cert.PublicKey.(*ecdsa.PublicKey)
		if !isECDSA {
			return Head{}, Cursor{}, errors.New("the head's certificate holds no ECDSA key")
		}
		s = signer{wing: wing, key: key}
		v.certs[string(h.Certificate)] = s
	}
	return checkSigned(v.site, s, h)
}

// CheckHead verifies one head against the site CA certificate ca: its
// certificate is a wing certificate of the site, its signature over the
// body is that wing's, and its fields say what the body says. It returns
// the head as its body has it, and its place.
func CheckHead(ca *x509.Certificate, h Head) (Head, Cursor, error) {
	return NewVerifier(ca, State{}).checkHead(h)
}

func checkSigned(site string, s signer, h Head) (Head, Cursor, error) {
	d := sha256.Sum256(h.Body)
	if !ecdsa.VerifyASN1(s.key, d[:], h.Signature) {
		return Head{}, Cursor{}, fmt.Errorf("the head's signature does not verify with wing %s's certificate (the head was altered)", s.wing)
	}
	body, at, err := decodeHead(h.Body)
	if err != nil {
		return Head{}, Cursor{}, fmt.Errorf("the head's body: %w", err)
	}
	body.Body, body.Signature, body.Certificate = h.Body, h.Signature, h.Certificate
	switch {
	case body.Site != site:
		return Head{}, Cursor{}, fmt.Errorf("the head is of site %s, not of the site CA's (%s)", body.Site, site)
	case body.Wing != s.wing:
		return Head{}, Cursor{}, fmt.Errorf("the head says wing %s signed it, but the certificate is wing %s's", body.Wing, s.wing)
	case h.Site != body.Site || h.Wing != body.Wing || h.At != body.At || !h.SignedAt.Equal(body.SignedAt) || !maps.Equal(h.Committed, body.Committed):
		return Head{}, Cursor{}, errors.New("the head's fields do not say what its signed body says (altered)")
	}
	return body, at, nil
}

// match checks that the records read so far hold exactly the events a
// head names at its place.
func (v *Verifier) match(h Head) error {
	for _, w := range slices.Sorted(maps.Keys(h.Committed)) {
		want, got := h.Committed[w], v.state.Wings[w]
		if got != want {
			return v.fail(false, h.At, "wing %s signed at %s that wing %s's newest committed event here is seq %d (%s), but the export holds seq %d (%s): records are missing or altered",
				h.Wing, h.SignedAt.Format("2006-01-02T15:04:05Z07:00"), w, want.Seq, want.Hash, got.Seq, got.Hash)
		}
	}
	for w, got := range v.state.Wings {
		if _, ok := h.Committed[w]; !ok && got.Seq > 0 {
			return v.fail(false, h.At, "wing %s signed that the site had committed nothing of wing %s here, but the export holds its seq %d", h.Wing, w, got.Seq)
		}
	}
	v.rep.Proven = h.At
	return nil
}

// Finish ends the check: a signed head beyond the last record means the
// export's tail is missing.
func (v *Verifier) Finish() (Report, error) {
	if v.err != nil {
		return v.rep, v.err
	}
	if len(v.pending) > 0 {
		p := v.pending[len(v.pending)-1]
		end := v.rep.Last
		if end == "" {
			end = "its start"
		}
		v.err = &Problem{Cursor: p.head.At, Reason: fmt.Sprintf("the export ends at %s, but wing %s signed at %s that the site had committed through %s: the records after the end are missing (removed, or the pull stopped before it caught up: pull again to complete it)",
			end, p.head.Wing, p.head.SignedAt.Format("2006-01-02T15:04:05Z07:00"), p.head.At)}
		return v.rep, v.err
	}
	v.rep.Wings = v.State().Wings
	return v.rep, nil
}

// sameEvent reports whether two events say the same: every field, the
// wall time as an instant.
func sameEvent(a, b event.Event) bool {
	return a.Wing == b.Wing && a.Seq == b.Seq && a.HLC == b.HLC && a.Wall.Equal(b.Wall) && a.ClockTrusted == b.ClockTrusted &&
		a.Kind == b.Kind && a.Subject == b.Subject && a.Actor == b.Actor && maps.Equal(a.Data, b.Data) &&
		bytes.Equal(a.Prev[:], b.Prev[:]) && a.Hash == b.Hash
}
