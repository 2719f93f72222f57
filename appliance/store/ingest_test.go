package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// recorder collects what the Committed hook sees.
type recorder struct {
	mu      sync.Mutex
	batches [][]event.Record
}

func (r *recorder) hook(b []event.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, append([]event.Record(nil), b...))
}

func (r *recorder) records() []event.Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event.Record
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

// wingEvents records n events in a store of its own for wing and returns
// them as sealed by that store.
func wingEvents(t *testing.T, wing string, n int) []event.Event {
	t.Helper()
	s, _ := openTemp(t, Options{Wing: wing})
	return appendEvents(t, s, n)
}

// appendEvents records n door events in s.
func appendEvents(t *testing.T, s *Store, n int) []event.Event {
	t.Helper()
	out := make([]event.Event, 0, n)
	for i := range n {
		r, err := s.Append(context.Background(), door(fmt.Sprintf("D%02d", i%4), i%2 == 0))
		require.NoError(t, err)
		out = append(out, r.Event)
	}
	return out
}

// sealChain seals n events of wing by hand, from seq from, after prev.
func sealChain(wing string, from uint64, prev event.Hash, n int, wall time.Time) []event.Event {
	out := make([]event.Event, 0, n)
	for i := range n {
		w := wall.Add(time.Duration(i) * time.Millisecond).UTC()
		e := event.Event{
			Wing: wing, Seq: from + uint64(i), HLC: event.HLC{WallNanos: w.UnixNano()}, Wall: w, ClockTrusted: true,
			Kind: event.AlarmRaised, Subject: wing + "-P1", Actor: event.SystemActor,
			Data: map[string]string{"point_kind": "cell-call", "priority": "2"},
		}
		e.Seal(prev)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

var t0 = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// ingestOK ingests b and fails the test unless every entry was taken.
func ingestOK(t *testing.T, s *Store, b Batch) {
	t.Helper()
	refused, err := s.Ingest(context.Background(), b)
	require.NoError(t, err)
	require.Len(t, refused, len(b.Entries))
	for i, r := range refused {
		require.NoError(t, r, "entry %d", i)
	}
}

func allCommits(t *testing.T, s *Store) []Commit {
	t.Helper()
	var out []Commit
	var index uint64
	var n uint32
	for {
		page, err := s.CommitsAfter(index, n, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		index, n = page[len(page)-1].Index, page[len(page)-1].N
	}
}

func lastPos(t *testing.T, s *Store) uint64 {
	t.Helper()
	p, err := s.LastPos()
	require.NoError(t, err)
	return p
}

func TestIngestStoresAnotherWingsEvents(t *testing.T) {
	var rec recorder
	a, path := openTemp(t, Options{Wing: "A", Committed: rec.hook})
	own := appendEvents(t, a, 2)
	b := wingEvents(t, "B", 5)

	ingestOK(t, a, Batch{Entries: []Entry{{Index: 3, Events: b[:3]}, {Index: 7, Events: b[3:]}}, Applied: 7})

	for _, e := range b {
		got, err := a.Get(e.ID())
		require.NoError(t, err)
		assert.Equal(t, e, got.Event, "stored as sealed, never re-sealed")
	}
	after, err := a.WingAfter("B", 1, 10)
	require.NoError(t, err)
	assert.Equal(t, b[1:], after)
	after, err = a.WingAfter("A", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, own, after, "WingAfter keeps to one wing")

	heads, err := a.Heads()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 2, "B": 5}, heads)

	commits := allCommits(t, a)
	require.Len(t, commits, 5)
	places := []struct {
		index uint64
		n     uint32
	}{{3, 0}, {3, 1}, {3, 2}, {7, 0}, {7, 1}}
	for i, c := range commits {
		assert.Equal(t, places[i].index, c.Index, "commit %d", i)
		assert.Equal(t, places[i].n, c.N, "commit %d", i)
		assert.Equal(t, b[i], c.Event, "commit %d", i)
	}
	// Resuming from a place returns what follows it.
	rest, err := a.CommitsAfter(3, 2, 10)
	require.NoError(t, err)
	assert.Equal(t, commits[3:], rest)
	rest, err = a.CommitsAfter(3, 0, 2)
	require.NoError(t, err)
	assert.Equal(t, commits[1:3], rest, "limit is honoured")
	index, n, err := a.LastCommit()
	require.NoError(t, err)
	assert.Equal(t, uint64(7), index)
	assert.Equal(t, uint32(1), n)

	site, err := a.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(7), site.Applied)
	assert.Equal(t, map[string]uint64{"B": 5}, site.Committed, "the local wing's events are not committed by this call")

	// The hook sees the ingested events after the local ones, at new
	// positions.
	seen := rec.records()
	require.Len(t, seen, 7)
	for i, r := range seen {
		assert.Equal(t, uint64(i+1), r.Pos)
	}
	for i, e := range b {
		assert.Equal(t, e, seen[2+i].Event)
	}

	// The file verifies with both chains, and reopens.
	require.NoError(t, a.Close())
	rep, err := Verify(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 2, "B": 5}, rep.Wings)
	a2, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	defer a2.Close()
	assert.Equal(t, commits, allCommits(t, a2))
}

func TestIngestWithoutIndexStaysOutOfTheCommitOrder(t *testing.T) {
	a, _ := openTemp(t, Options{})
	b := wingEvents(t, "B", 3)
	ingestOK(t, a, Batch{Entries: []Entry{{Events: b}}})
	heads, err := a.Heads()
	require.NoError(t, err)
	assert.Equal(t, uint64(3), heads["B"])
	assert.Empty(t, allCommits(t, a))
	site, err := a.Site()
	require.NoError(t, err)
	assert.Empty(t, site.Committed)
	assert.Zero(t, site.Applied)
	index, n, err := a.LastCommit()
	require.NoError(t, err)
	assert.Zero(t, index)
	assert.Zero(t, n)

	// Committing them later adds only the commit order.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 4, Events: b}}})
	assert.Equal(t, uint64(3), lastPos(t, a))
	assert.Len(t, allCommits(t, a), 3)
}

func TestIngestOfAnEntryInPieces(t *testing.T) {
	// A fetch from a peer may begin in the middle of a log entry.
	a, _ := openTemp(t, Options{})
	b := wingEvents(t, "B", 5)
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 5, Events: b[:2]}}})
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 5, First: 2, Events: b[2:4]}, {Index: 6, Events: b[4:]}}})
	want := []Commit{{Index: 5, N: 0, Event: b[0]}, {Index: 5, N: 1, Event: b[1]}, {Index: 5, N: 2, Event: b[2]}, {Index: 5, N: 3, Event: b[3]}, {Index: 6, N: 0, Event: b[4]}}
	assert.Equal(t, want, allCommits(t, a))
	// The whole entry later, from the raft log, leaves the same order.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 5, Events: b[:4]}}})
	assert.Equal(t, want, allCommits(t, a))
}

func TestIngestIsIdempotent(t *testing.T) {
	var rec recorder
	a, path := openTemp(t, Options{Wing: "A", Committed: rec.hook})
	own := appendEvents(t, a, 4)
	b := wingEvents(t, "B", 6)
	entry := Entry{Index: 5, Events: b[:4]}
	ingestOK(t, a, Batch{Entries: []Entry{entry}})
	before := allCommits(t, a)
	pos := lastPos(t, a)
	hooked := len(rec.records())

	// The same entry again, twice in one call and once more alone.
	ingestOK(t, a, Batch{Entries: []Entry{entry, entry}})
	ingestOK(t, a, Batch{Entries: []Entry{entry}})
	assert.Equal(t, pos, lastPos(t, a), "nothing stored twice")
	assert.Equal(t, before, allCommits(t, a), "commit rows stay single")
	assert.Len(t, rec.records(), hooked, "the hook sees nothing new")

	// An older entry committed again leaves the committed seq alone.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 5, Events: b[:2]}}})
	site, err := a.Site()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"B": 4}, site.Committed, "committed never moves back")

	// An entry overlapping the held ones stores only what is new.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 6, Events: b[2:]}}})
	assert.Equal(t, pos+2, lastPos(t, a))
	got := rec.records()[hooked:]
	require.Len(t, got, 2)
	assert.Equal(t, b[4], got[0].Event)
	assert.Equal(t, b[5], got[1].Event)
	hooked += 2

	// The wing's own events coming back store nothing, and commit them.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 8, Events: own}}})
	assert.Equal(t, pos+2, lastPos(t, a))
	assert.Len(t, rec.records(), hooked)
	site, err = a.Site()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 4, "B": 6}, site.Committed)
	commits := allCommits(t, a)
	require.Len(t, commits, 4+4+4)
	for i, e := range own {
		assert.Equal(t, Commit{Index: 8, N: uint32(i), Event: e}, commits[8+i])
	}

	// Own events still continue their chain.
	r, err := a.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, uint64(5), r.Event.Seq)
	assert.Equal(t, own[3].Hash, r.Event.Prev)
	require.NoError(t, a.Close())
	rep, err := Verify(path)
	require.NoError(t, err)
	assert.Equal(t, 5+6, rep.Events)
}

func TestIngestRefusesBadEntriesAndTakesTheRest(t *testing.T) {
	var rec recorder
	a, path := openTemp(t, Options{Wing: "A", Committed: rec.hook})
	b := wingEvents(t, "B", 5)
	c := sealChain("C", 1, event.Hash{}, 5, t0)
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 1, Events: c[:3]}}})
	hooked := len(rec.records())

	// Altered after sealing: the contents no longer match the hash.
	altered := c[3]
	altered.Subject = "C-P9"
	// A different event sealed under a held id.
	other := sealChain("C", 3, c[1].Hash, 1, t0.Add(time.Hour))[0]
	// A well-formed event that skips seq 4 of C.
	gap := sealChain("C", 5, c[3].Hash, 1, t0)

	heldCopy := c[1]
	heldCopy.Actor = "o-1" // a held id, its hash, altered contents

	entries := []Entry{
		{Index: 2, Events: b[:3]},                                                   // 0 taken
		{Index: 3, Events: gap},                                                     // 1 gap
		{Index: 4, Events: []event.Event{altered}},                                  // 2 altered
		{Index: 5, Events: []event.Event{c[2], c[4]}},                               // 3 skips seq 4
		{Index: 6, Events: []event.Event{other}},                                    // 4 conflict
		{Index: 7, Events: []event.Event{b[3], c[4]}},                               // 5 two wings
		{Index: 8, Events: []event.Event{c[3], c[4], gap[0]}},                       // 6 seq repeats
		{Index: 9, Events: []event.Event{{Wing: "C", Kind: event.DoorOpened}}},      // 7 seq 0
		{Index: 10, Events: []event.Event{c[3], {Wing: "C", Seq: 5, Subject: "x"}}}, // 8 a good event, then a bad one
		{Index: 11, Events: b[3:]},                                                  // 9 taken
		{Index: 12, Events: []event.Event{heldCopy}},                                // 10 altered copy of a held event
	}
	refused, err := a.Ingest(context.Background(), Batch{Entries: entries, Applied: 12})
	require.NoError(t, err)
	require.Len(t, refused, len(entries))
	for _, i := range []int{0, 9} {
		assert.NoError(t, refused[i], "entry %d", i)
	}
	assert.ErrorIs(t, refused[1], ErrGap)
	assert.ErrorContains(t, refused[2], "altered")
	assert.ErrorContains(t, refused[3], "consecutive events of one wing")
	assert.ErrorIs(t, refused[4], ErrConflict)
	assert.ErrorContains(t, refused[5], "consecutive events of one wing")
	assert.ErrorContains(t, refused[6], "consecutive events of one wing")
	assert.ErrorIs(t, refused[7], event.ErrMalformed)
	assert.Error(t, refused[8])
	assert.Error(t, refused[10], "an altered copy of a held event is refused too")

	// A refused entry is left out whole: C stays at 3, even where an
	// entry began with a good event.
	heads, err := a.Heads()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"B": 5, "C": 3}, heads)
	got := rec.records()[hooked:]
	require.Len(t, got, 5)
	for i, r := range got {
		assert.Equal(t, b[i], r.Event)
	}
	held, err := a.Get(c[2].ID())
	require.NoError(t, err)
	assert.Equal(t, c[2], held.Event, "the conflicting event did not replace the held one")

	site, err := a.Site()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"B": 5, "C": 3}, site.Committed)
	assert.Equal(t, uint64(12), site.Applied, "refused entries still count as applied")
	var indices []uint64
	for _, cm := range allCommits(t, a) {
		indices = append(indices, cm.Index)
	}
	assert.Equal(t, []uint64{1, 1, 1, 2, 2, 2, 11, 11}, indices, "only the taken entries enter the commit order")

	// Once the predecessor arrives, the gap entry is taken.
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 13, Events: c[3:4]}, {Index: 14, Events: gap}}})
	heads, err = a.Heads()
	require.NoError(t, err)
	assert.Equal(t, uint64(5), heads["C"])
	require.NoError(t, a.Close())
	_, err = Verify(path)
	require.NoError(t, err)
}

func TestIngestRefusesEventsOfABrokenChain(t *testing.T) {
	a, _ := openTemp(t, Options{})
	c := sealChain("C", 1, event.Hash{}, 3, t0)
	// Seq 2 sealed after the wrong predecessor.
	wrong := sealChain("C", 2, event.Hash{1}, 1, t0)
	refused, err := a.Ingest(context.Background(), Batch{Entries: []Entry{
		{Index: 1, Events: []event.Event{c[0], wrong[0]}},
		{Index: 2, Events: []event.Event{c[1], c[0]}},
		{Index: 3, Events: c},
	}})
	require.NoError(t, err)
	assert.ErrorContains(t, refused[0], "is not the hash of the wing's previous event")
	assert.Error(t, refused[1], "seqs going backwards")
	assert.NoError(t, refused[2])
	assert.Len(t, allCommits(t, a), 3)
}

func TestIngestStoresStateAndAppliedWithTheEvents(t *testing.T) {
	a, path := openTemp(t, Options{})
	b := wingEvents(t, "B", 4)
	bad := b[1]
	bad.Actor = "intruder"

	var gotRefused []error
	state := func(tag string) func([]error) []byte {
		return func(refused []error) []byte {
			gotRefused = refused
			n := 0
			for _, r := range refused {
				if r != nil {
					n++
				}
			}
			return fmt.Appendf(nil, `{"tag":%q,"refused":%d}`, tag, n)
		}
	}
	refused, err := a.Ingest(context.Background(), Batch{
		Entries: []Entry{{Index: 9, Events: b[:1]}, {Index: 10, Events: []event.Event{bad}}},
		Applied: 10,
		State:   state("first"),
	})
	require.NoError(t, err)
	assert.Equal(t, refused, gotRefused, "State sees the refusals")
	site, err := a.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(10), site.Applied)
	assert.JSONEq(t, `{"tag":"first","refused":1}`, string(site.FSM))
	assert.Equal(t, map[string]uint64{"B": 1}, site.Committed)

	// Applied never moves backwards; an entry-less call still counts.
	ingestOK(t, a, Batch{Applied: 4})
	ingestOK(t, a, Batch{Applied: 0})
	site, err = a.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(10), site.Applied)
	assert.JSONEq(t, `{"tag":"first","refused":1}`, string(site.FSM), "no State, no change")
	ingestOK(t, a, Batch{Applied: 15, State: state("empty")})
	site, err = a.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(15), site.Applied)
	assert.JSONEq(t, `{"tag":"empty","refused":0}`, string(site.FSM))

	// A transaction that fails writes nothing: not the events, not the
	// state, not Applied. An oversized subject makes bbolt refuse a key.
	huge := sealChain("B", 2, b[0].Hash, 1, t0)[0]
	huge.Subject = strings.Repeat("s", 40000)
	huge.Seal(b[0].Hash)
	pos := lastPos(t, a)
	_, err = a.Ingest(context.Background(), Batch{Entries: []Entry{{Index: 16, Events: []event.Event{huge}}}, Applied: 16, State: state("failed")})
	require.Error(t, err)
	site, err = a.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(15), site.Applied)
	assert.JSONEq(t, `{"tag":"empty","refused":0}`, string(site.FSM))
	assert.Equal(t, map[string]uint64{"B": 1}, site.Committed)
	assert.Equal(t, pos, lastPos(t, a))
	index, _, err := a.LastCommit()
	require.NoError(t, err)
	assert.Equal(t, uint64(9), index)

	// The writer goes on: local appends and further ingests work.
	r, err := a.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, uint64(1), r.Event.Seq)
	assert.Equal(t, pos+1, r.Pos)
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 17, Events: b[1:]}}, Applied: 17})

	// All of it survives a reopen.
	require.NoError(t, a.Close())
	a2, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	defer a2.Close()
	site, err = a2.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(17), site.Applied)
	assert.Equal(t, map[string]uint64{"B": 4}, site.Committed)
	var st map[string]any
	require.NoError(t, json.Unmarshal(site.FSM, &st))
	assert.Equal(t, "empty", st["tag"])
}

func TestIngestGivesBackLostLocalEvents(t *testing.T) {
	orig := wingEvents(t, "A", 6)

	// A fresh file for wing A: its events come back from the site.
	a, path := openTemp(t, Options{Wing: "A"})
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 2, Events: orig[:4]}}})
	ingestOK(t, a, Batch{Entries: []Entry{{Events: orig[4:]}}})
	r, err := a.Append(context.Background(), door("A1-01", false))
	require.NoError(t, err)
	assert.Equal(t, uint64(7), r.Event.Seq, "the chain continues after the ingested head")
	assert.Equal(t, orig[5].Hash, r.Event.Prev)
	assert.Positive(t, r.Event.HLC.Compare(orig[5].HLC))
	heads, err := a.Heads()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 7}, heads)

	require.NoError(t, a.Close())
	rep, err := Verify(path)
	require.NoError(t, err)
	assert.Equal(t, uint64(7), rep.Wings["A"])
	a2, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	defer a2.Close()
	r, err = a2.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, uint64(8), r.Event.Seq)
}

func TestIngestOfAnotherHistoryOfTheLocalWingConflicts(t *testing.T) {
	orig := wingEvents(t, "A", 3)
	// A fresh file that recorded before the site gave its events back:
	// two histories of wing A exist.
	a, _ := openTemp(t, Options{Wing: "A"})
	mine := appendEvents(t, a, 1)
	refused, err := a.Ingest(context.Background(), Batch{Entries: []Entry{{Index: 1, Events: orig}}})
	require.NoError(t, err)
	require.ErrorIs(t, refused[0], ErrConflict)
	got, err := a.WingAfter("A", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, mine, got)
	r, err := a.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), r.Event.Seq)
	assert.Equal(t, mine[0].Hash, r.Event.Prev)
}

func TestIngestAndAppendShareTheWriter(t *testing.T) {
	var rec recorder
	a, path := openTemp(t, Options{Wing: "A", Committed: rec.hook})
	b := sealChain("B", 1, event.Hash{}, 400, t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 50 {
				_, err := a.Append(context.Background(), door("A1-01", i%2 == 0))
				assert.NoError(t, err)
			}
		})
	}
	wg.Go(func() {
		for i := 0; i < len(b); i += 10 {
			refused, err := a.Ingest(context.Background(), Batch{Entries: []Entry{{Index: uint64(i + 1), Events: b[i : i+10]}}, Applied: uint64(i + 1)})
			if assert.NoError(t, err) {
				assert.NoError(t, refused[0])
			}
		}
	})
	wg.Wait()
	seen := rec.records()
	require.Len(t, seen, 200+400)
	for i, r := range seen {
		require.Equal(t, uint64(i+1), r.Pos, "positions in order, none twice")
	}
	require.NoError(t, a.Close())
	rep, err := Verify(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 200, "B": 400}, rep.Wings)
}

func TestIngestAfterCloseFails(t *testing.T) {
	a, _ := openTemp(t, Options{})
	require.NoError(t, a.Close())
	_, err := a.Ingest(context.Background(), Batch{Entries: []Entry{{Index: 1, Events: sealChain("B", 1, event.Hash{}, 1, t0)}}})
	require.ErrorIs(t, err, ErrClosed)
}

func TestIngestHonoursACancelledContext(t *testing.T) {
	// A store whose queue is full: the writer is held inside the hook.
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	a, _ := openTemp(t, Options{MaxBatch: 1, Committed: func([]event.Record) {
		select {
		case held <- struct{}{}:
		default:
		}
		<-release
	}})
	defer close(release)
	_, err := a.Submit(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	<-held
	for range 4 { // the queue holds 4*MaxBatch requests
		_, err := a.Submit(context.Background(), door("A1-01", true))
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Ingest(ctx, Batch{Entries: []Entry{{Index: 1, Events: sealChain("B", 1, event.Hash{}, 1, t0)}}})
	require.ErrorIs(t, err, context.Canceled)
}

func TestIngestMovesTheClockPastReceivedEvents(t *testing.T) {
	clock := event.NewClock(func() time.Time { return t0 })
	a, _ := openTemp(t, Options{Clock: clock})
	first, err := a.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	// Another wing's clock runs an hour ahead.
	future := sealChain("B", 1, event.Hash{}, 1, t0.Add(time.Hour))
	future[0].HLC.Logical = 7
	future[0].Seal(event.Hash{})
	ingestOK(t, a, Batch{Entries: []Entry{{Index: 1, Events: future}}})
	r, err := a.Append(context.Background(), door("A1-01", false))
	require.NoError(t, err)
	assert.Positive(t, r.Event.HLC.Compare(future[0].HLC), "a later local event sorts after the ingested one")
	assert.Positive(t, r.Event.HLC.Compare(first.Event.HLC))
	assert.Equal(t, t0, r.Event.Wall, "the wall reading stays the wall clock's")
}

func TestIngestErrorsAreSentinels(t *testing.T) {
	// The sentinels are documented as what Ingest reports: errors.Is must
	// find them through the wrapping.
	a, _ := openTemp(t, Options{})
	c := sealChain("C", 1, event.Hash{}, 2, t0)
	refused, err := a.Ingest(context.Background(), Batch{Entries: []Entry{{Index: 1, Events: c[1:]}}})
	require.NoError(t, err)
	assert.True(t, errors.Is(refused[0], ErrGap))
	assert.Contains(t, refused[0].Error(), "C/2")
}
