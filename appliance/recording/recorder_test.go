package recording

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/sensors"
)

// refusing is a real store that refuses every event while full is set,
// as a full disk would.
type refusing struct {
	*store.Store
	full atomic.Bool
}

var errFull = errors.New("no space left on device")

func (r *refusing) Submit(ctx context.Context, d event.Draft) (*store.Pending, error) {
	if r.full.Load() {
		return nil, errFull
	}
	return r.Store.Submit(ctx, d)
}

func (r *refusing) Append(ctx context.Context, d event.Draft) (event.Record, error) {
	if r.full.Load() {
		return event.Record{}, errFull
	}
	return r.Store.Append(ctx, d)
}

// TestRefusedEventsAreHeldInOrderAndStoredLater: while the store refuses,
// observed events are held, recording reports that it has stopped, and
// later events queue behind the held ones; once the store takes events
// again they are stored in the order observed, with when they were
// observed, and recording is reported again.
func TestRefusedEventsAreHeldInOrderAndStoredLater(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	defer st.Close()
	disk := &refusing{Store: st}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	state := wing.New()
	var mu sync.Mutex
	r := New(Config{Wing: config.Wing{ID: "A"}, Store: disk, Clock: clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Read: func(f func(*wing.State)) { mu.Lock(); defer mu.Unlock(); f(state) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx, make(chan sensors.Reading)) }()
	defer func() { cancel(); <-done }()

	disk.full.Store(true)
	r.Record(ctx, event.Draft{Kind: event.DoorOpened, Subject: "A1-01"})
	require.Error(t, r.Recording(), "recording has stopped")
	assert.ErrorIs(t, r.Recording(), errFull, "and says why")
	assert.Equal(t, 1, r.Held())

	disk.full.Store(false)
	r.Record(ctx, event.Draft{Kind: event.DoorClosed, Subject: "A1-01"}) // queues behind the held one
	assert.Equal(t, 2, r.Held(), "a later event waits behind the held one, so the order holds")
	require.Error(t, r.Recording(), "still stopped until the backlog is stored")

	require.Eventually(t, func() bool {
		clock.Advance(time.Second) // storeHeld tries each second
		return r.Held() == 0
	}, 5*time.Second, 10*time.Millisecond)
	recs, err := st.Tail(0, 10)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, event.DoorOpened, recs[0].Event.Kind)
	assert.Equal(t, event.DoorClosed, recs[1].Event.Kind)
	assert.Equal(t, "2026-12-01T10:00:00Z", recs[0].Event.Data["observed_at"], "when it was observed, not stored")
	assert.Equal(t, event.SystemActor, recs[0].Event.Actor)
	assert.NoError(t, r.Recording(), "recording again")
}

// TestAPressRaisesOnceUntilFolded: a second press of a point whose raise
// is on its way to the store raises nothing; once folded, the active
// alarm holds further presses off.
func TestAPressRaisesOnceUntilFolded(t *testing.T) {
	state := wing.New()
	r := New(Config{Wing: config.Wing{ID: "A"}, Read: func(f func(*wing.State)) { f(state) }})
	require.True(t, r.claimRaise("A1-01-CALL", "cell-call"))
	assert.False(t, r.claimRaise("A1-01-CALL", "cell-call"), "pending")
	raised := event.Event{Wing: "A", Seq: 1, Kind: event.AlarmRaised, Subject: "A1-01-CALL", Data: map[string]string{"point_kind": "cell-call", "priority": "2"}}
	state.Fold(raised)
	r.Committed([]event.Record{{Pos: 1, Event: raised}})
	assert.False(t, r.claimRaise("A1-01-CALL", "cell-call"), "active")
	assert.True(t, r.claimRaise("A1-02-CALL", "cell-call"), "another point raises")
}

// TestHeldEventsSurviveARestart: events held while the store refuses them
// are kept in the spool; a recorder started again on it holds them again,
// says recording has stopped, and stores them once the store takes
// events, in order, with when they were observed; the spool is empty
// afterwards. A record torn by a crash is ignored, and an event the store
// already has (stored just before a crash) is not stored twice.
func TestHeldEventsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	defer st.Close()
	disk := &refusing{Store: st}
	disk.full.Store(true)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	state := wing.New()
	read := func(f func(*wing.State)) { f(state) }
	spool := filepath.Join(dir, "held.spool")
	cfg := Config{Wing: config.Wing{ID: "A"}, Store: disk, Clock: clock, Log: quiet, Read: read, Spool: spool, SpoolSize: 64 << 10}

	first := New(cfg)
	ctx := context.Background()
	for i, k := range []event.Kind{event.DoorOpened, event.DoorClosed, event.DoorOpened} {
		first.Record(ctx, event.Draft{Kind: k, Subject: "A1-01"})
		clock.Advance(time.Duration(i+1) * time.Second)
	}
	require.Equal(t, 3, first.Held())
	first.syncSpool()
	require.NoError(t, first.Close()) // the process dies with the disk still full

	// The store took the first one just before the crash, and the spool's
	// last record is torn.
	_, err = st.Append(ctx, event.Draft{Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor,
		Data: map[string]string{"observed_at": "2026-12-01T10:00:00Z"}})
	require.NoError(t, err)
	f, err := os.OpenFile(spool, os.O_RDWR, 0)
	require.NoError(t, err)
	sp, held, err := openSpool(spool, 64<<10)
	require.NoError(t, err)
	require.Len(t, held, 3)
	_, err = f.WriteAt([]byte{0xff}, sp.off-3) // inside the third record
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, sp.close())

	second := New(cfg)
	assert.Equal(t, 1, second.Held(), "the first was stored before the crash, the third torn: the second is held again")
	assert.ErrorIs(t, second.Recording(), errFromBeforeRestart, "recording counts as stopped until it is stored")
	disk.full.Store(false)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); second.Run(runCtx, make(chan sensors.Reading)) }()
	require.Eventually(t, func() bool { clock.Advance(time.Second); return second.Held() == 0 }, 5*time.Second, 10*time.Millisecond)
	cancel()
	<-done
	require.NoError(t, second.Close())
	recs, err := st.Tail(0, 10)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, event.DoorClosed, recs[1].Event.Kind)
	assert.Equal(t, "2026-12-01T10:00:01Z", recs[1].Event.Data["observed_at"])
	assert.NoError(t, second.Recording())

	_, held, err = openSpool(spool, 64<<10)
	require.NoError(t, err)
	assert.Empty(t, held, "the spool is empty once everything is stored")
}
