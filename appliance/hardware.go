package appliance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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
	"wingnode/ui"
)

// LineSupply is the voltage supervised lines are fed from; the ADC reads
// on its ±6.144 V range so that a cut line's full supply is not clipped.
const LineSupply = 5 * physic.Volt

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
func (a *Appliance) watchLines(ctx context.Context, b *buses, out chan<- sensors.Reading) {
	var lines []supervise.Line
	add := func(id string, in config.Input) {
		if in.ADC == nil {
			return
		}
		d, err := b.adc(*in.ADC)
		if err != nil {
			select {
			case out <- sensors.Reading{Point: id, Fault: supervise.FaultADC, At: a.cfg.Clock.Now(),
				Detail: fmt.Sprintf("the ADC of %s cannot be reached: %v", in.ADC, err)}:
			case <-ctx.Done():
			}
			return
		}
		lines = append(lines, supervise.Line{ID: id, ADC: d, Channel: in.ADC.Channel, Bands: supervise.Bands{Supply: LineSupply}, Debounce: in.Debounce})
	}
	for _, d := range a.layout.Doors {
		add(d.ID, d.Input)
		if d.Lock != nil {
			add(d.ID+wing.LockSuffix, *d.Lock)
		}
	}
	for _, p := range a.layout.AlarmPoints {
		add(p.ID, p.Input)
	}
	if len(lines) == 0 {
		return
	}
	if err := supervise.WatchLines(ctx, lines, supervise.LineOptions{Clock: a.cfg.Clock}, out); err != nil {
		a.log.Error("supervised lines", "err", err)
	}
}

// watchClimate reads the environment sensors: readings are kept for the
// screen; limits crossed and sensors gone silent are recorded.
func (a *Appliance) watchClimate(ctx context.Context, b *buses) {
	var monitored []climate.Sensor
	for _, s := range a.layout.Sensors {
		dev, err := a.sensorDevice(b, s)
		if err != nil {
			a.record(ctx, event.Draft{Kind: event.InputFault, Subject: s.ID,
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
		m := climate.Monitor{Sensors: monitored, Clock: a.cfg.Clock, Interval: a.cfg.ClimateInterval}
		if err := m.Run(ctx, events); err != nil {
			a.log.Error("environment sensors", "err", err)
		}
	}()
	silent := map[string]bool{}
	st := a.State()
	for _, s := range a.layout.Sensors {
		silent[s.ID] = st.Inputs[s.ID].Faulted
	}
	for {
		var ev climate.Event
		select {
		case <-ctx.Done():
			return
		case ev = <-events:
		}
		switch ev := ev.(type) {
		case climate.Sample:
			a.mu.Lock()
			a.climate[ev.Sensor] = ui.ClimateReading{Sensor: ev.Sensor, At: ev.At,
				TemperatureC: ev.Temperature.Celsius(), HumidityPct: float64(ev.Humidity) / float64(physic.PercentRH)}
			a.mu.Unlock()
		case climate.Condition:
			switch {
			case ev.Kind == climate.ConditionSilent && ev.Active && !silent[ev.Sensor]:
				silent[ev.Sensor] = true
				a.record(ctx, event.Draft{Kind: event.InputFault, Subject: ev.Sensor,
					Data: map[string]string{"fault": climate.ConditionSilent, "detail": "the sensor does not answer: check its cable and address"}})
			case ev.Kind == climate.ConditionSilent && !ev.Active && silent[ev.Sensor]:
				silent[ev.Sensor] = false
				a.record(ctx, event.Draft{Kind: event.InputRestored, Subject: ev.Sensor})
			case ev.Kind != climate.ConditionSilent:
				a.record(ctx, event.Draft{Kind: event.ClimateCondition, Subject: ev.Sensor,
					Data: map[string]string{"condition": ev.Kind, "active": fmt.Sprint(ev.Active), "value": ev.Value}})
			}
		}
	}
}

func (a *Appliance) sensorDevice(b *buses, s config.Sensor) (climate.Device, error) {
	bus, err := b.bus(s.Bus)
	if err != nil {
		return nil, err
	}
	return climate.NewSHT3x(bus, s.Addr, climate.WithClock(a.cfg.Clock))
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

// record appends an event the appliance observed, logging what it cannot store.
func (a *Appliance) record(ctx context.Context, d event.Draft) {
	if d.Actor == "" {
		d.Actor = event.SystemActor
	}
	if a.queueBehindHeld(d) {
		return
	}
	if _, err := a.store.Append(ctx, d); err != nil && ctx.Err() == nil {
		a.failed(d, err)
	}
}

// annunciators drives the wing's sounders, strobes and panel LEDs from the
// alarm state. They start in their safe state (off) and return to it when
// ctx ends, or when the appliance stops telling them the state (a hang).
func (a *Appliance) annunciators(ctx context.Context) {
	var outputs []annunciate.Output
	for _, o := range a.layout.Outputs {
		pin := a.pinByName(o.Pin)
		if pin == nil {
			a.record(ctx, event.Draft{Kind: event.InputFault, Subject: o.ID,
				Data: map[string]string{"fault": sensors.FaultPinMissing, "detail": fmt.Sprintf("no GPIO line %q for %s %s", o.Pin, o.Kind, o.ID)}})
			continue
		}
		kind := map[config.OutputKind]annunciate.OutputKind{config.Sounder: annunciate.Sounder, config.Strobe: annunciate.Strobe, config.LED: annunciate.LED}[o.Kind]
		outputs = append(outputs, annunciate.Output{ID: o.ID, Kind: kind, Pin: pin, ActiveLow: o.ActiveLow})
	}
	if len(outputs) == 0 {
		return
	}
	ann, err := annunciate.New(outputs, annunciate.Options{Clock: a.cfg.Clock, OnError: func(err error) {
		a.log.Error("annunciator", "err", err)
	}})
	if err != nil {
		a.log.Error("annunciators", "err", err)
		return
	}
	a.mu.Lock()
	a.annunciator = ann
	a.mu.Unlock()
	ann.Show(a.summary())
	go func() {
		tick := a.cfg.Clock.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.Chan():
				ann.Show(a.summary())
			}
		}
	}()
	if err := ann.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("annunciators", "err", err)
	}
	a.mu.Lock()
	a.annunciator = nil
	a.mu.Unlock()
}

// summary is what the annunciators show of the wing's state.
func (a *Appliance) summary() annunciate.Summary {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.summaryLocked()
}

func (a *Appliance) summaryLocked() annunciate.Summary {
	var s annunciate.Summary
	for _, al := range a.state.ActiveAlarms() {
		s.Active++
		if al.Acknowledged == nil {
			s.Unacknowledged++
			if s.HighestUnacknowledgedPriority == 0 || al.Priority < s.HighestUnacknowledgedPriority {
				s.HighestUnacknowledgedPriority = al.Priority
			}
		}
	}
	for _, in := range a.state.Inputs {
		if in.Faulted {
			s.Faults++
		}
	}
	return s
}
