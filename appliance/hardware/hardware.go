package hardware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/physic"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sensors"
	"wingnode/sensors/adc"
	"wingnode/sensors/annunciate"
	"wingnode/sensors/climate"
	"wingnode/sensors/supervise"
)

// LineSupply is the voltage supervised lines are fed from; the ADC reads
// on its ±6.144 V range so that a cut line's full supply is not clipped.
const LineSupply = 5 * physic.Volt

// Config configures a wing's hardware.
type Config struct {
	// Wing is the wing's layout: its inputs, sensors and outputs.
	Wing config.Wing
	// Record is the recording's write path, for what the hardware itself
	// observes: environment conditions, silent sensors, missing outputs.
	Record func(context.Context, event.Draft)
	// Read runs f on the wing's folded state under its lock: what the
	// annunciators show, and which sensors were already silent.
	Read func(f func(*wing.State))
	// Clock drives debounce, polling and the annunciators' patterns;
	// default the real clock.
	Clock clockwork.Clock
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
	// PinByName finds an input or output pin; default periph's registry
	// (gpioreg.ByName). The binary passes one that also finds the lines of
	// the board's GPIO chips (Board.PinByName).
	PinByName func(name string) gpio.PinIO
	// OpenI2C opens an I2C bus by name; default periph's i2creg.Open.
	OpenI2C func(name string) (i2c.BusCloser, error)
	// ClimateInterval is how often environment sensors are read; default
	// the climate monitor's.
	ClimateInterval time.Duration
}

// Hardware is a wing's inputs, environment sensors and annunciators.
type Hardware struct {
	cfg Config

	mu          sync.Mutex
	climate     map[string]climate.Sample // each sensor's latest good reading
	annunciator *annunciate.Annunciator   // while Run runs with outputs configured
}

// New returns the hardware of a wing; nothing is read until Run.
func New(cfg Config) *Hardware {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.PinByName == nil {
		cfg.PinByName = gpioreg.ByName
	}
	return &Hardware{cfg: cfg, climate: map[string]climate.Sample{}}
}

// Run reads the inputs (plain GPIO contacts and supervised lines) into
// readings, watches the environment sensors and drives the annunciators,
// until ctx ends. Each part runs guarded (see Guard).
func (h *Hardware) Run(ctx context.Context, readings chan<- sensors.Reading) {
	var wg sync.WaitGroup
	wg.Go(h.Guard(func() {
		if err := sensors.Watch(ctx, points(h.cfg.Wing), sensors.Options{Lookup: h.cfg.PinByName, Clock: h.cfg.Clock}, readings); err != nil {
			h.cfg.Log.Error("inputs", "err", err)
		}
	}))
	b := newBuses(h.cfg.OpenI2C)
	var i2c sync.WaitGroup
	i2c.Go(h.Guard(func() { h.watchLines(ctx, b, readings) }))
	i2c.Go(h.Guard(func() { h.watchClimate(ctx, b) }))
	wg.Go(func() {
		i2c.Wait()
		if err := b.Close(); err != nil {
			h.cfg.Log.Warn("I2C buses", "err", err)
		}
	})
	wg.Go(h.Guard(func() { h.annunciators(ctx) }))
	wg.Wait()
}

// Guard wraps f so that a panic in it puts the annunciators in their safe
// state (off) before the panic goes on and ends the process. A panic
// elsewhere, a kill or a power cut leaves the GPIO lines undriven, which
// the board's output stages must treat as off.
func (h *Hardware) Guard(f func()) func() {
	return func() {
		defer func() {
			if r := recover(); r != nil {
				h.Safe()
				panic(r)
			}
		}()
		f()
	}
}

// Safe puts the annunciators in their safe state for good.
func (h *Hardware) Safe() {
	h.mu.Lock()
	ann := h.annunciator
	h.mu.Unlock()
	if ann != nil {
		if err := ann.Safe(); err != nil {
			h.cfg.Log.Error("annunciators could not be made safe", "err", err)
		}
	}
}

// Climate returns each environment sensor's latest good reading, in
// configuration order; a sensor not read yet has only its id.
func (h *Hardware) Climate() []climate.Sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]climate.Sample, 0, len(h.cfg.Wing.Sensors))
	for _, s := range h.cfg.Wing.Sensors {
		r := h.climate[s.ID]
		r.Sensor = s.ID
		out = append(out, r)
	}
	return out
}

// points lists the GPIO inputs of a wing for the sensors package: door
// and lock contacts and alarm buttons not wired as supervised lines.
func points(w config.Wing) []sensors.Point {
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
		if p.Reset != nil {
			add(p.ID+wing.ResetSuffix, *p.Reset)
		}
	}
	return out
}

// buses opens each I2C bus once and closes them together.
type buses struct {
	open   func(name string) (i2c.BusCloser, error)
	mu     sync.Mutex
	byName map[string]i2c.BusCloser
	adcs   map[string]*adc.ADS1115
}

func newBuses(open func(string) (i2c.BusCloser, error)) *buses {
	if open == nil {
		open = i2creg.Open
	}
	return &buses{open: open, byName: map[string]i2c.BusCloser{}, adcs: map[string]*adc.ADS1115{}}
}

func (b *buses) bus(name string) (i2c.Bus, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if bus, ok := b.byName[name]; ok {
		return bus, nil
	}
	bus, err := b.open(name)
	if err != nil {
		return nil, fmt.Errorf("I2C bus %s: %w", name, err)
	}
	b.byName[name] = bus
	return bus, nil
}

func (b *buses) adc(ch config.ADCChannel) (*adc.ADS1115, error) {
	key := fmt.Sprintf("%s/0x%02x", ch.Bus, ch.Addr)
	b.mu.Lock()
	d, ok := b.adcs[key]
	b.mu.Unlock()
	if ok {
		return d, nil
	}
	bus, err := b.bus(ch.Bus)
	if err != nil {
		return nil, err
	}
	d, err = adc.NewADS1115(bus, ch.Addr, adc.Options{Range: 6144 * physic.MilliVolt})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.adcs[key] = d
	b.mu.Unlock()
	return d, nil
}

func (b *buses) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for _, bus := range b.byName {
		errs = append(errs, bus.Close())
	}
	return errors.Join(errs...)
}

// watchLines reads the supervised inputs: door, lock and alarm lines
// wired through an ADC.
func (h *Hardware) watchLines(ctx context.Context, b *buses, out chan<- sensors.Reading) {
	var lines []supervise.Line
	add := func(id string, in config.Input) {
		if in.ADC == nil {
			return
		}
		d, err := b.adc(*in.ADC)
		if err != nil {
			select {
			case out <- sensors.Reading{Point: id, Fault: supervise.FaultADC, At: h.cfg.Clock.Now(),
				Detail: fmt.Sprintf("the ADC of %s cannot be reached: %v", in.ADC, err)}:
			case <-ctx.Done():
			}
			return
		}
		lines = append(lines, supervise.Line{ID: id, ADC: d, Channel: in.ADC.Channel, Bands: supervise.Bands{Supply: LineSupply}, Debounce: in.Debounce})
	}
	for _, d := range h.cfg.Wing.Doors {
		add(d.ID, d.Input)
		if d.Lock != nil {
			add(d.ID+wing.LockSuffix, *d.Lock)
		}
	}
	for _, p := range h.cfg.Wing.AlarmPoints {
		add(p.ID, p.Input)
	}
	if len(lines) == 0 {
		return
	}
	if err := supervise.WatchLines(ctx, lines, supervise.LineOptions{Clock: h.cfg.Clock}, out); err != nil {
		h.cfg.Log.Error("supervised lines", "err", err)
	}
}

// watchClimate reads the environment sensors: readings are kept for the
// screen; limits crossed and sensors gone silent are recorded.
func (h *Hardware) watchClimate(ctx context.Context, b *buses) {
	var monitored []climate.Sensor
	for _, s := range h.cfg.Wing.Sensors {
		dev, err := h.sensorDevice(b, s)
		if err != nil {
			h.cfg.Record(ctx, event.Draft{Kind: event.InputFault, Subject: s.ID,
				Data: map[string]string{"fault": climate.ConditionSilent, "detail": err.Error()}})
			continue
		}
		monitored = append(monitored, climate.Sensor{ID: s.ID, Device: dev, Limits: limitsOf(s)})
	}
	if len(monitored) == 0 {
		return
	}
	events := make(chan climate.Event, 64)
	go func() {
		m := climate.Monitor{Sensors: monitored, Clock: h.cfg.Clock, Interval: h.cfg.ClimateInterval}
		if err := m.Run(ctx, events); err != nil {
			h.cfg.Log.Error("environment sensors", "err", err)
		}
	}()
	silent := map[string]bool{}
	h.cfg.Read(func(st *wing.State) {
		for _, s := range h.cfg.Wing.Sensors {
			silent[s.ID] = st.Inputs[s.ID].Faulted
		}
	})
	for {
		var ev climate.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-events:
		}
		switch ev := ev.(type) {
		case climate.Sample:
			h.mu.Lock()
			h.climate[ev.Sensor] = ev
			h.mu.Unlock()
		case climate.Condition:
			switch {
			case ev.Kind == climate.ConditionSilent && ev.Active && !silent[ev.Sensor]:
				silent[ev.Sensor] = true
				data := map[string]string{"fault": climate.ConditionSilent, "detail": "the sensor does not answer: check its cable and address"}
				h.mu.Lock()
				if last := h.climate[ev.Sensor].At; !last.IsZero() {
					data["last_reading"] = last.UTC().Format(time.RFC3339Nano) // silent since then, not since the fault was seen
				}
				h.mu.Unlock()
				h.cfg.Record(ctx, event.Draft{Kind: event.InputFault, Subject: ev.Sensor, Data: data})
			case ev.Kind == climate.ConditionSilent && !ev.Active && silent[ev.Sensor]:
				silent[ev.Sensor] = false
				h.cfg.Record(ctx, event.Draft{Kind: event.InputRestored, Subject: ev.Sensor})
			case ev.Kind != climate.ConditionSilent:
				h.cfg.Record(ctx, event.Draft{Kind: event.ClimateCondition, Subject: ev.Sensor,
					Data: map[string]string{"condition": ev.Kind, "active": fmt.Sprint(ev.Active), "value": ev.Value}})
			}
		}
	}
}

func (h *Hardware) sensorDevice(b *buses, s config.Sensor) (climate.Device, error) {
	bus, err := b.bus(s.Bus)
	if err != nil {
		return nil, err
	}
	return climate.NewSHT3x(bus, s.Addr, climate.WithClock(h.cfg.Clock))
}

func limitsOf(s config.Sensor) climate.Limits {
	var l climate.Limits
	celsius := func(c float64) physic.Temperature {
		return physic.ZeroCelsius + physic.Temperature(c*float64(physic.Celsius))
	}
	if s.HotAboveC != nil {
		l.HotAbove = celsius(*s.HotAboveC)
	}
	if s.ColdBelowC != nil {
		l.ColdBelow = celsius(*s.ColdBelowC)
	}
	if s.HumidAbove != nil {
		l.HumidAbove = physic.RelativeHumidity(*s.HumidAbove * float64(physic.PercentRH))
	}
	return l
}

// annunciators drives the wing's sounders, strobes and panel LEDs from the
// alarm state. They start in their safe state (off) and return to it when
// ctx ends, or when the appliance stops telling them the state (a hang).
func (h *Hardware) annunciators(ctx context.Context) {
	var outputs []annunciate.Output
	for _, o := range h.cfg.Wing.Outputs {
		pin := h.cfg.PinByName(o.Pin)
		if pin == nil {
			h.cfg.Record(ctx, event.Draft{Kind: event.InputFault, Subject: o.ID,
				Data: map[string]string{"fault": sensors.FaultPinMissing, "detail": fmt.Sprintf("no GPIO line %q for %s %s", o.Pin, o.Kind, o.ID)}})
			continue
		}
		kind := map[config.OutputKind]annunciate.OutputKind{config.Sounder: annunciate.Sounder, config.Strobe: annunciate.Strobe, config.LED: annunciate.LED}[o.Kind]
		outputs = append(outputs, annunciate.Output{ID: o.ID, Kind: kind, Pin: pin, ActiveLow: o.ActiveLow})
	}
	if len(outputs) == 0 {
		return
	}
	ann, err := annunciate.New(outputs, annunciate.Options{Clock: h.cfg.Clock, OnError: func(err error) {
		h.cfg.Log.Error("annunciator", "err", err)
	}})
	if err != nil {
		h.cfg.Log.Error("annunciators", "err", err)
		return
	}
	h.mu.Lock()
	h.annunciator = ann
	h.mu.Unlock()
	ann.Show(h.summary())
	go func() {
		tick := h.cfg.Clock.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.Chan():
				ann.Show(h.summary())
			}
		}
	}()
	if err := ann.Run(ctx); err != nil && ctx.Err() == nil {
		h.cfg.Log.Error("annunciators", "err", err)
	}
	h.mu.Lock()
	h.annunciator = nil
	h.mu.Unlock()
}

// Show is the hardware's step of the store's commit hook: the
// annunciators show the alarm state at once (they also refresh it every
// 2 s, and fall safe when that stops).
func (h *Hardware) Show() {
	h.mu.Lock()
	ann := h.annunciator
	h.mu.Unlock()
	if ann != nil {
		ann.Show(h.summary())
	}
}

// summary is what the annunciators show of the wing's state.
func (h *Hardware) summary() annunciate.Summary {
	var s annunciate.Summary
	h.cfg.Read(func(st *wing.State) {
		for _, al := range st.ActiveAlarms() {
			s.Active++
			unattended := al.PointKind == wing.CellCall && (al.Attended == nil || al.Attended.How != wing.AttendedAtReset)
			if al.Escalated(wing.EscalatedUnacknowledged) && al.Acknowledged == nil || al.Escalated(wing.EscalatedUnattended) && unattended {
				s.Escalated++
			}
			if al.Acknowledged == nil {
				s.Unacknowledged++
				if s.HighestUnacknowledgedPriority == 0 || al.Priority < s.HighestUnacknowledgedPriority {
					s.HighestUnacknowledgedPriority = al.Priority
				}
			}
		}
		for _, in := range st.Inputs {
			if in.Faulted {
				s.Faults++
			}
		}
	})
	return s
}
