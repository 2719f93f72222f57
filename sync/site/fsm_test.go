package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
)

// testWing is one wing's store and FSM, as a node holds them.
type testWing struct {
	wing   string
	path   string
	st     *store.Store
	f      *fsm
	events []event.Event // its local events
}

// newWing opens a store for wing in a temporary folder, records n local
// events in it and puts an FSM on it. The FSM refuses to catch up unless
// a test says how.
func newWing(t *testing.T, wing string, n int) *testWing {
	t.Helper()
	w := &testWing{wing: wing, path: filepath.Join(t.TempDir(), "wing.db")}
	w.open(t)
	for i := range n {
		d := event.Draft{Kind: event.DoorOpened, Subject: fmt.Sprintf("%s1-%02d", wing, i%3), Actor: event.SystemActor}
		if i%2 == 1 {
			d.Kind = event.DoorClosed
		}
		r, err := w.st.Append(context.Background(), d)
		require.NoError(t, err)
		w.events = append(w.events, r.Event)
	}
	return w
}

// open (re)opens the wing's store and puts a new FSM on it.
func (w *testWing) open(t *testing.T) {
	t.Helper()
	st, err := store.Open(w.path, store.Options{Wing: w.wing})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	f, err := newFSM(st, quiet(), nil)
	require.NoError(t, err)
	f.catchUp = func(context.Context, fsmState) error { return errors.New("this test does not expect a catch-up") }
	w.st, w.f = st, f
}

// reopen closes the store and opens it again with a new FSM, as a restart does.
func (w *testWing) reopen(t *testing.T) {
	t.Helper()
	require.NoError(t, w.st.Close())
	w.open(t)
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logBuilder numbers log entries from 1.
type logBuilder struct{ logs []*raft.Log }

func (b *logBuilder) add(data []byte) *raft.Log {
	l := &raft.Log{Index: uint64(len(b.logs) + 1), Term: 1, Type: raft.LogCommand, Data: data}
	b.logs = append(b.logs, l)
	return l
}

func (b *logBuilder) events(events ...event.Event) *raft.Log { return b.add(encodeEvents(events)) }

func (b *logBuilder) command(c Command) *raft.Log { return b.add(encodeCommand(c)) }

// outcome is the ApplyResult an entry must give. err is nil, errAny or a
// sentinel that the result's error must wrap; noResult marks entries
// that are not commands and give no result.
type outcome struct {
	committed uint64
	err       error
	noResult  bool
}

var errAny = errors.New("any error")

func checkOutcomes(t *testing.T, who string, results []any, want []outcome) {
	t.Helper()
	require.Len(t, results, len(want), who)
	for i, w := range want {
		if w.noResult {
			assert.Nil(t, results[i], "%s: entry %d", who, i+1)
			continue
		}
		r, ok := results[i].(ApplyResult)
		if !assert.True(t, ok, "%s: entry %d gave %T", who, i+1, results[i]) {
			continue
		}
		assert.Equal(t, w.committed, r.Committed, "%s: entry %d: committed", who, i+1)
		switch w.err {
		case nil:
			assert.NoError(t, r.Err, "%s: entry %d", who, i+1)
		case errAny:
			assert.Error(t, r.Err, "%s: entry %d", who, i+1)
		default:
			assert.ErrorIs(t, r.Err, w.err, "%s: entry %d", who, i+1)
		}
	}
}

// applyInGroups applies logs the way raft may hand them over: size logs
// per ApplyBatch call; 1 uses Apply.
func applyInGroups(f *fsm, logs []*raft.Log, size int) []any {
	var out []any
	for len(logs) > 0 {
		n := min(size, len(logs))
		if size == 1 {
			out = append(out, f.Apply(logs[0]))
		} else {
			out = append(out, f.ApplyBatch(logs[:n])...)
		}
		logs = logs[n:]
	}
	return out
}

// held is everything a wing holds of the site, to compare wings.
type held struct {
	Commits []store.Commit
	Heads   map[string]uint64
	Site    store.SiteState
	State   fsmState
}

func (w *testWing) held(t *testing.T) held {
	t.Helper()
	h := held{Commits: allCommits(t, w.st), State: w.f.snapshot()}
	var err error
	h.Heads, err = w.st.Heads()
	require.NoError(t, err)
	h.Site, err = w.st.Site()
	require.NoError(t, err)
	return h
}

func allCommits(t *testing.T, st *store.Store) []store.Commit {
	t.Helper()
	var out []store.Commit
	var index uint64
	var n uint32
	for {
		page, err := st.CommitsAfter(index, n, 1000)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		index, n = page[len(page)-1].Index, page[len(page)-1].N
	}
}

// siteLog is a log of the three wings' events with duplicates, overlaps,
// gaps, refused entries and commands, and the outcome each entry must
// have on every wing.
type siteLog struct {
	logs []*raft.Log
	want []outcome
	// order is the commit order it must leave: (index, wing, seq).
	order []string
	// agreed is the agreed state it must leave.
	agreed Agreed
}

func buildSiteLog(a, b, c []event.Event) siteLog {
	var lb logBuilder
	var s siteLog
	since := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	altered := c[1]
	altered.Subject = "tampered" // the hash still claims the original
	events := func(o outcome, e ...event.Event) {
		lb.events(e...)
		s.want = append(s.want, o)
	}
	command := func(o outcome, c Command) {
		lb.command(c)
		s.want = append(s.want, o)
	}
	// 1-3: a batch of A, the same again, then one overlapping it.
	events(outcome{committed: 3}, a[0:3]...)
	events(outcome{committed: 3}, a[0:3]...)
	events(outcome{committed: 5}, a[1:5]...)
	// 4
	command(outcome{}, Command{Op: OpAddWing, Wing: "A", Addr: "a:7000", Serial: "11"})
	// 5: a gap, as B1 is not committed; then 6: B1, B2.
	events(outcome{err: store.ErrGap}, b[2:4]...)
	events(outcome{committed: 2}, b[0:2]...)
	// 7, 8
	command(outcome{}, Command{Op: OpAddWing, Wing: "B", Addr: "b:7000", Serial: "22"})
	command(outcome{}, Command{Op: OpLockdown, Lockdown: &wing.Lockdown{Active: true, Reason: "fire drill", By: "o-1", Since: since}})
	// 9: an altered event refuses the whole entry; 10: the next C entry
	// starts from C's committed seq before it.
	events(outcome{err: errAny}, c[0], altered)
	events(outcome{committed: 3}, c[0:3]...)
	// 11, 12, 13
	events(outcome{committed: 6}, b[2:6]...)
	command(outcome{}, Command{Op: OpRoster, Roster: officers("o-2", "o-1")})
	command(outcome{}, Command{Op: OpRemoveWing, Wing: "B"})
	// 14: B was decommissioned; 15: no wing Z; 16: no such command.
	command(outcome{err: errAny}, Command{Op: OpAddWing, Wing: "B", Addr: "b:7001"})
	command(outcome{err: errAny}, Command{Op: OpRemoveWing, Wing: "Z"})
	command(outcome{err: errAny}, Command{Op: "reboot"})
	// 17
	events(outcome{committed: 8}, a[5:8]...)
	// 18: a membership change, which gives no result.
	lb.add(nil).Type = raft.LogConfiguration
	s.want = append(s.want, outcome{noResult: true})
	// 19: a duplicate; 20: C3 then C5, which skips C4; 21: old events.
	events(outcome{committed: 8}, a[7])
	events(outcome{err: errBadEntry}, c[2], c[4])
	events(outcome{committed: 3}, c[0:2]...)
	// 22
	events(outcome{committed: 5}, c[3:5]...)
	s.logs = lb.logs
	s.order = []string{
		"1 A/1", "1 A/2", "1 A/3", "3 A/4", "3 A/5", "6 B/1", "6 B/2",
		"10 C/1", "10 C/2", "10 C/3", "11 B/3", "11 B/4", "11 B/5", "11 B/6",
		"17 A/6", "17 A/7", "17 A/8", "22 C/4", "22 C/5",
	}
	s.agreed = Agreed{
		Wings:    map[string]WingRecord{"A": {Addr: "a:7000", Serial: "11"}, "B": {Addr: "b:7000", Serial: "22", Removed: true}},
		Lockdown: wing.Lockdown{Active: true, Reason: "fire drill", By: "o-1", Since: since},
		Roster:   officers("o-1", "o-2"),
	}
	return s
}

func orderOf(commits []store.Commit) []string {
	out := make([]string, len(commits))
	for i, c := range commits {
		out[i] = fmt.Sprintf("%d %s", c.Index, c.Event.ID())
	}
	return out
}

// threeWings makes wings A, B and C with local events of their own.
func threeWings(t *testing.T) (a, b, c *testWing) {
	return newWing(t, "A", 8), newWing(t, "B", 6), newWing(t, "C", 5)
}

func TestFSMsFedTheSameLogAgree(t *testing.T) {
	a, b, c := threeWings(t)
	sl := buildSiteLog(a.events, b.events, c.events)

	// Raft hands entries to each wing in groups of its own choosing: one
	// at a time, all at once, a few at a time. The outcome must not depend
	// on it.
	checkOutcomes(t, "A", applyInGroups(a.f, sl.logs, 1), sl.want)
	checkOutcomes(t, "B", applyInGroups(b.f, sl.logs, len(sl.logs)), sl.want)
	checkOutcomes(t, "C", applyInGroups(c.f, sl.logs, 4), sl.want)

	ha, hb, hc := a.held(t), b.held(t), c.held(t)
	assert.Equal(t, sl.order, orderOf(ha.Commits))
	assert.Equal(t, ha, hb, "wings A and B differ")
	assert.Equal(t, ha, hc, "wings A and C differ")

	assert.Equal(t, map[string]uint64{"A": 8, "B": 6, "C": 5}, ha.Heads)
	assert.Equal(t, map[string]uint64{"A": 8, "B": 6, "C": 5}, ha.State.Committed)
	assert.Equal(t, ha.State.Committed, ha.Site.Committed, "the store's committed seqs agree with the FSM's")
	assert.Equal(t, uint64(len(sl.logs)), ha.State.Applied)
	assert.Equal(t, ha.State.Applied, ha.Site.Applied)
	assert.Equal(t, sl.agreed, ha.State.Agreed)

	// Every event in the commit order is the one its wing recorded.
	byID := map[event.ID]event.Event{}
	for _, w := range []*testWing{a, b, c} {
		for _, e := range w.events {
			byID[e.ID()] = e
		}
	}
	for _, cm := range ha.Commits {
		assert.Equal(t, byID[cm.Event.ID()], cm.Event)
	}

	// The snapshots are identical too.
	sa, sb := persist(t, a.f), persist(t, b.f)
	assert.Equal(t, sa, sb)
	assert.Equal(t, ha.Site.FSM, sa, "the stored state is the snapshot")
	for _, w := range []*testWing{a, b, c} {
		require.NoError(t, w.st.Close())
		_, err := store.Verify(w.path)
		require.NoError(t, err, "wing %s", w.wing)
	}
}

func TestFSMReplayAfterRestartChangesNothing(t *testing.T) {
	a, b, _ := threeWings(t)
	sl := buildSiteLog(a.events, b.events, newWing(t, "C", 5).events)
	applyInGroups(a.f, sl.logs, 5)
	before := a.held(t)
	pos, err := a.st.LastPos()
	require.NoError(t, err)

	// Raft without a snapshot replays the whole log after a restart.
	a.reopen(t)
	assert.Equal(t, before.State, a.f.snapshot(), "the state comes back from the store")
	for name, size := range map[string]int{"one by one": 1, "in one batch": len(sl.logs)} {
		for i, r := range applyInGroups(a.f, sl.logs, size) {
			assert.Equal(t, ApplyResult{Err: errAlreadyApplied}, r, "%s: entry %d", name, i+1)
		}
	}
	assert.Equal(t, before, a.held(t))
	p, err := a.st.LastPos()
	require.NoError(t, err)
	assert.Equal(t, pos, p, "nothing stored again")

	// A wing that stopped halfway resumes where its store says.
	b.f.ApplyBatch(sl.logs[:9])
	b.reopen(t)
	results := applyInGroups(b.f, sl.logs, 3)
	for i := range 9 {
		assert.Equal(t, ApplyResult{Err: errAlreadyApplied}, results[i], "entry %d", i+1)
	}
	checkOutcomes(t, "B", results[9:], sl.want[9:])
	assert.Equal(t, before.Commits, allCommits(t, b.st))
	assert.Equal(t, before.State, b.f.snapshot())
}

func TestFSMRefusesMalformedEntries(t *testing.T) {
	w := newWing(t, "A", 0)
	c := newWing(t, "C", 9).events
	other := newWing(t, "D", 2).events
	var lb logBuilder
	lb.events(c[0:3]...)
	want := []outcome{{committed: 3}}
	bad := func(data []byte) {
		lb.add(data)
		want = append(want, outcome{err: errBadEntry})
	}
	bad(nil)
	bad([]byte{9, 1, 2, 3})
	bad([]byte{entryEvents})
	bad(encodeEvents(nil))
	bad(encodeEvents(c[3:5])[:40])
	bad(append(encodeEvents(c[3:5]), 0))
	bad([]byte{entryCommand, '{'})
	bad(encodeEvents([]event.Event{c[1], c[8]}))     // not consecutive; would reach past the entry if trimmed
	bad(encodeEvents([]event.Event{c[3], c[5]}))     // not consecutive, though a wing holding C5 could link it
	bad(encodeEvents([]event.Event{c[3], other[1]})) // two wings
	bad(encodeEvents([]event.Event{c[4], c[3]}))     // backwards
	zero := c[0]
	zero.Seq = 0
	bad(encodeEvents([]event.Event{zero}))
	lb.events(c[3:6]...)
	want = append(want, outcome{committed: 6})

	results := applyInGroups(w.f, lb.logs, 1)
	checkOutcomes(t, "one by one", results, want)
	h := w.held(t)
	assert.Equal(t, map[string]uint64{"C": 6}, h.State.Committed)
	assert.Equal(t, uint64(len(lb.logs)), h.State.Applied, "malformed entries are applied, as nothing")
	assert.Len(t, h.Commits, 6)

	w2 := newWing(t, "B", 0)
	checkOutcomes(t, "in one batch", w2.f.ApplyBatch(lb.logs), want)
	h2 := w2.held(t)
	assert.Equal(t, h.Commits, h2.Commits)
	assert.Equal(t, h.State, h2.State)
}

func TestFSMSkipsEntriesAppliedBefore(t *testing.T) {
	w := newWing(t, "A", 3)
	l := &raft.Log{Index: 5, Type: raft.LogCommand, Data: encodeEvents(w.events)}
	assert.Equal(t, ApplyResult{Committed: 3}, w.f.Apply(l))
	assert.Equal(t, ApplyResult{Err: errAlreadyApplied}, w.f.Apply(l))
	older := &raft.Log{Index: 4, Type: raft.LogCommand, Data: encodeCommand(Command{Op: OpRoster, Roster: officers("o-9")})}
	assert.Equal(t, ApplyResult{Err: errAlreadyApplied}, w.f.Apply(older))
	assert.Empty(t, w.f.snapshot().Agreed.Roster)
	// Entries without a command still move Applied.
	noop := &raft.Log{Index: 6, Type: raft.LogNoop}
	assert.Nil(t, w.f.Apply(noop))
	assert.Equal(t, uint64(6), w.f.snapshot().Applied)
	site, err := w.st.Site()
	require.NoError(t, err)
	assert.Equal(t, uint64(6), site.Applied)
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "test" }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }
func (s *memSink) Close() error  { s.closed = true; return nil }

func persist(t *testing.T, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	require.NoError(t, err)
	defer snap.Release()
	var sink memSink
	require.NoError(t, snap.Persist(&sink))
	require.True(t, sink.closed)
	require.False(t, sink.cancelled)
	return sink.Bytes()
}

func restore(f *fsm, snap []byte) error { return f.Restore(io.NopCloser(bytes.NewReader(snap))) }

// copyCommits copies src's commit order after dst's last commit, up to
// raft index upto, as a peer's catch-up does.
func copyCommits(t *testing.T, src, dst *store.Store, upto uint64) {
	t.Helper()
	for {
		index, n, err := dst.LastCommit()
		require.NoError(t, err)
		if index >= upto {
			return
		}
		page, err := src.CommitsAfter(index, n, 4) // small pages: entries split across pages
		require.NoError(t, err)
		var entries []store.Entry
		for _, c := range page {
			if c.Index > upto {
				break
			}
			if k := len(entries) - 1; k >= 0 && entries[k].Index == c.Index {
				entries[k].Events = append(entries[k].Events, c.Event)
				continue
			}
			entries = append(entries, store.Entry{Index: c.Index, First: c.N, Events: []event.Event{c.Event}})
		}
		if len(entries) == 0 {
			return
		}
		refused, err := dst.Ingest(context.Background(), store.Batch{Entries: entries})
		require.NoError(t, err)
		for i, r := range refused {
			require.NoError(t, r, "entry %d", entries[i].Index)
		}
	}
}

func TestRestoreOfASnapshotTheStoreAlreadyHolds(t *testing.T) {
	a, b, c := threeWings(t)
	sl := buildSiteLog(a.events, b.events, c.events)
	applyInGroups(a.f, sl.logs[:10], 3)
	older := persist(t, a.f)
	applyInGroups(a.f, sl.logs[10:], 3)
	newest := persist(t, a.f)

	// Wing D already holds every committed event (fetched from a peer,
	// say), but has applied nothing.
	d := newWing(t, "D", 0)
	copyCommits(t, a.st, d.st, ^uint64(0))
	var calls int
	d.f.catchUp = func(_ context.Context, st fsmState) error {
		calls++
		heads, err := d.st.Heads()
		require.NoError(t, err)
		for w, seq := range st.Committed {
			assert.GreaterOrEqual(t, heads[w], seq, "wing %s", w)
		}
		return nil
	}
	require.NoError(t, restore(d.f, newest))
	assert.Equal(t, 1, calls)
	assert.Equal(t, a.f.snapshot(), d.f.snapshot())
	ha, hd := a.held(t), d.held(t)
	assert.Equal(t, ha.Commits, hd.Commits)
	assert.Equal(t, ha.Site.Applied, hd.Site.Applied)
	assert.JSONEq(t, string(ha.Site.FSM), string(hd.Site.FSM))

	// An older snapshot, or the same one again, is ignored.
	require.NoError(t, restore(d.f, older))
	require.NoError(t, restore(d.f, newest))
	assert.Equal(t, 1, calls)
	assert.Equal(t, hd, d.held(t))

	// After a restart the state comes from the store, and a restore of
	// the snapshot it already holds is ignored too.
	d.reopen(t)
	assert.Equal(t, a.f.snapshot(), d.f.snapshot())
	require.NoError(t, restore(d.f, newest))

	// The log after the snapshot applies on top, as on the wing that made it.
	var more logBuilder
	more.logs = append(more.logs, sl.logs...)
	extra := appendLocal(t, a, 2)
	l := more.events(extra...)
	assert.Equal(t, ApplyResult{Committed: 10}, a.f.Apply(l))
	assert.Equal(t, ApplyResult{Committed: 10}, d.f.Apply(l))
	assert.Equal(t, allCommits(t, a.st), allCommits(t, d.st))
	assert.Equal(t, a.f.snapshot(), d.f.snapshot())
}

// appendLocal records n more local events on w.
func appendLocal(t *testing.T, w *testWing, n int) []event.Event {
	t.Helper()
	var out []event.Event
	for range n {
		r, err := w.st.Append(context.Background(), event.Draft{Kind: event.AlarmRaised, Subject: w.wing + "-P1", Actor: event.SystemActor})
		require.NoError(t, err)
		out = append(out, r.Event)
		w.events = append(w.events, r.Event)
	}
	return out
}

func TestRestoreOfANewerSnapshotCatchesUp(t *testing.T) {
	a, b, c := threeWings(t)
	sl := buildSiteLog(a.events, b.events, c.events)
	applyInGroups(a.f, sl.logs, 4)
	snap := persist(t, a.f)

	// Wing E fell behind the log: its store is empty.
	e := newWing(t, "E", 0)
	var asked fsmState
	e.f.catchUp = func(_ context.Context, st fsmState) error {
		asked = st
		copyCommits(t, a.st, e.st, st.Applied)
		return nil
	}
	require.NoError(t, restore(e.f, snap))
	assert.Equal(t, a.f.snapshot(), asked, "catchUp is given the snapshot's state")
	ha, he := a.held(t), e.held(t)
	assert.Equal(t, ha.Commits, he.Commits)
	assert.Equal(t, ha.Heads, he.Heads)
	assert.Equal(t, ha.State, he.State)
	assert.Equal(t, ha.Site.Applied, he.Site.Applied)

	// Then it follows the log with everyone else.
	var more logBuilder
	more.logs = append(more.logs, sl.logs...)
	l := more.events(appendLocal(t, b, 3)...)
	assert.Equal(t, ApplyResult{Committed: 9}, a.f.Apply(l))
	assert.Equal(t, ApplyResult{Committed: 9}, e.f.Apply(l))
	assert.Equal(t, allCommits(t, a.st), allCommits(t, e.st))
	e.reopen(t)
	assert.Equal(t, a.f.snapshot(), e.f.snapshot())
}

func TestRestoreFailsCleanlyWhenCatchUpFails(t *testing.T) {
	a, b, c := threeWings(t)
	sl := buildSiteLog(a.events, b.events, c.events)
	applyInGroups(a.f, sl.logs, len(sl.logs))
	snap := persist(t, a.f)

	e := newWing(t, "E", 2)
	applyInGroups(e.f, []*raft.Log{sl.logs[0]}, 1)
	before := e.held(t)
	noPeer := errors.New("no wing reachable")
	e.f.catchUp = func(context.Context, fsmState) error { return noPeer }
	err := restore(e.f, snap)
	require.ErrorIs(t, err, noPeer)
	assert.Contains(t, err.Error(), fmt.Sprintf("index %d", len(sl.logs)))
	assert.Equal(t, before, e.held(t), "nothing taken")

	// A stop while catching up cancels it.
	stop := make(chan struct{})
	stopping, err := newFSM(e.st, quiet(), stop)
	require.NoError(t, err)
	stopping.catchUp = func(ctx context.Context, _ fsmState) error {
		close(stop)
		<-ctx.Done()
		return ctx.Err()
	}
	require.ErrorIs(t, restore(stopping, snap), context.Canceled)
	assert.Equal(t, before, e.held(t))

	// An unreadable snapshot is refused.
	require.Error(t, restore(e.f, []byte(`{"applied":`)))
	require.Error(t, restore(e.f, []byte(`not json`)))
	assert.Equal(t, before, e.held(t))

	// Once a peer answers, the same snapshot restores.
	e.f.catchUp = func(_ context.Context, st fsmState) error {
		copyCommits(t, a.st, e.st, st.Applied)
		return nil
	}
	require.NoError(t, restore(e.f, snap))
	assert.Equal(t, a.f.snapshot(), e.f.snapshot())
	assert.Equal(t, allCommits(t, a.st), allCommits(t, e.st))
}

func TestSnapshotIsTheState(t *testing.T) {
	a := newWing(t, "A", 4)
	var lb logBuilder
	lb.events(a.events...)
	lb.command(Command{Op: OpRoster, Roster: officers("o-3")})
	a.f.ApplyBatch(lb.logs)
	var st fsmState
	require.NoError(t, json.Unmarshal(persist(t, a.f), &st))
	assert.Equal(t, a.f.snapshot(), st)
	assert.Equal(t, uint64(2), st.Applied)
	assert.Equal(t, map[string]uint64{"A": 4}, st.Committed)

	// The snapshot is a copy: later entries do not change it.
	snap, err := a.f.Snapshot()
	require.NoError(t, err)
	lb.command(Command{Op: OpRoster, Roster: officers("o-4")})
	a.f.ApplyBatch(lb.logs[2:])
	var sink memSink
	require.NoError(t, snap.Persist(&sink))
	require.NoError(t, json.Unmarshal(sink.Bytes(), &st))
	assert.Equal(t, officers("o-3"), st.Agreed.Roster)
}

func TestThreeRaftNodesConverge(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three raft nodes")
	}
	wings := []*testWing{newWing(t, "A", 7), newWing(t, "B", 5), newWing(t, "C", 3)}
	var servers []raft.Server
	transports := map[raft.ServerAddress]*raft.InmemTransport{}
	for _, w := range wings {
		addr, trans := raft.NewInmemTransport(raft.ServerAddress(w.wing))
		transports[addr] = trans
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(w.wing), Address: addr})
	}
	for a, ta := range transports {
		for b, tb := range transports {
			if a != b {
				ta.Connect(b, tb)
			}
		}
	}
	nodes := make([]*raft.Raft, len(wings))
	for i, w := range wings {
		conf := raft.DefaultConfig()
		conf.LocalID = raft.ServerID(w.wing)
		conf.HeartbeatTimeout = 50 * time.Millisecond
		conf.ElectionTimeout = 50 * time.Millisecond
		conf.LeaderLeaseTimeout = 50 * time.Millisecond
		conf.CommitTimeout = 5 * time.Millisecond
		conf.BatchApplyCh = true
		conf.Logger = hclog.NewNullLogger()
		logs, snaps := raft.NewInmemStore(), raft.NewInmemSnapshotStore()
		trans := transports[raft.ServerAddress(w.wing)]
		require.NoError(t, raft.BootstrapCluster(conf, logs, logs, snaps, trans, raft.Configuration{Servers: servers}))
		r, err := raft.NewRaft(conf, w.f, logs, logs, snaps, trans)
		require.NoError(t, err)
		nodes[i] = r
		// Cleanups run last first: raft stops before its store closes.
		t.Cleanup(func() { r.Shutdown().Error() })
	}
	var leader *raft.Raft
	require.Eventually(t, func() bool {
		for _, r := range nodes {
			if r.State() == raft.Leader {
				leader = r
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "no leader elected")

	apply := func(data []byte) (ApplyResult, uint64) {
		t.Helper()
		f := leader.Apply(data, 2*time.Second)
		require.NoError(t, f.Error())
		r, ok := f.Response().(ApplyResult)
		require.True(t, ok, "response %T", f.Response())
		return r, f.Index()
	}
	// Each wing's events in overlapping batches, as the leader's pull
	// sends them, with a duplicate and a command between.
	for _, w := range wings {
		n := uint64(len(w.events))
		r, _ := apply(encodeEvents(w.events[:2]))
		assert.Equal(t, ApplyResult{Committed: 2}, r)
		r, _ = apply(encodeEvents(w.events[1:]))
		assert.Equal(t, ApplyResult{Committed: n}, r)
		r, _ = apply(encodeEvents(w.events[:2]))
		assert.Equal(t, ApplyResult{Committed: n}, r, "a duplicate")
	}
	r, _ := apply(encodeCommand(Command{Op: OpLockdown, Lockdown: &wing.Lockdown{Active: true, Reason: "drill"}}))
	assert.NoError(t, r.Err)
	r, last := apply(encodeEvents(wings[0].events[5:]))
	assert.Equal(t, ApplyResult{Committed: 7}, r)

	require.Eventually(t, func() bool {
		for _, w := range wings {
			if w.f.snapshot().Applied < last {
				return false
			}
		}
		return true
	}, 5*time.Second, 5*time.Millisecond, "followers did not apply the log")
	require.NoError(t, leader.Barrier(2*time.Second).Error())
	for _, r := range nodes {
		require.NoError(t, r.Shutdown().Error())
	}

	want := wings[0].held(t)
	assert.Len(t, want.Commits, 7+5+3)
	assert.Equal(t, map[string]uint64{"A": 7, "B": 5, "C": 3}, want.Heads)
	assert.Equal(t, map[string]uint64{"A": 7, "B": 5, "C": 3}, want.State.Committed)
	assert.True(t, want.State.Agreed.Lockdown.Active)
	for _, w := range wings[1:] {
		got := w.held(t)
		assert.Equal(t, want.Commits, got.Commits, "wing %s", w.wing)
		assert.Equal(t, want.Heads, got.Heads, "wing %s", w.wing)
		assert.Equal(t, want.State, got.State, "wing %s", w.wing)
	}
}

// FuzzApplyCommand: whatever bytes a peer gets committed, applying them
// never panics, gives a result, and applies the same on a second wing:
// the agreed state stays the same everywhere, before the rules (on a new
// FSM) and under them (after ruledLog). A refusal under the rules is
// recorded with texts a screen may show.
func FuzzApplyCommand(f *testing.F) {
	for _, c := range []Command{
		{Op: OpLockdown, Lockdown: &wing.Lockdown{Active: true, Reason: "fire", By: "2001", Since: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}},
		{Op: OpRemoveWing, Wing: "B"},
		{Op: OpAddWing, Wing: "C", Addr: "127.0.0.1:8443"},
		{Op: OpRolloutStop, Reason: "stop"},
		lockdown("B", "2001", "2001", "fire", logged),
		lockdown("B", "2001", "governor-forged", "fire \u202e\x00", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)),
		{Op: OpRolloutReport, From: "B", Wing: "C", Build: 7},
		{Op: OpOfficerSet, From: "C", By: "2001", Officer: &roster.Entry{ID: "1002", Role: roster.Officer}},
		{Op: OpRoster, From: "A", By: SiteIT, Roster: Roster{{ID: "a b", Role: roster.Officer}}},
		{Op: OpRules, From: "A", Rules: rulesVersion},
	} {
		f.Add(encodeCommand(c))
	}
	f.Add([]byte{})
	f.Add([]byte{2, '{', '}'})
	f.Add(append([]byte{entryCommand}, `{"op":"lockdown","FROM":"C","from":"B","by":"2001","lockdown":{"active":true,"by":"2001","since":"2026-11-25T08:00:00Z"}}`...))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, setup := range []func() *logBuilder{func() *logBuilder { return &logBuilder{} }, ruledLog} {
			var results [2]any
			var agreed [2]Agreed
			for i := range 2 {
				w := newWing(t, "A", 0)
				b := setup()
				b.add(data).AppendedAt = logged
				out := applyInGroups(w.f, b.logs, 1)
				results[i] = out[len(out)-1]
				agreed[i] = w.f.snapshot().Agreed
			}
			require.Equal(t, agreed[0], agreed[1], "the same entry applies the same on every wing")
			require.Equal(t, fmt.Sprint(results[0]), fmt.Sprint(results[1]))
			for _, r := range agreed[0].Refused {
				require.NoError(t, checkShown(r), "%+v", r)
			}
		}
	})
}

func TestAgreedClients(t *testing.T) {
	var a Agreed
	add := func(name string, r *ClientRecord) error {
		return a.apply(Command{Op: OpAddClient, Client: name, ClientRecord: r})
	}
	require.NoError(t, add("hq", &ClientRecord{Role: RoleCentral, Serial: "12"}))
	require.NoError(t, add("it", &ClientRecord{Role: RoleSiteIT, TokenHash: "ab"}))
	require.Error(t, add("x", &ClientRecord{Role: "admin", Serial: "1"}), "an unknown role")
	require.Error(t, add("x", &ClientRecord{Role: RoleCentral}), "no credential")
	require.Error(t, add("x", &ClientRecord{Role: RoleCentral, Serial: "1", TokenHash: "ab"}), "two credentials")
	require.Error(t, add("a b", &ClientRecord{Role: RoleCentral, Serial: "1"}), "a bad name")
	require.NoError(t, a.apply(Command{Op: OpRevokeClient, Client: "hq"}))
	require.True(t, a.Clients["hq"].Revoked)
	require.Error(t, a.apply(Command{Op: OpRevokeClient, Client: "nobody"}))
	require.NoError(t, add("hq", &ClientRecord{Role: RoleCentral, Serial: "13"}), "issued again, replacing the revoked one")
	require.Equal(t, ClientRecord{Role: RoleCentral, Serial: "13"}, a.Clients["hq"])
}

func TestAgreedWingReplacement(t *testing.T) {
	a := Agreed{Wings: map[string]WingRecord{}}
	require.NoError(t, a.apply(Command{Op: OpAddWing, Wing: "B", Addr: "b:1", Serial: "7"}))
	require.NoError(t, a.apply(Command{Op: OpReplaceWing, Wing: "B"}))
	require.Equal(t, WingRecord{Addr: "b:1", Replaced: []string{"7"}}, a.Wings["B"])
	require.NoError(t, a.apply(Command{Op: OpAddWing, Wing: "B", Addr: "b:2", Serial: "8"}), "the new board joins under the same id")
	require.Equal(t, WingRecord{Addr: "b:2", Serial: "8", Replaced: []string{"7"}}, a.Wings["B"], "the old certificate stays refused")
	require.Error(t, a.apply(Command{Op: OpReplaceWing, Wing: "Z"}))
	require.NoError(t, a.apply(Command{Op: OpRemoveWing, Wing: "B"}))
	require.Error(t, a.apply(Command{Op: OpReplaceWing, Wing: "B"}), "a decommissioned wing is not replaced")
}
