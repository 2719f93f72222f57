package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"wingnode/appliance/event"
)

// Get returns the event with the given id, or an error wrapping ErrNotFound.
func (s *Store) Get(id event.ID) (rec event.Record, err error) {
	defer recoverDamage(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		pv := tx.Bucket(idsBucket).Get(idKey(id.Wing, id.Seq))
		if pv == nil {
			return fmt.Errorf("store: event %s: %w", id, ErrNotFound)
		}
		rec, err = readRecord(tx.Bucket(eventsBucket), binary.BigEndian.Uint64(pv))
		return err
	})
	return rec, err
}

func readRecord(events *bolt.Bucket, pos uint64) (event.Record, error) {
	v := events.Get(posKey(pos))
	if v == nil {
		return event.Record{}, fmt.Errorf("store: position %d: %w: an index names an event that is not there", pos, ErrDamaged)
	}
	e, err := event.Unmarshal(v)
	if err != nil {
		return event.Record{}, fmt.Errorf("store: position %d: %w: %w", pos, ErrDamaged, err)
	}
	return event.Record{Pos: pos, Event: e}, nil
}

// Tail returns up to limit events after position after, in store order.
// A reader that keeps the last position it saw resumes from it.
func (s *Store) Tail(after uint64, limit int) (recs []event.Record, err error) {
	limit = clampLimit(limit)
	err = s.Scan(after, func(r event.Record) error {
		recs = append(recs, r)
		if len(recs) == limit {
			return errStop
		}
		return nil
	})
	return recs, err
}

var errStop = fmt.Errorf("stop")

// Scan calls fn for every event after position after, in store order,
// until fn returns an error. It reads in one read transaction.
func (s *Store) Scan(after uint64, fn func(event.Record) error) (err error) {
	defer recoverDamage(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(eventsBucket).Cursor()
		for k, v := c.Seek(posKey(after + 1)); k != nil; k, v = c.Next() {
			e, err := event.Unmarshal(v)
			if err != nil {
				return fmt.Errorf("store: position %d: %w: %w", binary.BigEndian.Uint64(k), ErrDamaged, err)
			}
			if err := fn(event.Record{Pos: binary.BigEndian.Uint64(k), Event: e}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == errStop {
		err = nil
	}
	return err
}

// LastPos returns the newest position in the store, 0 when empty.
func (s *Store) LastPos() (pos uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(eventsBucket).Cursor().Last(); k != nil {
			pos = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return pos, err
}

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return 100
	case limit > 1000:
		return 1000
	}
	return limit
}

// scanBudget bounds the index entries one Query page examines, so a very
// selective filter over a large file answers promptly with a partial page
// and a cursor instead of reading the whole file.
const scanBudget = 50_000

// Query answers q newest first, one page at a time. A cursor that is not
// one of its own for the same filters gives an error wrapping
// event.ErrBadCursor.
func (s *Store) Query(q event.Query) (page event.Page, err error) {
	defer recoverDamage(s.path, &err)
	limit := clampLimit(q.Limit)
	ix := chooseIndex(q)
	upper, lower := ix.bounds(q)
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, ix.id)
		if err != nil {
			return event.Page{}, err
		}
		upper = c
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		events := tx.Bucket(eventsBucket)
		c := tx.Bucket(ix.bucket).Cursor()
		// Position at the last key strictly below upper.
		k, _ := c.Seek(upper)
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for examined := 0; k != nil && bytes.Compare(k, lower) >= 0; k, _ = c.Prev() {
			if examined++; examined > scanBudget || len(page.Records) == limit {
				page.Next = encodeCursor(ix.id, k)
				return nil
			}
			pos := ix.pos(k)
			rec, err := readRecord(events, pos)
			if err != nil {
				return err
			}
			if q.Matches(rec.Event) {
				page.Records = append(page.Records, rec)
			}
		}
		return nil
	})
	return page, err
}

// index is one way to walk the events newest first.
type index struct {
	id     byte
	bucket []byte
	bounds func(event.Query) (upper, lower []byte) // upper exclusive, lower inclusive
	pos    func(k []byte) uint64
}

func chooseIndex(q event.Query) index {
	switch {
	case q.Subject != "":
		return index{id: 's', bucket: subjectsBucket, pos: func(k []byte) uint64 { return suffixPos(k) },
			bounds: func(q event.Query) ([]byte, []byte) {
				return append([]byte(q.Subject), 1), append([]byte(q.Subject), 0)
			}}
	case !q.From.IsZero() || !q.To.IsZero():
		return index{id: 't', bucket: timeBucket, pos: func(k []byte) uint64 { return suffixPos(k) },
			bounds: func(q event.Query) ([]byte, []byte) {
				upper := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
				if !q.To.IsZero() {
					upper = timeKey(q.To.UnixNano(), 0)
				}
				var lower []byte
				if !q.From.IsZero() {
					lower = timeKey(q.From.UnixNano(), 0)
				}
				return upper, lower
			}}
	}
	return index{id: 'p', bucket: eventsBucket, pos: func(k []byte) uint64 { return binary.BigEndian.Uint64(k) },
		bounds: func(event.Query) ([]byte, []byte) {
			return []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, nil
		}}
}

// A cursor is the index id and the key to continue below, exclusive. It
// names the key just after k, so that k itself opens the next page.
func encodeCursor(id byte, k []byte) string {
	b := append(append([]byte{id}, k...), 0)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, id byte) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != id {
		return nil, fmt.Errorf("store: %w (%.20q): start again without a cursor", event.ErrBadCursor, s)
	}
	return b[1:], nil
}

// SaveCheckpoint stores data as the folded state of every event up to and
// including position pos, replacing the previous checkpoint, with its
// SHA-256, which Checkpoint and Verify check.
func (s *Store) SaveCheckpoint(pos uint64, data []byte) error {
	v := append(posKey(pos), data...)
	sum := sha256.Sum256(v)
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(checkpointBucket)
		if err := b.Put(stateKey, v); err != nil {
			return err
		}
		return b.Put(stateSumKey, sum[:])
	})
	if err != nil {
		return fmt.Errorf("store: %s: save checkpoint: %w", s.path, err)
	}
	return nil
}

// Checkpoint returns the last saved checkpoint; pos is 0 when there is none.
// A checkpoint that does not match its SHA-256 gives an error wrapping
// ErrDamaged: fold every event instead.
func (s *Store) Checkpoint() (pos uint64, data []byte, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(checkpointBucket)
		v := b.Get(stateKey)
		if err := checkCheckpoint(v, b.Get(stateSumKey)); err != nil {
			return fmt.Errorf("store: %s: %w", s.path, err)
		}
		if len(v) >= 8 {
			pos, data = binary.BigEndian.Uint64(v), bytes.Clone(v[8:])
		}
		return nil
	})
	return pos, data, err
}

// checkCheckpoint checks a checkpoint against its recorded SHA-256 (a
// checkpoint written before checksums has none, and is taken as it is).
func checkCheckpoint(v, sum []byte) error {
	if v == nil || sum == nil {
		return nil
	}
	got := sha256.Sum256(v)
	if !bytes.Equal(got[:], sum) {
		return fmt.Errorf("%w: the state checkpoint does not match its checksum (SHA-256 %x, recorded %x)", ErrDamaged, got, sum)
	}
	return nil
}
