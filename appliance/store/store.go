package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"wingnode/appliance/event"
)

// Errors returned by Open, each wrapped with the file's path and a sentence
// that says what to do.
var (
	// ErrLocked: another running process holds the file.
	ErrLocked = errors.New("store is in use by another running wingnode")
	// ErrNewerSchema: the file was written by a newer build.
	ErrNewerSchema = errors.New("store was written by a newer wingnode")
	// ErrDamaged: the file is not a readable store, or a chain does not verify.
	ErrDamaged = errors.New("store is damaged")
	// ErrOtherWing: the file belongs to another wing.
	ErrOtherWing = errors.New("store belongs to another wing")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store is closed")
	// ErrNotFound: no event has that id.
	ErrNotFound = errors.New("no such event")
)

// Options configure a store. The zero value of each field works.
type Options struct {
	// Wing is the local wing's id; Append records events for it. A file
	// remembers the wing it was created for and refuses another.
	Wing string
	// Clock stamps appended events; default event.NewClock(nil).
	Clock *event.Clock
	// Committed, if set, is called from the writer after each batch is
	// durable and before its appenders return, with the batch in position
	// order. It must not block and must not call the store's writing methods.
	Committed func([]event.Record)
	// Wrote, if set, is told how long each durable transaction took to
	// write and fsync, from the writer; it must not block.
	Wrote func(time.Duration)
	// MaxBatch caps the events in one transaction; default 2048.
	MaxBatch int
	// LockTimeout is how long Open waits for another process to release
	// the file; default 500 ms.
	LockTimeout time.Duration
	// TailCheck is how many of each wing's newest events Open verifies;
	// default 64.
	TailCheck int
}

// Store is an open event file. Its methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
	opt  Options

	reqs chan *appendRequest
	done chan struct{} // closed when the writer has exited

	mu     sync.RWMutex // guards closed and paused against sends on reqs
	closed bool
	paused error // while set, local appends are refused with it

	// Owned by the writer goroutine.
	pos  uint64
	seq  uint64
	prev event.Hash
}

// appendRequest is one unit of work for the writer: a local draft, or
// (when ingest is set) events replicated from the site.
type appendRequest struct {
	draft  event.Draft
	ingest *ingestRequest
	result chan appendResult
}

type appendResult struct {
	rec event.Record
	err error
}

// Open opens or creates the store at path.
func Open(path string, opt Options) (s *Store, err error) {
	if opt.Wing == "" {
		return nil, fmt.Errorf("store: open %s: no wing id given", path)
	}
	if opt.Clock == nil {
		opt.Clock = event.NewClock(nil)
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 2048
	}
	if opt.LockTimeout <= 0 {
		opt.LockTimeout = 500 * time.Millisecond
	}
	if opt.TailCheck <= 0 {
		opt.TailCheck = 64
	}
	var db *bolt.DB
	defer func() {
		// Runs after recoverDamage: release the file on every failure.
		if err != nil && db != nil {
			db.Close()
			s = nil
		}
	}()
	defer recoverDamage(path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opt.LockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	s = &Store{db: db, path: path, opt: opt, reqs: make(chan *appendRequest, 4*opt.MaxBatch), done: make(chan struct{})}
	if err := s.init(); err != nil {
		return nil, err
	}
	go s.writer()
	return s, nil
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("store: %s: %w: stop the other wingnode first, or give this one a different data folder", path, ErrLocked)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("store: open %s: %w: run wingnode as the user that owns the data folder", path, err)
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return fmt.Errorf("store: %s: %w (%w): move the file aside and restore it from a backup or from the site", path, ErrDamaged, err)
	}
	return fmt.Errorf("store: open %s: %w", path, err)
}

// recoverDamage turns a panic inside bbolt, which is how it meets some
// kinds of corrupt page, into ErrDamaged. With debug.SetPanicOnFault, so
// does a read of a page past the end of a truncated file.
func recoverDamage(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("store: %s: %w (%v): run 'wingnode verify', then restore the file from a backup or from the site", path, ErrDamaged, r)
	}
}

// checkSize refuses a file shorter than its own meta page says it is: a
// truncated copy, where reading the missing pages would fault.
func checkSize(path string, tx *bolt.Tx) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: %s: %w", path, err)
	}
	if fi.Size() < tx.Size() {
		return fmt.Errorf("store: %s: %w: the file is %d bytes but should be %d (truncated copy?): restore it from a backup or from the site", path, ErrDamaged, fi.Size(), tx.Size())
	}
	return nil
}

func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := checkSize(s.path, tx); err != nil {
			return err
		}
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: %s: create bucket %s: %w", s.path, name, err)
			}
		}
		meta := tx.Bucket(metaBucket)
		if v := meta.Get(schemaKey); v != nil {
			schema, n := binary.Uvarint(v)
			if n <= 0 {
				return fmt.Errorf("store: %s: %w: unreadable schema version: restore the file from a backup or from the site", s.path, ErrDamaged)
			}
			if schema > SchemaVersion {
				return fmt.Errorf("store: %s: %w (schema %d; this build reads up to %d): upgrade wingnode, or restore a backup made by this version", s.path, ErrNewerSchema, schema, SchemaVersion)
			}
		} else if err := meta.Put(schemaKey, binary.AppendUvarint(nil, SchemaVersion)); err != nil {
			return err
		}
		if w := meta.Get(wingKey); w != nil && string(w) != s.opt.Wing {
			return fmt.Errorf("store: %s: %w %q, not %q: use that wing's configuration, or a separate data folder for wing %q", s.path, ErrOtherWing, w, s.opt.Wing, s.opt.Wing)
		} else if w == nil {
			if err := meta.Put(wingKey, []byte(s.opt.Wing)); err != nil {
				return err
			}
		}
		if k, _ := tx.Bucket(eventsBucket).Cursor().Last(); k != nil {
			s.pos = binary.BigEndian.Uint64(k)
		}
		newest, err := s.checkTails(tx)
		if err != nil {
			return err
		}
		s.opt.Clock.Observe(newest)
		return nil
	})
}

// checkTails verifies the newest events of every wing's chain and loads
// the local wing's chain head. It returns the newest HLC in the file.
func (s *Store) checkTails(tx *bolt.Tx) (event.HLC, error) {
	var newest event.HLC
	ids := tx.Bucket(idsBucket).Cursor()
	events := tx.Bucket(eventsBucket)
	damaged := func(what error) error {
		return fmt.Errorf("store: %s: %w: %w: run 'wingnode verify' for the whole file", s.path, ErrDamaged, what)
	}
	for first, _ := ids.First(); first != nil; first, _ = ids.Seek(nextWing(first)) {
		prefix := first[:len(first)-8]
		// Walk back from the wing's last id, which sits just before the
		// first key of the next wing.
		var v []byte
		k, _ := ids.Seek(nextWing(first))
		if k == nil {
			k, v = ids.Last()
		} else {
			k, v = ids.Prev()
		}
		var tail []event.Event // newest first
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(tail) <= s.opt.TailCheck; k, v = ids.Prev() {
			pos := binary.BigEndian.Uint64(v)
			e, err := event.Unmarshal(events.Get(posKey(pos)))
			if err != nil {
				return newest, damaged(fmt.Errorf("wing %s seq %d at position %d: %w", prefix[:len(prefix)-1], suffixPos(k), pos, err))
			}
			tail = append(tail, e)
		}
		for i := 0; i+1 < len(tail); i++ {
			if err := tail[i].Verify(tail[i+1].Hash); err != nil {
				return newest, damaged(err)
			}
		}
		floor := floors(tx.Bucket(siteBucket))[string(prefix[:len(prefix)-1])]
		if oldest := tail[len(tail)-1]; oldest.Seq == floor.Seq+1 {
			if err := oldest.Verify(floor.Hash); err != nil {
				return newest, damaged(err)
			}
		}
		head := tail[0]
		if head.HLC.Compare(newest) > 0 {
			newest = head.HLC
		}
		if head.Wing == s.opt.Wing {
			s.seq, s.prev = head.Seq, head.Hash
		}
	}
	return newest, nil
}

// nextWing returns the smallest ids key after every key of idKey's wing.
func nextWing(idKey []byte) []byte {
	wing := idKey[:len(idKey)-9]
	return append(append([]byte{}, wing...), 1)
}

// Append records a draft for the local wing and returns it sealed, once it
// is on disk. If ctx ends before the draft is queued, nothing is recorded.
func (s *Store) Append(ctx context.Context, d event.Draft) (event.Record, error) {
	p, err := s.Submit(ctx, d)
	if err != nil {
		return event.Record{}, err
	}
	return p.Wait()
}

// Pending is a queued append.
type Pending struct{ result chan appendResult }

// Wait returns the outcome of the append once it is on disk (or failed).
// Once queued, the write goes ahead: it takes at most a few transactions.
func (p *Pending) Wait() (event.Record, error) {
	r := <-p.result
	return r.rec, r.err
}

// Submit queues a draft and returns without waiting for the disk. Drafts
// submitted by one goroutine are recorded in the order submitted, so a
// reader of inputs can keep many events in flight without reordering a
// door's open and close. If ctx ends before the draft is queued, nothing
// is recorded.
func (s *Store) Submit(ctx context.Context, d event.Draft) (*Pending, error) {
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("store: append: %w", err)
	}
	req := &appendRequest{draft: d, result: make(chan appendResult, 1)}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("store: append %s: %w", d.Kind, ErrClosed)
	}
	if s.paused != nil {
		return nil, fmt.Errorf("store: append %s: %w", d.Kind, s.paused)
	}
	select {
	case s.reqs <- req:
		return &Pending{result: req.result}, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("store: append %s: %w", d.Kind, ctx.Err())
	}
}

func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*appendRequest, 0, s.opt.MaxBatch)
	for first := range s.reqs {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < s.opt.MaxBatch {
			select {
			case r, ok := <-s.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commit(batch)
	}
}

// commit writes one batch in one transaction and answers every request.
func (s *Store) commit(batch []*appendRequest) {
	recs := make([]event.Record, 0, len(batch))
	results := make([]appendResult, len(batch))
	w := s.writeState()
	start := time.Now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		recs = recs[:0]
		w = s.writeState()
		b := buckets(tx)
		for i, req := range batch {
			if req.ingest != nil {
				stored, err := w.ingest(tx, b, req.ingest)
				if err != nil {
					return err
				}
				recs = append(recs, stored...)
				continue
			}
			r := s.opt.Clock.Now()
			w.pos++
			w.seq++
			e := event.Event{
				Wing: s.opt.Wing, Seq: w.seq, HLC: r.HLC, Wall: r.Wall, ClockTrusted: r.Trusted,
				Kind: req.draft.Kind, Subject: req.draft.Subject, Actor: req.draft.Actor, Data: req.draft.Data,
			}
			e.Seal(w.prev)
			w.prev = e.Hash
			if err := b.put(w.pos, e); err != nil {
				return err
			}
			results[i].rec = event.Record{Pos: w.pos, Event: e}
			recs = append(recs, results[i].rec)
		}
		return nil
	})
	if err != nil {
		err = fmt.Errorf("store: %s: write %d requests: %w", s.path, len(batch), err)
		for _, req := range batch {
			req.result <- appendResult{err: err}
		}
		return
	}
	s.pos, s.seq, s.prev = w.pos, w.seq, w.prev
	if s.opt.Wrote != nil {
		s.opt.Wrote(time.Since(start))
	}
	if s.opt.Committed != nil && len(recs) > 0 {
		s.opt.Committed(recs)
	}
	for i, req := range batch {
		req.result <- results[i]
	}
}

// writeState is the writer's position and local chain head during one
// transaction; it replaces the Store's copy only when the transaction
// commits.
type writeState struct {
	local string
	clock *event.Clock
	pos   uint64
	seq   uint64
	prev  event.Hash
}

func (s *Store) writeState() *writeState {
	return &writeState{local: s.opt.Wing, clock: s.opt.Clock, pos: s.pos, seq: s.seq, prev: s.prev}
}

type txBuckets struct{ events, ids, time, subjects, site *bolt.Bucket }

func buckets(tx *bolt.Tx) txBuckets {
	b := txBuckets{tx.Bucket(eventsBucket), tx.Bucket(idsBucket), tx.Bucket(timeBucket), tx.Bucket(subjectsBucket), tx.Bucket(siteBucket)}
	// Keys in these buckets mostly arrive in order: pack pages full.
	b.events.FillPercent, b.ids.FillPercent, b.time.FillPercent = 0.95, 0.95, 0.95
	return b
}

func (b txBuckets) put(pos uint64, e event.Event) error {
	pk := posKey(pos)
	if err := b.events.Put(pk, e.Marshal()); err != nil {
		return err
	}
	if err := b.ids.Put(idKey(e.Wing, e.Seq), pk); err != nil {
		return err
	}
	if err := b.time.Put(timeKey(e.HLC.WallNanos, pos), nil); err != nil {
		return err
	}
	return b.subjects.Put(subjectKey(e.Subject, pos), nil)
}

// PauseLocal refuses local appends with reason (wrapped) until
// ResumeLocal, while replicated events are still ingested: a wing that
// rebuilds its own events from the site must not record a seq the site
// already holds.
func (s *Store) PauseLocal(reason error) {
	s.mu.Lock()
	s.paused = reason
	s.mu.Unlock()
}

// ResumeLocal takes local appends again.
func (s *Store) ResumeLocal() { s.PauseLocal(nil) }

// Close waits for queued appends to be written, then closes the file.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	<-s.done
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }
