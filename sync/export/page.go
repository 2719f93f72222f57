package export

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// Page is one answer of the site's event pull: events in commit order
// after a cursor, and the head of the order as the answering wing held it
// at that moment, signed.
type Page struct {
	// Site is the site's id: the SHA-256 fingerprint of its CA
	// certificate, in hex.
	Site    string   `json:"site"`
	Records []Record `json:"records"`
	// Next is the cursor to pass as after for the following page. It is
	// the request's after when nothing is new; with filters it may move on
	// past events that did not match.
	Next string `json:"next"`
	// Committed is each wing's newest seq that the site has committed, as
	// the answering wing has applied it: the seqs of Head.Committed.
	Committed map[string]uint64 `json:"committed"`
	// Head is the signed head of the commit order at the moment of the
	// answer.
	Head Head `json:"head"`
	// Floor, on a page from the start of the order, is each wing's newest
	// event that retention removed: the chains of the records begin after
	// it. Absent when nothing was removed.
	Floor map[string]Tip `json:"floor,omitempty"`
}

// Record is one event in the commit order.
type Record struct {
	// Cursor is the event's place, "INDEX.N.SITE" (see Cursor).
	Cursor string      `json:"cursor"`
	Event  event.Event `json:"event"`
	// Body is the event's canonical encoding (base64 in JSON): its SHA-256
	// is Event.Hash, and its last 32 bytes are Event.Prev.
	Body []byte `json:"body"`
}

// Tip is a wing's newest event at a place of the commit order.
type Tip struct {
	Seq  uint64     `json:"seq"`
	Hash event.Hash `json:"hash"`
}

// Cursor is a place in the site's commit order, tagged with the site it
// belongs to: the raft log index of an entry and the place of an event
// within it. The order is the same on every wing of the site, so a cursor
// from one wing is valid on all of them, and on no other site. Its text
// form is "INDEX.N.SITE", SITE being the first 16 hex digits of the site's
// id; the zero Cursor is the start of the order.
type Cursor struct {
	Index uint64
	N     uint32
	// Site is the site tag (SiteTag), "" for a cursor of the older form
	// "INDEX.N", which names no site.
	Site string
}

// SiteTag is the part of a site's id that its cursors carry.
func SiteTag(site string) string {
	if len(site) > 16 {
		return site[:16]
	}
	return site
}

// ParseCursor reads a cursor's text form ("INDEX.N.SITE", or the older
// "INDEX.N").
func ParseCursor(s string) (Cursor, error) {
	bad := func() error {
		return fmt.Errorf("after: %.40q is not a cursor; pass the next of the previous page, or leave after out to start", s)
	}
	index, rest, ok := strings.Cut(s, ".")
	if !ok {
		return Cursor{}, bad()
	}
	n, tag, tagged := strings.Cut(rest, ".")
	i, err1 := strconv.ParseUint(index, 10, 64)
	k, err2 := strconv.ParseUint(n, 10, 32)
	if err1 != nil || err2 != nil {
		return Cursor{}, bad()
	}
	c := Cursor{Index: i, N: uint32(k)}
	if tagged {
		if len(tag) != 16 || strings.Trim(tag, "0123456789abcdef") != "" {
			return Cursor{}, bad()
		}
		c.Site = tag
	}
	return c, nil
}

// String is the cursor's text form; "" for the start.
func (c Cursor) String() string {
	if c.IsStart() && c.Site == "" {
		return ""
	}
	var b [64]byte
	s := strconv.AppendUint(b[:0], c.Index, 10)
	s = strconv.AppendUint(append(s, '.'), uint64(c.N), 10)
	if c.Site != "" {
		s = append(append(s, '.'), c.Site...)
	}
	return string(s)
}

// IsStart reports whether c is the start of the order.
func (c Cursor) IsStart() bool { return c.Index == 0 && c.N == 0 }

// Compare orders two places of one site: -1, 0 or +1.
func (c Cursor) Compare(o Cursor) int {
	switch {
	case c.Index < o.Index:
		return -1
	case c.Index > o.Index:
		return 1
	case c.N < o.N:
		return -1
	case c.N > o.N:
		return 1
	}
	return 0
}

// DecodeBody reads an event from its canonical encoding; the event's Hash
// is the body's SHA-256.
func DecodeBody(body []byte) (event.Event, error) { return event.UnmarshalBody(body) }

// State is where a reader of the export stands: the cursor after which
// it continues and each wing's newest event it holds, to check the chains
// of the events that follow. The zero State is the start.
type State struct {
	Site   string         `json:"site,omitempty"`
	Cursor string         `json:"cursor"`
	Wings  map[string]Tip `json:"wings"`
	// Filtered is set when the records were pulled with filters: the
	// chains cannot be checked.
	Filtered bool `json:"filtered,omitempty"`
}

// Clone returns a copy of s that shares no map with it.
func (s State) Clone() State {
	c := s
	c.Wings = make(map[string]Tip, len(s.Wings))
	for w, t := range s.Wings {
		c.Wings[w] = t
	}
	return c
}

// signedAt formats a head's signing time as the JSON does.
func signedAt(t time.Time) time.Time { return t.UTC() }
