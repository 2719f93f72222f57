package event

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Hash is a SHA-256 digest of an event's canonical encoding.
type Hash [sha256.Size]byte

// String returns the hash in lower-case hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is the all-zero hash that precedes a wing's first event.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText encodes the hash as hex, for JSON.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText decodes a hex hash.
func (h *Hash) UnmarshalText(b []byte) error {
	if hex.DecodedLen(len(b)) != len(h) {
		return fmt.Errorf("event: hash must be %d hex characters, got %d", 2*len(h), len(b))
	}
	_, err := hex.Decode(h[:], b)
	return err
}

// SystemActor is the actor of events that the appliance itself records,
// from its inputs or its own lifecycle.
const SystemActor = "system"

// Draft is what a caller asks to record. The store turns a Draft into an
// Event by giving it the wing, the next seq, the clocks and the chain.
type Draft struct {
	Kind    Kind
	Subject string            // door, alarm point, cell or sensor id
	Actor   string            // officer id, or SystemActor
	Data    map[string]string // small typed payload; see the Kind's documentation
}

// Event is one sealed, immutable record.
type Event struct {
	Wing         string            `json:"wing"`
	Seq          uint64            `json:"seq"`
	HLC          HLC               `json:"hlc"`
	Wall         time.Time         `json:"wall"`
	ClockTrusted bool              `json:"clock_trusted"`
	Kind         Kind              `json:"kind"`
	Subject      string            `json:"subject"`
	Actor        string            `json:"actor"`
	Data         map[string]string `json:"data,omitempty"`
	Prev         Hash              `json:"prev"`
	Hash         Hash              `json:"hash"`
}

// ID names an event across the site.
type ID struct {
	Wing string
	Seq  uint64
}

// String formats the id as "wing/seq", the form used in URLs and payloads.
func (id ID) String() string { return fmt.Sprintf("%s/%d", id.Wing, id.Seq) }

// ParseID parses the "wing/seq" form written by ID.String.
func ParseID(s string) (ID, error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			var seq uint64
			if _, err := fmt.Sscan(s[i+1:], &seq); err != nil || seq == 0 || i == 0 {
				break
			}
			return ID{Wing: s[:i], Seq: seq}, nil
		}
	}
	return ID{}, fmt.Errorf("event: %q is not an event id of the form wing/seq", s)
}

// ID returns the event's site-wide identity.
func (e Event) ID() ID { return ID{Wing: e.Wing, Seq: e.Seq} }

// Key returns the event's position in the site-wide total order.
func (e Event) Key() Key { return Key{HLC: e.HLC, Wing: e.Wing, Seq: e.Seq} }

// Seal fills in e.Prev and e.Hash, making e the successor of prev in its
// wing's chain.
func (e *Event) Seal(prev Hash) {
	e.Prev = prev
	e.Hash = sha256.Sum256(e.encodeBody(nil))
}

// Verify checks that e's hash matches its contents and that it follows prev.
func (e Event) Verify(prev Hash) error {
	if e.Prev != prev {
		return fmt.Errorf("event %s: its previous hash %s is not the hash of the wing's previous event, %s", e.ID(), e.Prev, prev)
	}
	if got := sha256.Sum256(e.encodeBody(nil)); Hash(got) != e.Hash {
		return fmt.Errorf("event %s: contents do not match its hash (altered after it was recorded)", e.ID())
	}
	return nil
}

// SortedKeys returns the data keys in the canonical order.
func (e Event) SortedKeys() []string { return slices.Sorted(maps.Keys(e.Data)) }

// Key orders events site-wide: by HLC, then wing, then seq. Two events
// never share a Key.
type Key struct {
	HLC  HLC
	Wing string
	Seq  uint64
}

// Compare returns -1, 0 or +1 as k sorts before, equal to or after o.
func (k Key) Compare(o Key) int {
	if c := k.HLC.Compare(o.HLC); c != 0 {
		return c
	}
	if k.Wing != o.Wing {
		if k.Wing < o.Wing {
			return -1
		}
		return 1
	}
	switch {
	case k.Seq < o.Seq:
		return -1
	case k.Seq > o.Seq:
		return 1
	}
	return 0
}

// MarshalText writes the "wing/seq" form, so IDs can key JSON maps.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the "wing/seq" form.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	*id = v
	return err
}
