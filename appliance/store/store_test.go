package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"wingnode/appliance/event"
)

// openTemp opens a store for wing "A" in a fresh temporary folder.
func openTemp(t *testing.T, opt Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wing.db")
	if opt.Wing == "" {
		opt.Wing = "A"
	}
	s, err := Open(path, opt)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s, path
}

func door(subject string, open bool) event.Draft {
	k := event.DoorClosed
	if open {
		k = event.DoorOpened
	}
	return event.Draft{Kind: k, Subject: subject, Actor: event.SystemActor}
}

func TestAppendIsDurableAcrossReopen(t *testing.T) {
	s, path := openTemp(t, Options{})
	ctx := context.Background()
	var want []event.Event
	for i := range 10 {
		r, err := s.Append(ctx, door(fmt.Sprintf("A1-%02d", i), i%2 == 0))
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), r.Event.Seq)
		require.Equal(t, uint64(i+1), r.Pos)
		want = append(want, r.Event)
	}
	require.NoError(t, s.Close())

	s2, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	defer s2.Close()
	got, err := s2.Tail(0, 100)
	require.NoError(t, err)
	require.Len(t, got, 10)
	for i, r := range got {
		assert.Equal(t, want[i], r.Event)
	}
	// The chain continues where it stopped, and the clock moves on past it.
	r, err := s2.Append(ctx, door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, uint64(11), r.Event.Seq)
	assert.Equal(t, want[9].Hash, r.Event.Prev)
	assert.Positive(t, r.Event.HLC.Compare(want[9].HLC))
	require.NoError(t, s2.Close())

	rep, err := Verify(path)
	require.NoError(t, err)
	assert.Equal(t, 11, rep.Events)
	assert.Equal(t, uint64(11), rep.Wings["A"])
}

func TestGroupCommitSharesTransactionsAmongWriters(t *testing.T) {
	var batches, events atomic.Int64
	s, path := openTemp(t, Options{Committed: func(b []event.Record) {
		batches.Add(1)
		events.Add(int64(len(b)))
	}})
	const writers, each = 64, 50
	var wg sync.WaitGroup
	seqs := make(chan uint64, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r, err := s.Append(context.Background(), door(fmt.Sprintf("W%02d", w), i%2 == 0))
				if !assert.NoError(t, err) {
					return
				}
				seqs <- r.Event.Seq
			}
		})
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for q := range seqs {
		require.False(t, seen[q], "seq %d handed out twice", q)
		seen[q] = true
	}
	require.Len(t, seen, writers*each)
	for q := uint64(1); q <= writers*each; q++ {
		require.True(t, seen[q], "seq %d missing", q)
	}
	assert.Equal(t, int64(writers*each), events.Load())
	// With 64 writers waiting on each fsync, transactions must carry many
	// events each; one fsync per event would mean no group commit.
	assert.Less(t, batches.Load(), int64(writers*each/4), "transactions for %d events", writers*each)
	require.NoError(t, s.Close())
	_, err := Verify(path)
	require.NoError(t, err)
}

func TestCommittedSeesBatchesInPositionOrder(t *testing.T) {
	var mu sync.Mutex
	var order []uint64
	s, _ := openTemp(t, Options{Committed: func(b []event.Record) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range b {
			order = append(order, r.Pos)
		}
	}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				_, err := s.Append(context.Background(), door("A1-01", true))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	for i, p := range order {
		require.Equal(t, uint64(i+1), p)
	}
}

func TestAppendRefusesBadDrafts(t *testing.T) {
	s, _ := openTemp(t, Options{})
	for name, d := range map[string]event.Draft{
		"unknown kind":  {Kind: "door.exploded", Subject: "A1-01", Actor: "system"},
		"no subject":    {Kind: event.DoorOpened, Actor: "system"},
		"no actor":      {Kind: event.DoorOpened, Subject: "A1-01"},
		"long subject":  {Kind: event.DoorOpened, Subject: strings.Repeat("x", 300), Actor: "system"},
		"invalid utf-8": {Kind: event.DoorOpened, Subject: "\xff", Actor: "system"},
	} {
		_, err := s.Append(context.Background(), d)
		assert.Error(t, err, name)
	}
	recs, err := s.Tail(0, 10)
	require.NoError(t, err)
	assert.Empty(t, recs, "a refused draft must not be recorded")
}

func TestSecondOpenOfAHeldFileIsRefused(t *testing.T) {
	_, path := openTemp(t, Options{})
	_, err := Open(path, Options{Wing: "A", LockTimeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "stop the other wingnode")
	_, err = Verify(path)
	require.ErrorIs(t, err, ErrLocked)
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	s, path := openTemp(t, Options{})
	require.NoError(t, s.Close())
	db, err := bolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(metaBucket).Put(schemaKey, []byte{99})
	}))
	require.NoError(t, db.Close())
	_, err = Open(path, Options{Wing: "A"})
	require.ErrorIs(t, err, ErrNewerSchema)
	assert.Contains(t, err.Error(), "upgrade wingnode")
}

func TestOpenRefusesAnotherWingsFile(t *testing.T) {
	s, path := openTemp(t, Options{Wing: "A"})
	require.NoError(t, s.Close())
	_, err := Open(path, Options{Wing: "B"})
	require.ErrorIs(t, err, ErrOtherWing)
}

func TestOpenRefusesDamagedFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	require.NoError(t, os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 2000), 0o600))
	_, err := Open(garbage, Options{Wing: "A"})
	require.ErrorIs(t, err, ErrDamaged)
	assert.ErrorIs(t, err, bolterrors.ErrInvalid, "the cause is wrapped too")
	assert.Contains(t, err.Error(), "restore")

	s, path := openTemp(t, Options{})
	for range 100 {
		_, err := s.Append(context.Background(), door("A1-01", true))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, fi.Size()/3))
	_, err = Open(path, Options{Wing: "A"})
	require.ErrorIs(t, err, ErrDamaged)
	t.Log(err)
	_, err = Verify(path)
	require.ErrorIs(t, err, ErrDamaged)
}

// tamper flips one byte inside every stored copy of marker (bbolt's
// copy-on-write can leave stale copies in freed pages).
func tamper(t *testing.T, path, marker string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	n := 0
	for i := bytes.Index(b, []byte(marker)); i >= 0; i = bytes.Index(b, []byte(marker)) {
		b[i+len(marker)-1] ^= 0x01
		n++
	}
	require.Positive(t, n, "marker not in file")
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

func TestVerifyNamesTheFirstTamperedEvent(t *testing.T) {
	s, path := openTemp(t, Options{})
	ctx := context.Background()
	for i := range 500 {
		d := door("A1-01", i%2 == 0)
		if i == 99 {
			d.Data = map[string]string{"note": "TAMPER-ME-PLEASE"}
		}
		_, err := s.Append(ctx, d)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	_, err := Verify(path)
	require.NoError(t, err)

	tamper(t, path, "TAMPER-ME-PLEASE")
	rep, err := Verify(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Equal(t, "A/100 (position 100)", rep.FirstBad)
	assert.Contains(t, err.Error(), "A/100")
	assert.Contains(t, err.Error(), "altered")
	assert.Equal(t, 99, rep.Events, "events before the bad one were verified")
}

func TestOpenChecksTheTailOfEachChain(t *testing.T) {
	s, path := openTemp(t, Options{})
	for i := range 20 {
		d := door("A1-01", true)
		if i == 18 {
			d.Data = map[string]string{"note": "TAMPER-TAIL"}
		}
		_, err := s.Append(context.Background(), d)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	tamper(t, path, "TAMPER-TAIL")
	_, err := Open(path, Options{Wing: "A"})
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "A/19")
	assert.Contains(t, err.Error(), "wingnode verify")
}

func TestQueryFiltersAndPages(t *testing.T) {
	var now atomic.Int64
	base := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	clock := event.NewClock(func() time.Time { return base.Add(time.Duration(now.Add(1)) * time.Minute) })
	s, _ := openTemp(t, Options{Clock: clock})
	ctx := context.Background()
	for i := range 300 {
		d := door(fmt.Sprintf("A1-%02d", i%3), i%2 == 0)
		_, err := s.Append(ctx, d)
		require.NoError(t, err)
	}

	// Every page of a subject's history, newest first, with no duplicates.
	var all []event.Record
	q := event.Query{Subject: "A1-01", Limit: 7}
	for {
		p, err := s.Query(q)
		require.NoError(t, err)
		all = append(all, p.Records...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	require.Len(t, all, 100)
	for i, r := range all {
		assert.Equal(t, "A1-01", r.Event.Subject)
		if i > 0 {
			assert.Less(t, r.Pos, all[i-1].Pos)
		}
	}

	// Kinds and a time range together: minutes 101..150 hold 50 events.
	p, err := s.Query(event.Query{Kinds: []event.Kind{event.DoorOpened}, From: base.Add(101 * time.Minute), To: base.Add(151 * time.Minute), Limit: 1000})
	require.NoError(t, err)
	require.Len(t, p.Records, 25)
	for _, r := range p.Records {
		assert.Equal(t, event.DoorOpened, r.Event.Kind)
	}
	assert.Empty(t, p.Next)

	_, err = s.Query(event.Query{Cursor: "bogus!"})
	require.ErrorIs(t, err, event.ErrBadCursor)
	_, err = s.Query(event.Query{Subject: "A1-01", Cursor: page1Next(t, s)})
	require.ErrorIs(t, err, event.ErrBadCursor, "a cursor of another index")

	got, err := s.Get(event.ID{Wing: "A", Seq: 42})
	require.NoError(t, err)
	assert.Equal(t, uint64(42), got.Pos)
	_, err = s.Get(event.ID{Wing: "A", Seq: 4242})
	require.ErrorIs(t, err, ErrNotFound)

	tail, err := s.Tail(295, 100)
	require.NoError(t, err)
	require.Len(t, tail, 5)
	assert.Equal(t, uint64(296), tail[0].Pos)
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, _ := openTemp(t, Options{})
	pos, data, err := s.Checkpoint()
	require.NoError(t, err)
	assert.Zero(t, pos)
	assert.Nil(t, data)
	require.NoError(t, s.SaveCheckpoint(17, []byte("state")))
	pos, data, err = s.Checkpoint()
	require.NoError(t, err)
	assert.Equal(t, uint64(17), pos)
	assert.Equal(t, []byte("state"), data)
}

func TestAppendAfterCloseFails(t *testing.T) {
	s, _ := openTemp(t, Options{})
	require.NoError(t, s.Close())
	_, err := s.Append(context.Background(), door("A1-01", true))
	require.ErrorIs(t, err, ErrClosed)
}

// crashWriterEnv makes the test binary act as a writer that prints each
// acknowledged seq, to be killed with SIGKILL by TestKilledWriterLosesNoAcknowledgedEvent.
const crashWriterEnv = "WINGNODE_STORE_CRASH_WRITER"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		crashWriter(path)
		return
	}
	os.Exit(m.Run())
}

func crashWriter(path string) {
	s, err := Open(path, Options{Wing: "A"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				r, err := s.Append(context.Background(), door(fmt.Sprintf("C%02d", w), i%2 == 0))
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %d\n", r.Event.Seq)
				out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestKilledWriterLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writer processes; skipped in -short")
	}
	path := filepath.Join(t.TempDir(), "wing.db")
	acked := map[uint64]bool{}
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stdout)
		// Kill at a different point each round, mid-stream.
		target := 2000 * (round + 1)
		for n := 0; n < target && lines.Scan(); n++ {
			q, err := strconv.ParseUint(strings.TrimPrefix(lines.Text(), "ack "), 10, 64)
			require.NoError(t, err)
			acked[q] = true
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		// Acknowledgements already written to the pipe count too.
		for lines.Scan() {
			q, err := strconv.ParseUint(strings.TrimPrefix(lines.Text(), "ack "), 10, 64)
			if err == nil {
				acked[q] = true
			}
		}
		_ = cmd.Wait()
		require.NotContains(t, stderr.String(), "store:", "writer failed: %s", stderr.String())

		rep, err := Verify(path)
		require.NoError(t, err, "round %d", round)
		s, err := Open(path, Options{Wing: "A"})
		require.NoError(t, err)
		for q := range acked {
			_, err := s.Get(event.ID{Wing: "A", Seq: q})
			require.NoError(t, err, "acknowledged seq %d lost after kill -9 (round %d)", q, round)
		}
		require.NoError(t, s.Close())
		t.Logf("round %d: %d acknowledged, %d in file", round, len(acked), rep.Events)
	}
}

func TestSubmitKeepsOneSubmittersOrder(t *testing.T) {
	s, _ := openTemp(t, Options{})
	var pending []*Pending
	for i := range 500 {
		p, err := s.Submit(context.Background(), door("A1-01", i%2 == 0))
		require.NoError(t, err)
		pending = append(pending, p)
	}
	for i, p := range pending {
		r, err := p.Wait()
		require.NoError(t, err)
		require.Equal(t, uint64(i+1), r.Event.Seq, "submission %d recorded out of order", i)
		require.Equal(t, i%2 == 0, r.Event.Kind == event.DoorOpened)
	}
}

// page1Next returns the cursor after the first page of an unfiltered query.
func page1Next(t *testing.T, s *Store) string {
	p, err := s.Query(event.Query{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, p.Next)
	return p.Next
}
