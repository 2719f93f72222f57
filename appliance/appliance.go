package appliance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"

	"wingnode/appliance/api"
	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/hardware"
	"wingnode/appliance/officer"
	"wingnode/appliance/picture"
	"wingnode/appliance/recording"
	"wingnode/appliance/roster"
	"wingnode/appliance/shift"
	"wingnode/appliance/signin"
	"wingnode/appliance/store"
	"wingnode/appliance/update"
	"wingnode/firmware"
	"wingnode/sensors"
	"wingnode/sensors/scenario"
	"wingnode/sensors/simulate"
	"wingnode/sync/member"
	"wingnode/sync/site"
	"wingnode/ui"
)

// Config configures an appliance. The zero value runs the built-in
// simulated wing A with its data in ./data, screens on 127.0.0.1:8080.
type Config struct {
	// DataDir holds the store (wing.db) and the wing's other files
	// (appliance/datadir). Default "data".
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
	// PinByName finds an input or output pin; default periph's registry
	// (the command passes hardware.Board.PinByName, which also finds the
	// lines of the board's GPIO chips).
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
	// API configures the off-board port for central systems and site IT.
	API APIConfig
	// Rebuild has the wing fetch its own events from the site before it
	// records anything: a new board that replaces the wing (enrolled after
	// 'wingnode site replace'), or a store restored from a backup, which
	// lacks what the wing recorded since. A restart while rebuilding
	// rebuilds again (DATA/site/rebuild).
	Rebuild bool
	// Retain, when set, is how long events are kept: older ones are
	// removed once the site has committed them, every registered central
	// client has pulled them and every wing has applied them. Zero keeps
	// every event.
	Retain time.Duration
	// RetainEvery is how often clients' watermarks are reported to the
	// site and retention runs; default 1 minute.
	RetainEvery time.Duration
	// ClockOffset is added to the system clock for event time stamps: a
	// wing whose clock is wrong, for fault tests. Zero in service.
	ClockOffset time.Duration
	// DemoRoster seeds the documented demo roster (demo.go) into a site
	// whose roster is empty, and logs its numbers and PINs at start: for
	// `wingnode run -simulate` only, never a real wing or an image.
	DemoRoster bool
	// UpdateDevice and Reboot stand in for a wingnode image's update
	// machinery in tests: the slots, and the init's reboot. Nil means the
	// image's own (firmware.LoadDevice on the data folder, and init).
	UpdateDevice func() (firmware.Device, error)
	Reboot       func() error
}

// SiteConfig configures the wing's membership of its site (sync/member).
type SiteConfig struct {
	// Listen is the site port: raft and the site API, mutual TLS.
	// Default "127.0.0.1:0" (a free port; enough for a one-wing site).
	Listen string
	// Advertise is the address other wings reach this one at; default the
	// address Listen gets. Needed when Listen has no host (":8443").
	Advertise string
	// Name names a new site formed by this wing; default "site".
	Name string
	// JoinToken is a one-time enrolment token from a wing of an existing
	// site (`wingnode site token`). Without one, and without an identity
	// in the data folder, the wing forms a new site of its own. A token in
	// DATA/site/enrol-token (put there when the image is provisioned) is
	// used likewise.
	JoinToken string
	// Routes sends traffic for a wing's address to another address
	// instead: fault tests put a proxy between every pair of wings.
	Routes map[string]string
	// MaxVoters, ReplaceVoterAfter and IsolatedAfter tune the node (see
	// site.Config); zero means its defaults (5 voters, 10 minutes, 3 s).
	MaxVoters         int
	ReplaceVoterAfter time.Duration
	IsolatedAfter     time.Duration
}

// APIConfig configures the off-board port (sync/offboard): HTTPS with the
// wing's certificate from the site CA, for central systems and site IT,
// with client certificates or bearer tokens the site agrees on.
type APIConfig struct {
	// Listen is the port's address; empty leaves it off. Use
	// "127.0.0.1:0" for a free port (see APIAddr).
	Listen string
	// Rate and Burst limit each client's requests (a second, and at
	// once); zero means 20 and 40.
	Rate  float64
	Burst int
}

// Appliance is one wing appliance: the rooms below, wired together.
type Appliance struct {
	cfg    Config
	log    *slog.Logger
	layout config.Wing

	store     *store.Store         // every event, durable first
	picture   *picture.Picture     // the folded state and the open screens' feed
	recording *recording.Recorder  // the one write path of observed events
	hardware  *hardware.Hardware   // inputs, sensors and annunciators
	sim       *hardware.Simulation // the simulated hardware, when Config.Simulate
	panel     *officer.Panel       // officers' actions
	signin    *signin.Room         // officers signing in at the screens, and roster changes
	shift     *shift.Room          // the shift's handover draft, figures and timelines
	updates   *update.Updates      // site IT's firmware endpoint and the rollout agent
	ui        *ui.Server           // the screens and the API
	member    atomic.Pointer[member.Member]
	ops       *operations // what the metrics count

	addr    chan string
	apiAddr chan string
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
	data := datadir.Dir(cfg.DataDir)
	a := &Appliance{cfg: cfg, log: cfg.Log, layout: layout, addr: make(chan string, 1), apiAddr: make(chan string, 1), ops: newOperations()}
	opts := store.Options{Wing: layout.ID, Committed: a.committed, Wrote: func(d time.Duration) { a.ops.writes.Observe(d.Seconds()) }}
	if off := cfg.ClockOffset; off != 0 {
		opts.Clock = event.NewClock(func() time.Time { return time.Now().Add(off) })
	}
	st, err := store.Open(data.Store(), opts)
	if err != nil {
		return nil, err
	}
	a.store = st
	if a.picture, err = picture.Rebuild(st, cfg.CheckpointEvery, a.log.With("wing", layout.ID)); err != nil {
		st.Close()
		return nil, err
	}
	if cfg.Simulate {
		if a.sim, err = hardware.NewSimulation(layout, cfg.Clock); err != nil {
			st.Close()
			return nil, fmt.Errorf("appliance: simulated hardware: %w", err)
		}
		if cfg.OpenI2C == nil {
			cfg.OpenI2C = a.sim.OpenBus
		}
	}
	a.recording = recording.New(recording.Config{Wing: layout, Store: st, Read: a.picture.Read, Clock: cfg.Clock, Log: a.log, Spool: data.HeldSpool()})
	a.hardware = hardware.New(hardware.Config{Wing: layout, Record: a.recording.Record, Read: a.picture.Read,
		Clock: cfg.Clock, Log: a.log, PinByName: cfg.PinByName, OpenI2C: cfg.OpenI2C, ClimateInterval: cfg.ClimateInterval})
	a.panel = officer.New(officer.Config{Wing: layout, Store: st, Read: a.picture.Read, Clock: cfg.Clock,
		Site: func() officer.Site {
			if m := a.member.Load(); m != nil {
				return m
			}
			return nil
		}})
	a.shift = shift.New(shift.Config{Wing: layout, Store: st, Read: a.picture.Read, Clock: cfg.Clock})
	a.updates = update.New(update.Config{Data: data, Wing: layout.ID, Device: cfg.UpdateDevice, Reboot: cfg.Reboot, Log: a.log,
		Site: func() update.Site {
			if m := a.member.Load(); m != nil {
				return m
			}
			return nil
		}})
	a.signin = signin.New(signin.Config{Store: st, Clock: cfg.Clock, Log: a.log,
		Roster: func() []roster.Entry {
			if m := a.member.Load(); m != nil {
				return m.Roster()
			}
			return nil
		},
		Site: func() signin.Site {
			if m := a.member.Load(); m != nil {
				return m
			}
			return nil
		}})
	a.ui = ui.New(screens{a}, ui.Options{Version: cfg.Version, SignOutIdle: layout.SignOutIdle, Hosts: layout.Hosts,
		ReadCredentials: a.updates.SiteIT, Logger: a.log})
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
	if c.RetainEvery <= 0 {
		c.RetainEvery = time.Minute
	}
	if c.CheckpointEvery <= 0 {
		c.CheckpointEvery = 10_000
	}
	return c
}

// Run records the start, reads the inputs and serves the screens until
// ctx ends, then records a clean stop.
func (a *Appliance) Run(ctx context.Context) error {
	defer func() {
		if r := recover(); r != nil {
			a.hardware.Safe()
			panic(r)
		}
	}()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("appliance: screens on %s: %w (is another wingnode running? choose another address with -listen)", a.cfg.Listen, err)
	}
	var offboard net.Listener
	if a.cfg.API.Listen != "" {
		if offboard, err = net.Listen("tcp", a.cfg.API.Listen); err != nil {
			ln.Close()
			return fmt.Errorf("appliance: off-board port on %s: %w (is another wingnode running? choose another address with -api-listen)", a.cfg.API.Listen, err)
		}
		a.apiAddr <- offboard.Addr().String()
	}
	a.addr <- ln.Addr().String()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	guard := a.hardware.Guard // a panic in any of these puts the annunciators in their safe state first
	wg.Go(guard(func() { member.Run(ctx, a.memberConfig(), a.inSite) }))
	wg.Go(func() { a.watchDisk(ctx) })
	wg.Go(func() { a.keepWatermarks(ctx) })
	wg.Go(func() { a.releaseStorePages(ctx) })
	if offboard != nil {
		wg.Go(func() {
			if err := a.offboard().Serve(ctx, api.LimitListener(offboard, api.OffboardLimits())); err != nil {
				a.log.Error("the off-board port stopped", "err", err)
			}
		})
		a.log.Info("off-board port open", "addr", "https://"+offboard.Addr().String())
	}
	srv := api.Server(a.routes())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(api.LimitListener(ln, api.ScreensLimits())) }()

	// A wing that must rebuild its events from the site records nothing
	// until it has: its next event continues its chain.
	err = a.rebuild(ctx)
	started := false
	if err == nil {
		// Through the recording's write path, first in the store's queue: a
		// store that refuses it (a full disk) holds it, and the wing runs
		// and says that recording has stopped.
		a.recording.Record(ctx, event.Draft{Kind: event.ApplianceStarted, Subject: a.layout.ID, Data: map[string]string{"version": a.cfg.Version}})
		started = true
	}
	if started {
		if a.sim != nil && a.cfg.SimulatedActivity {
			a.seedSimulatedShift(ctx)
			wg.Go(guard(func() { a.sim.Play(ctx, a.cfg.Scenario, a.layout.ID, a.cfg.Clock, a.log, simulatedStaff{a, ctx}) }))
		}
		readings := make(chan sensors.Reading, 1024)
		wg.Go(func() { a.hardware.Run(ctx, readings) })
		wg.Go(guard(func() { a.recording.Run(ctx, readings) }))
		a.log.Info("wing appliance running", "wing", a.layout.ID, "config", a.layout.Source, "screens", "http://"+ln.Addr().String(), "simulated", a.cfg.Simulate)
		select {
		case <-ctx.Done():
		case err = <-served:
			err = fmt.Errorf("appliance: screens: %w", err)
		}
	}
	if errors.Is(err, context.Canceled) && !started {
		err = nil // stopped while rebuilding: nothing was recorded
	}
	a.ui.Close()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	srv.Shutdown(shutdownCtx)
	cancel()
	wg.Wait()
	if started {
		if _, serr := a.store.Append(context.Background(), event.Draft{Kind: event.ApplianceStopped, Subject: a.layout.ID, Actor: event.SystemActor}); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	a.log.Info("wing appliance stopped", "wing", a.layout.ID)
	return err
}

// The actors of what the simulated wing's scenario does as its staff
// would (simulation.go).
const (
	SimulatedSupervisor = "simulated-supervisor"
	SimulatedOfficer    = "simulated-officer"
)

func (a *Appliance) memberConfig() member.Config {
	sc := a.cfg.Site
	return member.Config{Wing: a.layout.ID, Data: datadir.Dir(a.cfg.DataDir), Store: a.store,
		Listen: sc.Listen, Advertise: sc.Advertise, Name: sc.Name, JoinToken: sc.JoinToken, Routes: sc.Routes,
		Bundles: a.updates.ServeBundle(), MaxVoters: sc.MaxVoters, ReplaceVoterAfter: sc.ReplaceVoterAfter,
		IsolatedAfter: sc.IsolatedAfter, Log: a.log}
}

// inSite runs while the wing is a member of its site: the rollout agent
// takes the wing's turns, and a simulated wing seeds its demo roster.
func (a *Appliance) inSite(ctx context.Context, m *member.Member) {
	a.member.Store(m)
	defer a.member.Store(nil)
	var wg sync.WaitGroup
	if a.cfg.DemoRoster {
		wg.Go(func() { a.seedDemoRoster(ctx, m) })
	}
	a.updates.FollowRollouts(ctx, m)
	wg.Wait()
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

// watchDisk warns in the log, once a crossing, when the data folder's
// file system falls below DiskWarnFraction free, and when it recovers.
func (a *Appliance) watchDisk(ctx context.Context) {
	low := false
	t := a.cfg.Clock.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if free, total, err := diskSpace(a.cfg.DataDir); err == nil {
			switch now := float64(free) < DiskWarnFraction*float64(total); {
			case now && !low:
				a.log.Warn("the data folder's disk is nearly full: free space before recording stops (events are kept until the site has committed them and registered clients have pulled them)",
					"free_mb", free>>20, "size_mb", total>>20)
			case !now && low:
				a.log.Info("the data folder's disk has space again", "free_mb", free>>20)
			}
			low = float64(free) < DiskWarnFraction*float64(total)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
	}
}

// releaseStoreEvery is how often the store's file pages that reading
// brought into the process go back to the kernel (store.ReleaseMapped):
// a wing under a storm, with screens and clients reading, otherwise keeps
// more of its growing store resident every minute.
const releaseStoreEvery = 30 * time.Second

// releaseStorePages hands the store's read pages back now and then, until
// ctx ends.
func (a *Appliance) releaseStorePages(ctx context.Context) {
	t := a.cfg.Clock.NewTicker(releaseStoreEvery)
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		if err := a.store.ReleaseMapped(); err != nil && !warned {
			a.log.Warn("the store's read pages stay resident", "err", err)
			warned = true
		}
	}
}

// APIAddr waits until Run listens on the off-board port and returns its
// address; it waits for ctx when the port is off.
func (a *Appliance) APIAddr(ctx context.Context) (string, error) {
	select {
	case addr := <-a.apiAddr:
		a.apiAddr <- addr
		return addr, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Close saves a state checkpoint, closes the store and releases simulated
// pins. Call it after Run has returned.
func (a *Appliance) Close() error {
	a.picture.Close()
	err := a.recording.Close()
	if a.sim != nil {
		err = errors.Join(err, a.sim.Close())
	}
	return errors.Join(err, a.store.Close())
}

// Screens is the wing as its screens see it and act on it (ui.Wing): its
// layout, its folded state and event feed, the officers' actions.
func (a *Appliance) Screens() ui.Wing { return screens{a} }

// Shift is the wing's shift room: the handover draft, the response
// figures, incident timelines and check histories.
func (a *Appliance) Shift() *shift.Room { return a.shift }

// Sim returns the simulated hardware when Config.Simulate is set, so the
// bench and tests can open a door; nil otherwise.
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

// Store is the wing's event store, for a program that embeds the
// appliance and records into it directly (the bench).
func (a *Appliance) Store() *store.Store { return a.store }

// SiteStatus is this wing's view of its site, from memory; false before
// the wing has joined or formed its site.
func (a *Appliance) SiteStatus() (site.Status, bool) {
	m := a.member.Load()
	if m == nil {
		return site.Status{}, false
	}
	return m.Status(), true
}
