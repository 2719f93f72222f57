package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"wingnode/appliance/event"
)

// prunedKey prefixes, in the site bucket, each wing's floor: the seq(8)
// and hash(32) of its newest event that retention removed. The wing's
// chain goes on from it.
var prunedKey = []byte("pruned/")

// PruneReport says what Prune removed.
type PruneReport struct {
	Events int
	// Floors are each wing's newest removed event, after the call.
	Floors map[string]Tip
}

// Prune removes old events, oldest first in the site's commit order, at
// most limit of them: an event goes only while every one before it in the
// order went, and only if its HLC time is before before, its commit index
// is at most upto (what every registered client has pulled and every wing
// has applied), the site has committed a later event of its wing (so no
// wing's newest event ever goes, nor any event the site has not
// committed), and the wing state checkpoint covers it. Each wing's newest
// removed event becomes its floor, from which Verify and Ingest carry its
// chain on.
func (s *Store) Prune(before time.Time, upto uint64, limit int) (rep PruneReport, err error) {
	defer recoverDamage(s.path, &err)
	rep.Floors = map[string]Tip{}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := buckets(tx)
		site, commits := tx.Bucket(siteBucket), tx.Bucket(commitsBucket)
		committed := map[string]uint64{}
		sc := site.Cursor()
		for k, v := sc.Seek(committedKey); k != nil && bytes.HasPrefix(k, committedKey); k, v = sc.Next() {
			committed[string(k[len(committedKey):])] = binary.BigEndian.Uint64(v)
		}
		var checkpoint uint64
		if v := tx.Bucket(checkpointBucket).Get(stateKey); len(v) >= 8 {
			checkpoint = binary.BigEndian.Uint64(v)
		}
		c := commits.Cursor()
		for k, v := c.First(); k != nil && rep.Events < limit; k, v = c.First() {
			if binary.BigEndian.Uint64(k) > upto {
				break
			}
			pv := b.ids.Get(v)
			if pv == nil {
				return fmt.Errorf("store: %s: %w: the commit order names an event that is not stored", s.path, ErrDamaged)
			}
			pos := binary.BigEndian.Uint64(pv)
			r, err := readRecord(b.events, pos)
			if err != nil {
				return err
			}
			e := r.Event
			if !e.HLC.Time().Before(before) || e.Seq >= committed[e.Wing] || pos > checkpoint {
				break
			}
			for _, del := range []struct {
				bk  *bolt.Bucket
				key []byte
			}{{commits, k}, {b.ids, v}, {b.events, posKey(pos)}, {b.time, timeKey(e.HLC.WallNanos, pos)}, {b.subjects, subjectKey(e.Subject, pos)}} {
				if err := del.bk.Delete(del.key); err != nil {
					return err
				}
			}
			if err := site.Put(append(append([]byte{}, prunedKey...), e.Wing...), append(binary.BigEndian.AppendUint64(nil, e.Seq), e.Hash[:]...)); err != nil {
				return err
			}
			rep.Floors[e.Wing] = Tip{Seq: e.Seq, Hash: e.Hash}
			rep.Events++
		}
		return nil
	})
	if err != nil {
		return PruneReport{}, fmt.Errorf("store: %s: prune: %w", s.path, err)
	}
	return rep, nil
}

// floors reads every wing's floor.
func floors(site *bolt.Bucket) map[string]Tip {
	out := map[string]Tip{}
	c := site.Cursor()
	for k, v := c.Seek(prunedKey); k != nil && bytes.HasPrefix(k, prunedKey); k, v = c.Next() {
		if len(v) == 40 {
			var h event.Hash
			copy(h[:], v[8:])
			out[string(k[len(prunedKey):])] = Tip{Seq: binary.BigEndian.Uint64(v), Hash: h}
		}
	}
	return out
}

// Floors returns each wing's floor: its newest event retention removed.
func (s *Store) Floors() (out map[string]Tip, err error) {
	defer recoverDamage(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		out = floors(tx.Bucket(siteBucket))
		return nil
	})
	return out, err
}

// CompactFile writes a compacted copy of the bbolt file at path (a store
// or raft's log, with no process holding it) and puts it in place of the
// original, synced, giving back the space that deleted and pruned data
// left. It returns the sizes before and after.
func CompactFile(path string) (before, after int64, err error) {
	src, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 500 * time.Millisecond})
	if err != nil {
		return 0, 0, openError(path, err)
	}
	tmp := path + ".compact"
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{NoSync: true})
	if err != nil {
		src.Close()
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	err = bolt.Compact(dst, src, 64<<20)
	if err == nil {
		err = dst.Sync()
	}
	err = errors.Join(err, dst.Close(), src.Close())
	if err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	fb, err1 := os.Stat(path)
	fa, err2 := os.Stat(tmp)
	if err := errors.Join(err1, err2); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	return fb.Size(), fa.Size(), nil
}
