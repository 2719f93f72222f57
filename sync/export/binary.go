package export

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// BinaryType is the media type of a page in its binary form, which a
// client asks for with Accept: it carries each event's canonical bytes
// only (everything else about an event is in them), so it is several
// times smaller and faster to read than JSON. docs/central.md has its
// layout.
const BinaryType = "application/vnd.wingnode.site-events.v1"

// binaryVersion opens a binary page.
const binaryVersion = 1

// Limits a reader of a binary page holds it to.
const (
	maxRecords = 10_000
	maxBody    = 64 << 10
)

// AppendBinary appends p in its binary form. Each record's cursor must
// be of p's site.
func AppendBinary(b []byte, p Page) ([]byte, error) {
	size := 64 + len(p.Site) + len(p.Next) + len(p.Head.Body) + len(p.Head.Signature) + len(p.Head.Certificate) + len(p.Floor)*48
	for _, r := range p.Records {
		size += len(r.Body) + 16
	}
	b = slices.Grow(b, size)
	b = append(b, binaryVersion)
	b = appendString(b, p.Site)
	b = appendString(b, p.Next)
	b = binary.AppendUvarint(b, uint64(len(p.Records)))
	for _, r := range p.Records {
		c, err := ParseCursor(r.Cursor)
		if err != nil {
			return nil, fmt.Errorf("export: record %s: %w", r.Event.ID(), err)
		}
		b = binary.AppendUvarint(b, c.Index)
		b = binary.AppendUvarint(b, uint64(c.N))
		b = binary.AppendUvarint(b, uint64(len(r.Body)))
		b = append(b, r.Body...)
	}
	for _, f := range [][]byte{p.Head.Body, p.Head.Signature, p.Head.Certificate} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(len(p.Floor)))
	for _, w := range slices.Sorted(maps.Keys(p.Floor)) {
		t := p.Floor[w]
		b = appendString(b, w)
		b = binary.AppendUvarint(b, t.Seq)
		b = append(b, t.Hash[:]...)
	}
	return b, nil
}

// ReadBinary reads a page in its binary form. Records get their events
// from their bodies and heads their fields from theirs; nothing is
// verified here (see Verifier, whose ReadBinary reads and verifies a page
// and decodes each body once).
func ReadBinary(b []byte) (Page, error) {
	p, _, err := readBinary(b)
	if err != nil {
		return Page{}, err
	}
	for i := range p.Records {
		r := &p.Records[i]
		if r.Event, err = DecodeBody(r.Body); err != nil {
			return Page{}, fmt.Errorf("export: binary page, record %d: %w", i+1, err)
		}
	}
	return p, nil
}

// BinaryNext reads the next cursor of a page in its binary form and
// nothing else, so that a reader can ask for the following page while it
// checks this one.
func BinaryNext(b []byte) (string, error) {
	d := reader{b: b}
	if v := d.byte(); d.err == nil && v != binaryVersion {
		return "", fmt.Errorf("export: binary page version %d is not known to this build (it reads %d)", v, binaryVersion)
	}
	d.string() // the site
	next := d.string()
	if d.err != nil {
		return "", fmt.Errorf("export: binary page: %w", d.err)
	}
	return next, nil
}

// readBinary reads a page in its binary form without decoding the
// records' bodies: their events are zero. It returns each record's place
// beside it.
func readBinary(b []byte) (Page, []Cursor, error) {
	d := reader{b: b}
	if v := d.byte(); d.err == nil && v != binaryVersion {
		return Page{}, nil, fmt.Errorf("export: binary page version %d is not known to this build (it reads %d)", v, binaryVersion)
	}
	p := Page{Site: d.string(), Next: d.string()}
	tag := SiteTag(p.Site)
	n := d.uvarint()
	if n > maxRecords {
		d.fail("too many records")
	}
	p.Records = make([]Record, 0, n)
	places := make([]Cursor, 0, n)
	var text []byte
	for i := uint64(0); i < n && d.err == nil; i++ {
		index, place := d.uvarint(), d.uvarint()
		body := d.blob(maxBody)
		if d.err != nil {
			break
		}
		if place > 1<<32-1 {
			d.fail("place out of range")
			break
		}
		c := Cursor{Index: index, N: uint32(place), Site: tag}
		text = strconv.AppendUint(text[:0], index, 10)
		text = strconv.AppendUint(append(text, '.'), place, 10)
		text = append(append(text, '.'), tag...)
		p.Records = append(p.Records, Record{Cursor: string(text), Body: body})
		places = append(places, c)
	}
	p.Head.Body, p.Head.Signature, p.Head.Certificate = d.blob(64<<10), d.blob(1<<10), d.blob(16<<10)
	floors := d.uvarint()
	if floors > 1<<16 {
		d.fail("too many floors")
	}
	for i := uint64(0); i < floors && d.err == nil; i++ {
		if p.Floor == nil {
			p.Floor = map[string]Tip{}
		}
		w := d.string()
		t := Tip{Seq: d.uvarint()}
		copy(t.Hash[:], d.bytes(len(t.Hash)))
		p.Floor[w] = t
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Page{}, nil, fmt.Errorf("export: binary page: %w", d.err)
	}
	h, _, err := decodeHead(p.Head.Body)
	if err != nil {
		return Page{}, nil, fmt.Errorf("export: binary page, head: %w", err)
	}
	h.Body, h.Signature, h.Certificate = p.Head.Body, p.Head.Signature, p.Head.Certificate
	p.Head = h
	p.Committed = CommittedSeqs(h.Committed)
	return p, places, nil
}
