package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"wingnode/appliance/event"
)

// Errors for replicated events. Ingest reports them per entry: an entry
// that fails is left out whole, and the rest of the call goes ahead.
var (
	// ErrConflict: an event arrived under an id this store holds with
	// different contents. Two histories of one wing exist; a person must
	// look.
	ErrConflict = errors.New("a different event is already stored under this id")
	// ErrGap: an event arrived before its predecessor in its wing's chain.
	ErrGap = errors.New("the event's predecessor is not stored")
)

// Entry is one batch of replicated events, all of one wing and in seq
// order: a raft log entry, or events fetched from a peer ahead of the log.
type Entry struct {
	// Index is the raft log index that committed the events, or 0 for
	// events fetched from a peer that already holds them committed. Only
	// entries with an index enter the commit order.
	Index uint64
	// First is the place of Events[0] within its log entry: nonzero when
	// a fetch from a peer began in the middle of an entry.
	First  uint32
	Events []event.Event
}

// Batch is one Ingest call.
type Batch struct {
	Entries []Entry
	// Applied, when above the stored value, becomes the raft index of the
	// newest applied entry (entries that carry no events still count).
	Applied uint64
	// State, if set, returns the replication layer's state after the
	// entries, given which were refused; it is stored in the same
	// transaction.
	State func(refused []error) []byte
}

// ingestRequest is an Ingest call as the writer sees it.
type ingestRequest struct {
	Batch
	refused []error
}

// Ingest stores replicated events. Events already held are skipped, so an
// entry may be ingested any number of times (a restart that replays the
// raft log, a wing's own events coming back). Each event's hash and its
// link to its predecessor are checked; an entry with a bad event is
// refused whole and reported in refused, at its index. The events, the
// commit order, each wing's committed seq, Applied and State(refused) are
// written in one transaction. err is set only when nothing was written.
func (s *Store) Ingest(ctx context.Context, b Batch) (refused []error, err error) {
	ing := &ingestRequest{Batch: b}
	req := &appendRequest{ingest: ing, result: make(chan appendResult, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("store: ingest: %w", ErrClosed)
	}
	select {
	case s.reqs <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return nil, fmt.Errorf("store: ingest: %w", ctx.Err())
	}
	r := <-req.result
	if r.err != nil {
		return nil, r.err
	}
	return ing.refused, nil
}

// ingest writes one request inside the writer's transaction and returns
// the events it stored.
func (w *writeState) ingest(tx *bolt.Tx, b txBuckets, req *ingestRequest) ([]event.Record, error) {
	site := tx.Bucket(siteBucket)
	commits := tx.Bucket(commitsBucket)
	req.refused = make([]error, len(req.Entries))
	var stored []event.Record
	for i, entry := range req.Entries {
		fresh, err := checkEntry(b, entry.Events)
		if err != nil {
			req.refused[i] = err
			continue
		}
		for _, e := range fresh {
			w.pos++
			if err := b.put(w.pos, e); err != nil {
				return nil, err
			}
			stored = append(stored, event.Record{Pos: w.pos, Event: e})
			// Local events after these get later clock readings.
			w.clock.Observe(e.HLC)
			if e.Wing == w.local && e.Seq > w.seq {
				// The site gave back local events this file had lost.
				w.seq, w.prev = e.Seq, e.Hash
			}
		}
		if entry.Index == 0 || len(entry.Events) == 0 {
			continue
		}
		for n, e := range entry.Events {
			if err := commits.Put(commitKey(entry.Index, entry.First+uint32(n)), idKey(e.Wing, e.Seq)); err != nil {
				return nil, err
			}
		}
		last := entry.Events[len(entry.Events)-1]
		ck := append(append([]byte{}, committedKey...), last.Wing...)
		if v := site.Get(ck); v == nil || binary.BigEndian.Uint64(v) < last.Seq {
			if err := site.Put(ck, binary.BigEndian.AppendUint64(nil, last.Seq)); err != nil {
				return nil, err
			}
		}
	}
	if req.State != nil {
		if err := site.Put(fsmKey, req.State(req.refused)); err != nil {
			return nil, err
		}
	}
	if v := site.Get(appliedKey); req.Applied > 0 && (v == nil || binary.BigEndian.Uint64(v) < req.Applied) {
		if err := site.Put(appliedKey, binary.BigEndian.AppendUint64(nil, req.Applied)); err != nil {
			return nil, err
		}
	}
	return stored, nil
}

// checkEntry verifies a batch of one wing's events against the store and
// returns the ones not yet held.
func checkEntry(b txBuckets, events []event.Event) ([]event.Event, error) {
	var fresh []event.Event
	var prev event.Hash
	havePrev := false
	for i, e := range events {
		if i > 0 && (e.Wing != events[0].Wing || e.Seq != events[i-1].Seq+1) {
			return nil, fmt.Errorf("event %s follows %s: an entry holds consecutive events of one wing", e.ID(), events[i-1].ID())
		}
		if e.Seq == 0 || e.Wing == "" {
			return nil, fmt.Errorf("event %s: %w", e.ID(), event.ErrMalformed)
		}
		if pv := b.ids.Get(idKey(e.Wing, e.Seq)); pv != nil {
			held, err := readRecord(b.events, binary.BigEndian.Uint64(pv))
			if err != nil {
				return nil, err
			}
			if held.Event.Hash != e.Hash {
				return nil, fmt.Errorf("event %s: %w (held %s, offered %s)", e.ID(), ErrConflict, held.Event.Hash, e.Hash)
			}
			// The offered copy claims the held hash; it must also match
			// it, or a wing holding the event would take an entry that
			// every other wing refuses.
			if err := e.Verify(held.Event.Prev); err != nil {
				return nil, err
			}
			prev, havePrev = e.Hash, true
			continue
		}
		if !havePrev {
			switch p, err := heldHash(b, floors(b.site), e.Wing, e.Seq-1); {
			case err != nil:
				return nil, err
			case p == nil:
				return nil, fmt.Errorf("event %s: %w (seq %d)", e.ID(), ErrGap, e.Seq-1)
			default:
				prev = *p
			}
		}
		if err := e.Verify(prev); err != nil {
			return nil, err
		}
		fresh = append(fresh, e)
		prev, havePrev = e.Hash, true
	}
	return fresh, nil
}

// heldHash returns the hash of a held event (or of a wing's floor, the
// newest event retention removed), the zero hash for seq 0, and nil when
// the event is not held.
func heldHash(b txBuckets, floor map[string]Tip, wing string, seq uint64) (*event.Hash, error) {
	if seq == 0 {
		return &event.Hash{}, nil
	}
	if f, ok := floor[wing]; ok && f.Seq == seq {
		return &f.Hash, nil // pruned by retention: its hash is the floor's
	}
	pv := b.ids.Get(idKey(wing, seq))
	if pv == nil {
		return nil, nil
	}
	r, err := readRecord(b.events, binary.BigEndian.Uint64(pv))
	if err != nil {
		return nil, err
	}
	return &r.Event.Hash, nil
}

// SiteState is what the store holds of the replicated state.
type SiteState struct {
	// Applied is the raft index of the newest entry ingested.
	Applied uint64
	// Committed is each wing's newest seq committed by the site.
	Committed map[string]uint64
	// FSM is the replication layer's own state, as it last gave it.
	FSM []byte
}

// Site returns the replicated state as of the last Ingest.
func (s *Store) Site() (st SiteState, err error) {
	defer recoverDamage(s.path, &err)
	st.Committed = map[string]uint64{}
	err = s.db.View(func(tx *bolt.Tx) error {
		site := tx.Bucket(siteBucket)
		if v := site.Get(appliedKey); len(v) == 8 {
			st.Applied = binary.BigEndian.Uint64(v)
		}
		st.FSM = bytes.Clone(site.Get(fsmKey))
		c := site.Cursor()
		for k, v := c.Seek(committedKey); k != nil && bytes.HasPrefix(k, committedKey); k, v = c.Next() {
			if len(v) != 8 {
				return fmt.Errorf("store: %s: %w: committed seq of wing %q", s.path, ErrDamaged, k[len(committedKey):])
			}
			st.Committed[string(k[len(committedKey):])] = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	return st, err
}

// Heads returns the newest seq held of every wing. Each wing's events are
// held without gaps from seq 1, so a wing's head says exactly which of its
// events this store has.
func (s *Store) Heads() (heads map[string]uint64, err error) {
	defer recoverDamage(s.path, &err)
	heads = map[string]uint64{}
	err = s.db.View(func(tx *bolt.Tx) error {
		ids := tx.Bucket(idsBucket).Cursor()
		for first, _ := ids.First(); first != nil; first, _ = ids.Seek(nextWing(first)) {
			k, _ := ids.Seek(nextWing(first))
			if k == nil {
				k, _ = ids.Last()
			} else {
				k, _ = ids.Prev()
			}
			heads[string(k[:len(k)-9])] = binary.BigEndian.Uint64(k[len(k)-8:])
		}
		return nil
	})
	return heads, err
}

// WingAfter returns up to limit events of one wing after seq after, in seq
// order (limit is clamped to 1..1000, like Tail).
func (s *Store) WingAfter(wing string, after uint64, limit int) (out []event.Event, err error) {
	defer recoverDamage(s.path, &err)
	limit = clampLimit(limit)
	err = s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(eventsBucket)
		prefix := append([]byte(wing), 0)
		c := tx.Bucket(idsBucket).Cursor()
		for k, v := c.Seek(idKey(wing, after+1)); k != nil && len(out) < limit && bytes.HasPrefix(k, prefix) && len(k) == len(prefix)+8; k, v = c.Next() {
			r, err := readRecord(events, binary.BigEndian.Uint64(v))
			if err != nil {
				return err
			}
			out = append(out, r.Event)
		}
		return nil
	})
	return out, err
}

// Commit is an event in the site's commit order.
type Commit struct {
	// Index is the raft log index that committed the event, and N its
	// place within that entry. Together they are the event's place in the
	// site's commit order, the same on every wing.
	Index uint64      `json:"index"`
	N     uint32      `json:"n"`
	Event event.Event `json:"event"`
	// Body is the event's canonical encoding, set only by Order with
	// OrderQuery.Bodies.
	Body []byte `json:"-"`
}

// CommitsAfter returns up to limit events in the site's commit order,
// after the place (index, n); (0, 0) starts at the beginning. A reader
// keeps the place of the last event it received and resumes from it.
func (s *Store) CommitsAfter(index uint64, n uint32, limit int) (out []Commit, err error) {
	defer recoverDamage(s.path, &err)
	limit = clampLimit(limit)
	err = s.db.View(func(tx *bolt.Tx) error {
		events, ids := tx.Bucket(eventsBucket), tx.Bucket(idsBucket)
		c := tx.Bucket(commitsBucket).Cursor()
		start := commitKey(index, n)
		k, v := c.Seek(start)
		if k != nil && bytes.Equal(k, start) && (index != 0 || n != 0) {
			k, v = c.Next()
		}
		for ; k != nil && len(out) < limit; k, v = c.Next() {
			pv := ids.Get(v)
			if pv == nil {
				return fmt.Errorf("store: %s: %w: the commit order names an event that is not stored", s.path, ErrDamaged)
			}
			r, err := readRecord(events, binary.BigEndian.Uint64(pv))
			if err != nil {
				return err
			}
			out = append(out, Commit{Index: binary.BigEndian.Uint64(k), N: binary.BigEndian.Uint32(k[8:]), Event: r.Event})
		}
		return nil
	})
	return out, err
}

// LastCommit returns the place of the newest event in the commit order,
// (0, 0) when there is none.
func (s *Store) LastCommit() (index uint64, n uint32, err error) {
	defer recoverDamage(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(commitsBucket).Cursor().Last(); len(k) == 12 {
			index, n = binary.BigEndian.Uint64(k), binary.BigEndian.Uint32(k[8:])
		}
		return nil
	})
	return index, n, err
}
