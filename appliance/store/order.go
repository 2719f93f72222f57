package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"wingnode/appliance/event"
)

// OrderQuery asks for a page of the site's commit order.
type OrderQuery struct {
	// Index and N are the place to read after; (0, 0) is the start.
	Index uint64
	N     uint32
	// Limit caps the events returned; it is clamped to 1..1000 like Tail.
	Limit int
	// Match, if set, keeps only the events it accepts.
	Match func(event.Event) bool
	// Bodies returns each commit's canonical bytes (Commit.Body) without
	// decoding the event (Commit.Event is zero): for readers that only
	// pass the bytes on. Match must be nil.
	Bodies bool
}

// Tip is a wing's newest committed event.
type Tip struct {
	Seq  uint64
	Hash event.Hash
}

// OrderPage is a page of the commit order and the order's head, read in
// one transaction, so the head is the state right after the page's
// newest commit or later, never earlier.
type OrderPage struct {
	Commits []Commit
	// NextIndex and NextN are the place to read after next: the last
	// commit examined, which with Match may lie past the last returned.
	NextIndex uint64
	NextN     uint32
	// Found reports whether (Index, N) is a place in the order; the start
	// always is.
	Found bool
	// LastIndex and LastN are the newest place of the order.
	LastIndex uint64
	LastN     uint32
	// Tips are each wing's newest committed event: the order's head.
	Tips map[string]Tip
	// Applied is the raft index of the newest entry ingested.
	Applied uint64
	// Floors are each wing's newest event that retention removed: a
	// reader from the start of the order begins its chains there.
	Floors map[string]Tip
}

// orderScanBudget bounds the commits one filtered page examines, so a
// selective filter over a long order answers promptly with a page that
// moves the cursor on.
const orderScanBudget = 50_000

// Order reads a page of the site's commit order after a place, with the
// order's head.
func (s *Store) Order(q OrderQuery) (page OrderPage, err error) {
	defer recoverDamage(s.path, &err)
	limit := clampLimit(q.Limit)
	page.NextIndex, page.NextN = q.Index, q.N
	err = s.db.View(func(tx *bolt.Tx) error {
		events, ids := tx.Bucket(eventsBucket), tx.Bucket(idsBucket)
		c := tx.Bucket(commitsBucket).Cursor()
		if k, _ := c.Last(); len(k) == 12 {
			page.LastIndex, page.LastN = binary.BigEndian.Uint64(k), binary.BigEndian.Uint32(k[8:])
		}
		start := commitKey(q.Index, q.N)
		k, v := c.Seek(start)
		page.Found = q.Index == 0 && q.N == 0
		if k != nil && bytes.Equal(k, start) {
			page.Found = true
			if q.Index != 0 || q.N != 0 {
				k, v = c.Next()
			}
		}
		// The order mostly names each wing's events one after another, and
		// events in the order they were stored: lookups step cursors on.
		wingIDs := map[string]*stepper{}
		stored := &stepper{c: events.Cursor()}
		var bodies []byte // the page's bodies, in one allocation
		for examined := 0; k != nil && len(page.Commits) < limit && examined < orderScanBudget; k, v = c.Next() {
			examined++
			wing, _, _ := bytes.Cut(v, []byte{0})
			step := wingIDs[string(wing)]
			if step == nil {
				step = &stepper{c: ids.Cursor()}
				wingIDs[string(wing)] = step
			}
			pv := step.get(v)
			if pv == nil {
				return fmt.Errorf("store: %s: %w: the commit order names an event that is not stored", s.path, ErrDamaged)
			}
			page.NextIndex, page.NextN = binary.BigEndian.Uint64(k), binary.BigEndian.Uint32(k[8:])
			if q.Bodies {
				ev := stored.get(pv)
				if len(ev) <= len(event.Hash{}) {
					return fmt.Errorf("store: position %d: %w: an index names an event that is not there", binary.BigEndian.Uint64(pv), ErrDamaged)
				}
				if bodies == nil {
					bodies = make([]byte, 0, limit*len(ev))
				}
				at := len(bodies)
				bodies = append(bodies, ev[:len(ev)-len(event.Hash{})]...)
				page.Commits = append(page.Commits, Commit{Index: page.NextIndex, N: page.NextN, Body: bodies[at:len(bodies):len(bodies)]})
				continue
			}
			r, err := readRecord(events, binary.BigEndian.Uint64(pv))
			if err != nil {
				return err
			}
			if q.Match == nil || q.Match(r.Event) {
				page.Commits = append(page.Commits, Commit{Index: page.NextIndex, N: page.NextN, Event: r.Event})
			}
		}
		page.Tips = map[string]Tip{}
		page.Floors = floors(tx.Bucket(siteBucket))
		if v := tx.Bucket(siteBucket).Get(appliedKey); len(v) == 8 {
			page.Applied = binary.BigEndian.Uint64(v)
		}
		sc := tx.Bucket(siteBucket).Cursor()
		for k, v := sc.Seek(committedKey); k != nil && bytes.HasPrefix(k, committedKey); k, v = sc.Next() {
			wing := string(k[len(committedKey):])
			if len(v) != 8 {
				return fmt.Errorf("store: %s: %w: committed seq of wing %q", s.path, ErrDamaged, wing)
			}
			seq := binary.BigEndian.Uint64(v)
			pv := ids.Get(idKey(wing, seq))
			if pv == nil {
				return fmt.Errorf("store: %s: %w: wing %s's committed seq %d is not stored", s.path, ErrDamaged, wing, seq)
			}
			r, err := readRecord(events, binary.BigEndian.Uint64(pv))
			if err != nil {
				return err
			}
			page.Tips[wing] = Tip{Seq: seq, Hash: r.Event.Hash}
		}
		return nil
	})
	return page, err
}

// stepper looks keys up in a bucket by stepping a cursor to the next key
// when that is the one asked for, and seeking otherwise: lookups of keys
// that mostly follow each other cost a step rather than a search.
type stepper struct {
	c      *bolt.Cursor
	placed bool
}

// get returns the value of key, nil when it is not in the bucket.
func (s *stepper) get(key []byte) []byte {
	if s.placed {
		if k, v := s.c.Next(); bytes.Equal(k, key) {
			return v
		}
	}
	k, v := s.c.Seek(key)
	s.placed = k != nil
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}
