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
	// Heads returns the newest seq of each wing the store holds.
	Heads() (map[string]uint64, error)
	// Get returns the event id.
	Get(id event.ID) (event.Record, error)
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
	// Spool is the file that keeps held events across a restart
	// (spool.go), reserved at start with SpoolSize bytes (default
	// DefaultSpoolSize); empty holds them in memory only.
	Spool     string
	SpoolSize int64
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
	// spool keeps the held events on disk, when Config.Spool is set.
	spool           *spool
	spoolDirty      bool // held events written to the spool since its last sync
	spoolFullLogged bool

	live liveInputs // what each input read last, for the screens (live.go)
}

type submitted struct {
	draft   event.Draft
	pending *store.Pending
}

// New returns the recording of a wing. With a spool, the events it held
// before a restart are held again, to be stored once Run runs; a spool
// that cannot be opened or reserved (a full disk at start) is logged and
// done without. Nothing is recorded until Run runs.
func New(cfg Config) *Recorder {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SpoolSize <= 0 {
		cfg.SpoolSize = DefaultSpoolSize
	}
	r := &Recorder{cfg: cfg, waits: make(chan submitted, 1024), pending: map[claim]bool{}}
	if cfg.Spool != "" {
		sp, held, err := openSpool(cfg.Spool, cfg.SpoolSize)
		if err != nil {
			cfg.Log.Error("observed events the store refuses will be held in memory only: a restart before it takes them loses them", "err", err)
			return r
		}
		r.spool = sp
		r.restore(held)
	}
	return r
}

// restore holds again the events the spool kept from before a restart,
// but the first of them when the store already has it (a crash after
// storing it, before the spool counted it).
func (r *Recorder) restore(held []heldDraft) {
	if len(held) == 0 {
		return
	}
	first := held[0]
	for i := range held {
		held[i].spooled = true
		r.heldN = max(r.heldN, held[i].n)
	}
	if r.alreadyStored(first) {
		held = held[1:]
		if err := r.spool.markStored(1, len(held)); err != nil {
			r.cfg.Log.Error("held-event spool: cannot count an event stored", "err", err)
		}
	}
	r.held = held
	if len(held) > 0 {
		r.fault, r.faultSince = errFromBeforeRestart, r.cfg.Clock.Now()
		r.cfg.Log.Warn("observed events held before the restart wait for the store", "events", len(held))
	}
}

// alreadyStored reports whether the wing's newest event is h, stored.
func (r *Recorder) alreadyStored(h heldDraft) bool {
	heads, err := r.cfg.Store.Heads()
	if err != nil || heads[r.cfg.Wing.ID] == 0 {
		return false
	}
	last, err := r.cfg.Store.Get(event.ID{Wing: r.cfg.Wing.ID, Seq: heads[r.cfg.Wing.ID]})
	e := last.Event
	return err == nil && e.Kind == h.draft.Kind && e.Subject == h.draft.Subject && e.Data["observed_at"] == h.at.UTC().Format(time.RFC3339Nano)
}

// Close closes the spool.
func (r *Recorder) Close() error {
	if r.spool == nil {
		return nil
	}
	return r.spool.close()
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
