package event

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

// EncodingVersion is the version byte of the canonical encoding written by
// this build. Decode refuses versions it does not know.
const EncodingVersion = 1

const flagClockTrusted = 1 << 0

// Limits on what an event may hold. Events are small by design: they carry
// identifiers, not documents.
const (
	MaxStringLen  = 256
	MaxDataFields = 16
)

// ErrMalformed is returned (wrapped) by Decode for bytes that are not a
// valid canonical encoding.
var ErrMalformed = errors.New("malformed event encoding")

// Marshal returns the stored form of e: its canonical encoding followed by its hash.
func (e Event) Marshal() []byte {
	b := e.encodeBody(make([]byte, 0, 128))
	return append(b, e.Hash[:]...)
}

// Body returns the canonical encoding of e, which Hash is the SHA-256 of.
// Its layout is documented in docs/site.md for readers that verify events
// without this package.
func (e Event) Body() []byte { return e.encodeBody(nil) }

func (e Event) encodeBody(b []byte) []byte {
	b = append(b, EncodingVersion)
	b = appendString(b, e.Wing)
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendVarint(b, e.HLC.WallNanos)
	b = binary.AppendUvarint(b, uint64(e.HLC.Logical))
	b = binary.AppendVarint(b, e.Wall.UnixNano())
	var flags byte
	if e.ClockTrusted {
		flags |= flagClockTrusted
	}
	b = append(b, flags)
	b = appendString(b, string(e.Kind))
	b = appendString(b, e.Subject)
	b = appendString(b, e.Actor)
	keys := slices.Sorted(maps.Keys(e.Data))
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, e.Data[k])
	}
	return append(b, e.Prev[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Unmarshal decodes the stored form written by Marshal. It checks the form,
// not the hash: use Verify for that.
func Unmarshal(b []byte) (Event, error) {
	e, rest, err := decodeBody(b)
	switch {
	case err != nil:
		return Event{}, err
	case len(rest) < len(e.Hash):
		return Event{}, fmt.Errorf("%w: truncated", ErrMalformed)
	case len(rest) > len(e.Hash):
		return Event{}, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	copy(e.Hash[:], rest)
	return e, nil
}

// UnmarshalBody decodes a canonical encoding, as Body returns it; the
// event's Hash is the SHA-256 of body.
func UnmarshalBody(body []byte) (Event, error) {
	e, rest, err := decodeBody(body)
	switch {
	case err != nil:
		return Event{}, err
	case len(rest) > 0:
		return Event{}, fmt.Errorf("%w: trailing bytes", ErrMalformed)
	}
	e.Hash = sha256.Sum256(body)
	return e, nil
}

// decodeBody decodes the canonical encoding at the start of b and returns
// what follows it. The event's strings share one copy of b.
func decodeBody(b []byte) (Event, []byte, error) {
	d := decoder{b: b, text: string(b)}
	var e Event
	if v := d.byte(); d.err == nil && v != EncodingVersion {
		return Event{}, nil, fmt.Errorf("%w: encoding version %d is not known to this build (it reads version %d)", ErrMalformed, v, EncodingVersion)
	}
	e.Wing = d.string()
	e.Seq = d.uvarint()
	e.HLC.WallNanos = d.varint()
	logical := d.uvarint()
	if logical > 1<<32-1 {
		d.fail("logical counter out of range")
	}
	e.HLC.Logical = uint32(logical)
	e.Wall = time.Unix(0, d.varint()).UTC()
	flags := d.byte()
	if flags&^flagClockTrusted != 0 {
		d.fail("unknown flags")
	}
	e.ClockTrusted = flags&flagClockTrusted != 0
	e.Kind = Kind(d.string())
	e.Subject = d.string()
	e.Actor = d.string()
	n := d.uvarint()
	if n > MaxDataFields {
		d.fail("too many data fields")
	}
	if n > 0 && d.err == nil {
		e.Data = make(map[string]string, n)
		last := ""
		for i := uint64(0); i < n && d.err == nil; i++ {
			k, v := d.string(), d.string()
			if i > 0 && k <= last {
				d.fail("data keys not in canonical order")
			}
			e.Data[k], last = v, k
		}
	}
	copy(e.Prev[:], d.bytes(len(e.Prev)))
	if d.err != nil {
		return Event{}, nil, d.err
	}
	return e, d.b, nil
}

// decoder reads b; text is all of the input as one string, which the
// strings read are cut from.
type decoder struct {
	b    []byte
	text string
	err  error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if v := d.bytes(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	if !shortest(d.b[:n]) {
		d.fail("number not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// shortest reports whether a varint's bytes are its shortest form: one
// byte, or a last byte that holds some of the number.
func shortest(b []byte) bool { return len(b) == 1 || b[len(b)-1] != 0 }

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	if !shortest(d.b[:n]) {
		d.fail("number not in its shortest form")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > MaxStringLen {
		d.fail("string too long")
		return ""
	}
	at := len(d.text) - len(d.b)
	v := d.bytes(int(n))
	if d.err != nil {
		return ""
	}
	if !utf8.Valid(v) {
		d.fail("string is not UTF-8")
		return ""
	}
	return d.text[at : at+len(v)]
}

// Check reports whether a draft can be recorded: a known kind, and
// identifiers and data within the limits.
func (d Draft) Check() error {
	if _, err := ParseKind(string(d.Kind)); err != nil {
		return err
	}
	if d.Subject == "" {
		return fmt.Errorf("event: %s needs a subject", d.Kind)
	}
	if d.Actor == "" {
		return fmt.Errorf("event: %s needs an actor (an officer id, or %q)", d.Kind, SystemActor)
	}
	if len(d.Data) > MaxDataFields {
		return fmt.Errorf("event: %d data fields, at most %d", len(d.Data), MaxDataFields)
	}
	for _, s := range append([]string{d.Subject, d.Actor}, dataStrings(d.Data)...) {
		if len(s) > MaxStringLen || !utf8.ValidString(s) {
			return fmt.Errorf("event: %.40q is not valid UTF-8 of at most %d bytes", s, MaxStringLen)
		}
	}
	return nil
}

func dataStrings(m map[string]string) []string {
	out := make([]string, 0, 2*len(m))
	for k, v := range m {
		out = append(out, k, v)
	}
	return out
}
