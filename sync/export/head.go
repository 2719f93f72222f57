package export

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"
)

// Head is the head of the site's commit order as one wing held it, signed
// with that wing's site key: at the place At, each wing's newest committed
// event. A verifier that reaches At in an export checks that it holds
// exactly those events; a head whose At lies beyond the export's end shows
// that the export's tail is missing.
//
// Body is what is signed; the other fields repeat it for readers, and a
// verifier checks that they agree with it.
type Head struct {
	Site      string         `json:"site"`
	Wing      string         `json:"wing"`
	At        string         `json:"at"`
	SignedAt  time.Time      `json:"signed_at"`
	Committed map[string]Tip `json:"committed"`
	// Body is the head's canonical encoding (base64 in JSON), documented
	// in docs/central.md.
	Body []byte `json:"body"`
	// Signature is ECDSA P-256 over SHA-256(Body), ASN.1 (base64 in JSON).
	Signature []byte `json:"signature"`
	// Certificate is the signing wing's site certificate, DER (base64 in
	// JSON), issued by the site CA.
	Certificate []byte `json:"certificate"`
}

// headMagic opens every head body, so that a wing's signature over a
// head can never be taken for its signature over anything else.
const headMagic = "wingnode-head"

// HeadVersion is the version of the head encoding written by this build.
const HeadVersion = 1

// Signer signs a SHA-256 digest with a wing's site key
// (trust.Identity.Sign).
type Signer func(digest []byte) ([]byte, error)

// SignHead makes the head of site at the place at, as wing holds it, and
// signs it: certificate is the wing's site certificate (DER).
func SignHead(site, wing string, at Cursor, committed map[string]Tip, now time.Time, certificate []byte, sign Signer) (Head, error) {
	h := Head{Site: site, Wing: wing, At: at.String(), SignedAt: signedAt(now), Committed: committed, Certificate: certificate}
	if h.Committed == nil {
		h.Committed = map[string]Tip{}
	}
	h.Body = encodeHead(site, wing, at, h.SignedAt, h.Committed)
	d := sha256.Sum256(h.Body)
	sig, err := sign(d[:])
	if err != nil {
		return Head{}, fmt.Errorf("export: sign the head: %w", err)
	}
	h.Signature = sig
	return h, nil
}

func encodeHead(site, wing string, at Cursor, t time.Time, committed map[string]Tip) []byte {
	b := appendString(nil, headMagic)
	b = append(b, HeadVersion)
	b = appendString(b, site)
	b = appendString(b, wing)
	b = binary.AppendVarint(b, t.UnixNano())
	b = binary.AppendUvarint(b, at.Index)
	b = binary.AppendUvarint(b, uint64(at.N))
	wings := slices.Sorted(maps.Keys(committed))
	b = binary.AppendUvarint(b, uint64(len(wings)))
	for _, w := range wings {
		b = appendString(b, w)
		t := committed[w]
		b = binary.AppendUvarint(b, t.Seq)
		b = append(b, t.Hash[:]...)
	}
	return b
}

// decodeHead reads a head body.
func decodeHead(b []byte) (Head, Cursor, error) {
	d := reader{b: b}
	var h Head
	if d.string() != headMagic {
		return h, Cursor{}, errors.New("the body is not a head")
	}
	if v := d.byte(); d.err == nil && v != HeadVersion {
		return h, Cursor{}, fmt.Errorf("head version %d is not known to this build (it reads version %d)", v, HeadVersion)
	}
	h.Site = d.string()
	h.Wing = d.string()
	h.SignedAt = time.Unix(0, d.varint()).UTC()
	at := Cursor{Index: d.uvarint()}
	n := d.uvarint()
	if n > 1<<32-1 {
		d.fail("place out of range")
	}
	at.N = uint32(n)
	at.Site = SiteTag(h.Site)
	h.At = at.String()
	count := d.uvarint()
	if count > 1<<16 {
		d.fail("too many wings")
	}
	h.Committed = map[string]Tip{}
	last := ""
	for i := uint64(0); i < count && d.err == nil; i++ {
		w := d.string()
		t := Tip{Seq: d.uvarint()}
		copy(t.Hash[:], d.bytes(len(t.Hash)))
		if i > 0 && w <= last {
			d.fail("wings not in order")
		}
		h.Committed[w], last = t, w
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("trailing bytes")
	}
	return h, at, d.err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes the binary forms of this package.
type reader struct {
	b   []byte
	err error
}

func (d *reader) fail(what string) {
	if d.err == nil {
		d.err = errors.New(what)
	}
}

func (d *reader) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *reader) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *reader) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *reader) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// blob reads a length-prefixed byte string of at most max bytes.
func (d *reader) blob(max int) []byte {
	n := d.uvarint()
	if n > uint64(max) {
		d.fail("a field too long")
		return nil
	}
	return d.bytes(int(n))
}

func (d *reader) string() string {
	v := d.blob(1024)
	if d.err == nil && !utf8.Valid(v) {
		d.fail("a string that is not UTF-8")
	}
	return string(v)
}

// CommittedSeqs returns each wing's seq in tips, as a page's Committed.
func CommittedSeqs(tips map[string]Tip) map[string]uint64 {
	out := make(map[string]uint64, len(tips))
	for w, t := range tips {
		out[w] = t.Seq
	}
	return out
}
