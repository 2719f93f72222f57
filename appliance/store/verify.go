package store

import (
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"

	"wingnode/appliance/event"
)

// Report is the outcome of Verify.
type Report struct {
	Wing   string            // the wing the file belongs to
	Events int               // events read
	Wings  map[string]uint64 // last seq of each wing's chain
	// FirstBad names the first event that fails, in (wing, seq) order;
	// empty when the whole file verifies.
	FirstBad string
}

// Verify reads the whole file at path without changing it: the bbolt
// structure, every event's encoding and hash, every wing's chain from seq
// 1 with no gaps, and every index entry. It returns an error wrapping
// ErrDamaged that names the first bad event, or ErrLocked while a running
// appliance holds the file.
func Verify(path string) (rep Report, err error) {
	defer recoverDamage(path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if err := checkMetaPages(path); err != nil {
		return rep, fmt.Errorf("store: %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if err != nil {
		return rep, openError(path, err)
	}
	defer db.Close()
	rep.Wings = map[string]uint64{}
	err = db.View(func(tx *bolt.Tx) error {
		if err := checkSize(path, tx); err != nil {
			return err
		}
		for cerr := range tx.Check() {
			return fmt.Errorf("store: %s: %w: file structure: %w: restore the file from a backup or from the site", path, ErrDamaged, cerr)
		}
		for _, name := range allBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("store: %s: %w: bucket %q is missing (not a wingnode store?)", path, ErrDamaged, name)
			}
		}
		rep.Wing = string(tx.Bucket(metaBucket).Get(wingKey))
		if v := tx.Bucket(metaBucket).Get(schemaKey); v != nil {
			if schema, _ := binary.Uvarint(v); schema > SchemaVersion {
				return fmt.Errorf("store: %s: %w (schema %d): verify it with the wingnode that wrote it", path, ErrNewerSchema, schema)
			}
		}
		if err := verifyChains(tx, &rep); err != nil {
			return err
		}
		return verifyCheckpoint(tx)
	})
	if rep.FirstBad != "" {
		err = fmt.Errorf("store: %s: %w", path, err)
	}
	return rep, err
}

func verifyChains(tx *bolt.Tx, rep *Report) error {
	events := tx.Bucket(eventsBucket)
	fail := func(e string, pos uint64, format string, args ...any) error {
		rep.FirstBad = fmt.Sprintf("%s (position %d)", e, pos)
		return fmt.Errorf("%w: first bad event %s: %s", ErrDamaged, rep.FirstBad, fmt.Sprintf(format, args...))
	}
	var wing string
	var prev event.Hash
	var seq uint64
	floor := floors(tx.Bucket(siteBucket))
	c := tx.Bucket(idsBucket).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		w, s := string(k[:len(k)-9]), suffixPos(k)
		pos := binary.BigEndian.Uint64(v)
		if w != wing {
			// A wing's chain starts at seq 1, or after its retention floor.
			wing, prev, seq = w, floor[w].Hash, floor[w].Seq
		}
		id := event.ID{Wing: w, Seq: s}.String()
		if s != seq+1 {
			return fail(event.ID{Wing: w, Seq: seq + 1}.String(), pos, "missing: the chain jumps from seq %d to %d", seq, s)
		}
		e, err := event.Unmarshal(events.Get(posKey(pos)))
		if err != nil {
			return fail(id, pos, "%v", err)
		}
		if e.Wing != w || e.Seq != s {
			return fail(id, pos, "the stored event says it is %s", e.ID())
		}
		if err := e.Verify(prev); err != nil {
			return fail(id, pos, "%v", err)
		}
		if tx.Bucket(timeBucket).Get(timeKey(e.HLC.WallNanos, pos)) == nil || tx.Bucket(subjectsBucket).Get(subjectKey(e.Subject, pos)) == nil {
			return fail(id, pos, "missing from the time or subject index")
		}
		prev, seq = e.Hash, s
		rep.Wings[w] = s
		rep.Events++
	}
	if n := events.Stats().KeyN; n != rep.Events {
		return fmt.Errorf("store: %w: %d events stored but %d reachable by id", ErrDamaged, n, rep.Events)
	}
	return nil
}

// verifyCheckpoint checks the wing state checkpoint against its SHA-256
// and that it covers no position past the last event.
func verifyCheckpoint(tx *bolt.Tx) error {
	b := tx.Bucket(checkpointBucket)
	v := b.Get(stateKey)
	if err := checkCheckpoint(v, b.Get(stateSumKey)); err != nil {
		return fmt.Errorf("%w: 'wingnode run' rebuilds the state from every event instead", err)
	}
	if len(v) >= 8 {
		var last uint64
		if k, _ := tx.Bucket(eventsBucket).Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		if pos := binary.BigEndian.Uint64(v); pos > last {
			return fmt.Errorf("%w: the state checkpoint covers position %d, past the last event (%d)", ErrDamaged, pos, last)
		}
	}
	return nil
}
