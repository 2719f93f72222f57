package recording

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/sensors"
)

// Store is the event store as recording uses it (*store.Store).
type Store interface {
	// Submit queues a draft without waiting for the disk; drafts submitted
	// by one goroutine are recorded in that order.
	Submit(ctx context.Context, d event.Draft) (*store.Pending, error)
	// Append records a draft and returns once it is on disk.
	Append(ctx context.Context, d event.Draft) (event.Record, error)
}

// Config configures a Recorder.
type Config struct {
	// Wing is the wing's layout: the inputs whose readings are recorded.
	Wing config.Wing
	// Store takes the events.
	Store Store
	// Read runs f on the wing's folded state, under the state's lock; f
	// must not keep the state or call back into the recorder.
	Read func(f func(*wing.State))
	// Clock drives the time-based checks and stamps held events; default
	// the real clock.
	Clock clockwork.Clock
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
}

// Recorder is the wing's recording: the one write path of every event the
// appliance observes (Record), the rules that turn readings into events
// (Run), and the spool of events the store refused.
type Recorder struct {
	cfg   Config
	waits chan submitted // Record's queued drafts, waited for by Run

	mu         sync.Mutex
	pending    map[claim]bool // alarms raised on a point, of a kind, submitted but not yet folded
	fault      error          // the store's last refusal, until it records again
	faultSince time.Time      // when the store first refused
	held       []heldDraft    // observed events the store refused, oldest first
	heldN      uint64         // events ever held, numbering them
	heldLost   int            // held events let go past maxHeld
}

type submitted struct {
	draft   event.Draft
	pending *store.Pending
}

// New returns the recording of a wing. Nothing is recorded until Run runs.
func New(cfg Config) *Recorder {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Recorder{cfg: cfg, waits: make(chan submitted, 1024), pending: map[claim]bool{}}
}

// Record is the one write path of an event the appliance observed (its
// actor is the system unless d names one). It submits without waiting for
// the disk, so a burst of observations shares transactions, and keeps the
// order of one caller's events. An event the store refuses is held and
// stored once the store takes events again; while any are held, new ones
// queue behind them. Once ctx ends, nothing more is recorded.
func (r *Recorder) Record(ctx context.Context, d event.Draft) {
	if d.Actor == "" {
		d.Actor = event.SystemActor
	}
	if r.queueBehindHeld(d) {
		return
	}
	p, err := r.cfg.Store.Submit(ctx, d)
	if err != nil {
		if ctx.Err() == nil {
			r.failed(d, err)
		}
		return
	}
	select {
	case r.waits <- submitted{d, p}:
	case <-ctx.Done():
	}
}

// Run records the wing's readings until ctx ends: the rules turn them
// into events, the outcome of each submitted event is awaited (a refusal
// holds it), and held events are stored again each second.
func (r *Recorder) Run(ctx context.Context, readings <-chan sensors.Reading) {
	var wg sync.WaitGroup
	wg.Go(func() { r.await(ctx) })
	wg.Go(func() { r.storeHeld(ctx) })
	newRules(r).run(ctx, readings)
	wg.Wait()
}

// await waits for each submitted event's outcome, holding what the store
// refused.
func (r *Recorder) await(ctx context.Context) {
	for {
		select {
		case w := <-r.waits:
			if _, err := w.pending.Wait(); err != nil && ctx.Err() == nil {
				r.failed(w.draft, err)
			}
		case <-ctx.Done():
			return
		}
	}
}

// Committed is the recording's step of the store's commit hook: a folded
// raise is no longer pending, and a store that commits with nothing held
// records again.
func (r *Recorder) Committed(batch []event.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range batch {
		if rec.Event.Kind == event.AlarmRaised {
			delete(r.pending, claim{rec.Event.Subject, rec.Event.Data["point_kind"]})
		}
	}
	if r.fault != nil && len(r.held) == 0 { // else storeHeld says when the backlog is stored
		r.cfg.Log.Info("events are being recorded again", "after", r.cfg.Clock.Since(r.faultSince).Round(time.Second))
		r.fault = nil
	}
}

// Recording is nil while the store accepts events, and otherwise says
// what fails and since when.
func (r *Recorder) Recording() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fault == nil {
		return nil
	}
	return fmt.Errorf("no event stored since %s: %w", r.faultSince.Local().Format("15:04:05"), r.fault)
}

// claim is an alarm raised on a point, of a kind: a door may have a
// forced and a held-open alarm at once.
type claim struct{ point, kind string }

// claimRaise reports whether an alarm of kind on point should be raised:
// not while one is active or already on its way to the store. Pending is
// read before the state, both under the recorder's lock: the commit hook
// folds a raise before it stops being pending, so no raise in flight is
// missed by both.
func (r *Recorder) claimRaise(point, kind string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := claim{point, kind}
	if r.pending[c] {
		return false
	}
	active := false
	r.cfg.Read(func(s *wing.State) { _, active = s.ActiveAlarmOf(point, kind) })
	if active {
		return false
	}
	r.pending[c] = true
	return true
}
