package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/firmware"
	"wingnode/sensors"
	"wingnode/sensors/annunciate"
	"wingnode/sensors/scenario"
	"wingnode/sensors/simulate"
	"wingnode/ui"
)

// Config configures an appliance. The zero value runs the built-in
// simulated wing A with its data in ./data, screens on 127.0.0.1:8080.
type Config struct {
	// DataDir holds the store (wing.db). Default "data".
	DataDir string
	// Wing is the wing's configuration; when its ID is empty the built-in
	// simulated wing with id SimulatedWing is used.
	Wing config.Wing
	// SimulatedWing is the id of the built-in wing; default "A".
	SimulatedWing string
	// Listen is the screens' address; default "127.0.0.1:8080". Use
	// "127.0.0.1:0" for a free port (see Addr).
	Listen string
	// Simulate reads the inputs from simulated hardware registered in
	// periph's GPIO registry, instead of from a real board.
	Simulate bool
	// SimulatedActivity plays Scenario on the simulated hardware, over and
	// over; without it only Sim() changes the inputs.
	SimulatedActivity bool
	// Scenario is the simulated activity; nil means the built-in one.
	Scenario *scenario.Scenario
	// Version is recorded in the appliance.started event and shown on screen.
	Version string
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
	// Clock is the time source for debounce and simulation; default real.
	Clock clockwork.Clock
	// PinByName finds an input or output pin; default sensors.PinByName.
	PinByName func(name string) gpio.PinIO
	// OpenI2C opens an I2C bus by name; default periph's i2creg.Open.
	OpenI2C func(name string) (i2c.BusCloser, error)
	// ClimateInterval is how often environment sensors are read; default 10 s.
	ClimateInterval time.Duration
	// CheckpointEvery is how many events pass between state checkpoints;
	// default 10,000.
	CheckpointEvery int
	// Site configures the wing's site membership and replication.
	Site SiteConfig
	// ClockOffset is added to the system clock for event time stamps: a
	// wing whose clock is wrong, for fault tests. Zero in service.
	ClockOffset time.Duration
	// UpdateDevice and Reboot stand in for a wingnode image's update
	// machinery in tests: the slots, and the init's reboot. Nil means the
	// image's own (firmware.LoadDevice on the data folder, and init).
	UpdateDevice func() (firmware.Device, error)
	Reboot       func() error
}

// Appliance is one wing appliance.
type Appliance struct {
	cfg     Config
	log     *slog.Logger
	layout  config.Wing
	store   *store.Store
	updates *updates // site IT's firmware endpoint and the rollout agent's installer
	ui      *ui.Server

	mu          sync.Mutex
	state       *wing.State
	folded      uint64 // position of the newest event folded into state
	subscribers map[chan event.Event]struct{}
	pending     map[string]bool // alarm points with a raise submitted but not yet folded
	climate     map[string]ui.ClimateReading
	storeFault  error                   // the store's last refusal, until it records again
	faultSince  time.Time               // when the store first refused
	held        []heldDraft             // observed events the store refused, oldest first (held.go)
	heldN       uint64                  // events ever held, numbering them
	heldLost    int                     // held events let go past maxHeld
	annunciator *annunciate.Annunciator // while Run runs with outputs configured
	sinceSave   int

	sim  *simulation // simulated hardware, when Config.Simulate
	site *siteMember // while Run runs

	checkpointing sync.Mutex
	addr          chan string
}

// New opens the store and rebuilds the wing state from it.
func New(cfg Config) (*Appliance, error) {
	cfg = cfg.withDefaults()
	layout := cfg.Wing
	if layout.ID == "" {
		w, err := config.Simulated(cfg.SimulatedWing)
		if err != nil {
			return nil, err
		}
		layout = w
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("appliance: data folder: %w", err)
	}
	a := &Appliance{
		cfg: cfg, log: cfg.Log, layout: layout,
		subscribers: map[chan event.Event]struct{}{},
		pending:     map[string]bool{},
		climate:     map[string]ui.ClimateReading{},
		addr:        make(chan string, 1),
	}
	opts := store.Options{Wing: layout.ID, Committed: a.committed}
	if off := cfg.ClockOffset; off != 0 {
		opts.Clock = event.NewClock(func() time.Time { return time.Now().Add(off) })
	}
	st, err := store.Open(filepath.Join(cfg.DataDir, "wing.db"), opts)
	if err != nil {
		return nil, err
	}
	a.store = st
	a.updates = newUpdates(cfg.DataDir, a.log)
	if cfg.UpdateDevice != nil {
		a.updates.device = cfg.UpdateDevice
	}
	if cfg.Reboot != nil {
		a.updates.reboot = cfg.Reboot
	}
	a.updates.member = a.member
	if err := a.rebuild(); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Simulate {
		if a.sim, err = newSimulation(layout, cfg.Clock); err != nil {
			st.Close()
			return nil, fmt.Errorf("appliance: simulated hardware: %w", err)
		}
		if a.cfg.OpenI2C == nil {
			a.cfg.OpenI2C = a.sim.openBus
		}
	}
	a.ui = ui.New(a, ui.Options{Version: cfg.Version})
	return a, nil
}

func (c Config) withDefaults() Config {
	if c.DataDir == "" {
		c.DataDir = "data"
	}
	if c.SimulatedWing == "" {
		c.SimulatedWing = "A"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 10_000
	}
	return c
}

// rebuild loads the last checkpoint and folds every event after it.
func (a *Appliance) rebuild() error {
	start := time.Now()
	pos, data, err := a.store.Checkpoint()
	if err != nil {
		return err
	}
	state := wing.New()
	if pos > 0 {
		if s, err := wing.UnmarshalCheckpoint(data); err != nil {
			a.log.Warn("state checkpoint not usable; folding every event", "err", err)
			pos = 0
		} else {
			state = s
		}
	}
	n := 0
	err = a.store.Scan(pos, func(r event.Record) error {
		state.Fold(r.Event)
		pos = r.Pos
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("appliance: rebuild wing state: %w", err)
	}
	a.mu.Lock()
	a.state, a.folded = state, pos
	a.mu.Unlock()
	a.log.Info("wing state rebuilt", "wing", a.layout.ID, "events_folded", n, "position", pos, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// committed is the store's commit hook: fold, then tell the screens.
func (a *Appliance) committed(batch []event.Record) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, r := range batch {
		a.state.Fold(r.Event)
		if r.Event.Kind == event.AlarmRaised {
			delete(a.pending, r.Event.Subject)
		}
		for ch := range a.subscribers {
			select {
			case ch <- r.Event:
			default:
				// Fell behind: the screen reloads rather than miss an event.
				delete(a.subscribers, ch)
				close(ch)
			}
		}
	}
	a.folded = batch[len(batch)-1].Pos
	if a.site != nil && slices.ContainsFunc(batch, func(r event.Record) bool { return r.Event.Wing == a.layout.ID }) {
		a.site.node.Recorded()
	}
	if a.storeFault != nil && len(a.held) == 0 { // else storeHeld says when the backlog is stored
		a.log.Info("events are being recorded again", "after", time.Since(a.faultSince).Round(time.Second))
		a.storeFault = nil
	}
	if a.annunciator != nil {
		a.annunciator.Show(a.summaryLocked())
	}
	a.sinceSave += len(batch)
	if a.sinceSave >= a.cfg.CheckpointEvery {
		a.sinceSave = 0
		data, err := a.state.MarshalCheckpoint()
		if err != nil {
			a.log.Error("state checkpoint", "err", err)
			return
		}
		go a.saveCheckpoint(a.folded, data)
	}
}

func (a *Appliance) saveCheckpoint(pos uint64, data []byte) {
	a.checkpointing.Lock()
	defer a.checkpointing.Unlock()
	if err := a.store.SaveCheckpoint(pos, data); err != nil {
		a.log.Error("state checkpoint", "err", err)
	}
}

// checkpointNow saves the state as it is, for a quick next start.
func (a *Appliance) checkpointNow() {
	a.mu.Lock()
	pos := a.folded
	data, err := a.state.MarshalCheckpoint()
	a.mu.Unlock()
	if err == nil {
		a.saveCheckpoint(pos, data)
	}
}

// Run records the start, reads the inputs and serves the screens until
// ctx ends, then records a clean stop.
func (a *Appliance) Run(ctx context.Context) error {
	defer func() {
		if r := recover(); r != nil {
			a.safeOutputs()
			panic(r)
		}
	}()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("appliance: screens on %s: %w (is another wingnode running? choose another address with -listen)", a.cfg.Listen, err)
	}
	a.addr <- ln.Addr().String()
	if _, err := a.store.Append(ctx, event.Draft{Kind: event.ApplianceStarted, Subject: a.layout.ID, Actor: event.SystemActor,
		Data: map[string]string{"version": a.cfg.Version}}); err != nil {
		ln.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	a.startHardware(ctx, &wg)
	wg.Add(1)
	go a.runSite(ctx, &wg)
	srv := &http.Server{Handler: a.screens(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.log.Info("wing appliance running", "wing", a.layout.ID, "config", a.layout.Source, "screens", "http://"+ln.Addr().String(), "simulated", a.cfg.Simulate)

	select {
	case <-ctx.Done():
	case err = <-served:
		err = fmt.Errorf("appliance: screens: %w", err)
	}
	a.ui.Close()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(shutdownCtx)
	cancel()
	wg.Wait()
	if _, serr := a.store.Append(context.Background(), event.Draft{Kind: event.ApplianceStopped, Subject: a.layout.ID, Actor: event.SystemActor}); serr != nil {
		err = errors.Join(err, serr)
	}
	a.log.Info("wing appliance stopped", "wing", a.layout.ID)
	return err
}

// Addr waits until Run listens and returns the screens' address.
func (a *Appliance) Addr(ctx context.Context) (string, error) {
	select {
	case addr := <-a.addr:
		a.addr <- addr
		return addr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Close saves a state checkpoint, closes the store and releases simulated
// pins. Call it after Run has returned.
func (a *Appliance) Close() error {
	a.checkpointNow()
	a.mu.Lock()
	for ch := range a.subscribers {
		delete(a.subscribers, ch)
		close(ch)
	}
	a.mu.Unlock()
	var err error
	if a.sim != nil {
		err = a.sim.Close()
	}
	return errors.Join(err, a.store.Close())
}

// Handler returns the screens and API, for tests that serve them themselves.
func (a *Appliance) Handler() http.Handler { return a.ui }

// Layout implements ui.Wing.
func (a *Appliance) Layout() config.Wing { return a.layout }

// State implements ui.Wing.
func (a *Appliance) State() *wing.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.Clone()
}

// Query implements ui.Wing.
func (a *Appliance) Query(_ context.Context, q event.Query) (event.Page, error) {
	return a.store.Query(q)
}

// Tail implements ui.Wing.
func (a *Appliance) Tail(_ context.Context, after uint64, limit int) ([]event.Record, error) {
	return a.store.Tail(after, limit)
}

// Subscribe implements ui.Wing.
func (a *Appliance) Subscribe() (<-chan event.Event, func()) {
	ch := make(chan event.Event, 256)
	a.mu.Lock()
	a.subscribers[ch] = struct{}{}
	a.mu.Unlock()
	return ch, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, ok := a.subscribers[ch]; ok {
			delete(a.subscribers, ch)
			close(ch)
		}
	}
}

// maxNote bounds an officer's note on a resolved alarm.
const maxNote = 200

// Acknowledge implements ui.Wing. Acknowledging an alarm that is already
// acknowledged records nothing and is not an error.
func (a *Appliance) Acknowledge(ctx context.Context, id event.ID, officer string) error {
	alarm, err := a.alarmFor(id, officer)
	if err != nil || alarm.Acknowledged != nil {
		return err
	}
	_, err = a.store.Append(ctx, event.Draft{Kind: event.AlarmAcknowledged, Subject: alarm.Point, Actor: officer,
		Data: map[string]string{"alarm": id.String()}})
	return err
}

// Clear implements ui.Wing.
func (a *Appliance) Clear(ctx context.Context, id event.ID, officer, note string) error {
	alarm, err := a.alarmFor(id, officer)
	if err != nil {
		return err
	}
	if len(note) > maxNote {
		return fmt.Errorf("appliance: the note is %d characters; at most %d", len(note), maxNote)
	}
	data := map[string]string{"alarm": id.String()}
	if note != "" {
		data["note"] = note
	}
	_, err = a.store.Append(ctx, event.Draft{Kind: event.AlarmCleared, Subject: alarm.Point, Actor: officer, Data: data})
	return err
}

func (a *Appliance) alarmFor(id event.ID, officer string) (wing.Alarm, error) {
	if officer == "" {
		return wing.Alarm{}, errors.New("appliance: an officer must be named to act on an alarm")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state.CanAct(id)
}

// Recording implements ui.Wing.
func (a *Appliance) Recording() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.storeFault == nil {
		return nil
	}
	return fmt.Errorf("no event stored since %s: %v", a.faultSince.Local().Format("15:04:05"), a.storeFault)
}

// Store gives tests and the bench direct access to the event store.
func (a *Appliance) Store() *store.Store { return a.store }

var _ ui.Wing = (*Appliance)(nil)

// pointsOf lists the GPIO inputs of a wing for the sensors package:
// door and lock contacts and alarm buttons not wired as supervised lines.
func pointsOf(w config.Wing) []sensors.Point {
	var out []sensors.Point
	add := func(id string, in config.Input) {
		if in.ADC != nil {
			return
		}
		pull := gpio.PullUp
		switch in.Pull {
		case config.PullDown:
			pull = gpio.PullDown
		case config.PullNone:
			pull = gpio.Float
		}
		out = append(out, sensors.Point{ID: id, Pin: in.Pin, ActiveLow: in.ActiveLow, Pull: pull, Debounce: in.Debounce})
	}
	for _, d := range w.Doors {
		add(d.ID, d.Input)
		if d.Lock != nil {
			add(d.ID+wing.LockSuffix, *d.Lock)
		}
	}
	for _, p := range w.AlarmPoints {
		add(p.ID, p.Input)
	}
	return out
}

// Climate implements ui.Wing.
func (a *Appliance) Climate() []ui.ClimateReading {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ui.ClimateReading, 0, len(a.layout.Sensors))
	for _, s := range a.layout.Sensors {
		r := a.climate[s.ID]
		r.Sensor = s.ID
		out = append(out, r)
	}
	return out
}

// Sim returns the simulated hardware when Config.Simulate is set, so tests
// and the bench can open a door; nil otherwise.
func (a *Appliance) Sim() *simulate.Wiring {
	if a.sim == nil {
		return nil
	}
	return a.sim.Wiring
}

// SimulatedOutputs returns the simulated annunciator outputs, when simulating.
func (a *Appliance) SimulatedOutputs() *simulate.Outputs {
	if a.sim == nil {
		return nil
	}
	return a.sim.Outputs
}
