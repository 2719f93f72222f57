package hardware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
	"wingnode/sensors/scenario"
	"wingnode/sensors/simulate"
)

// Simulation is the simulated hardware of a wing: its input pins, its
// supervised lines and environment sensors on simulated I2C buses, its
// output pins, and a wiring that addresses them by configuration id.
type Simulation struct {
	*simulate.Wiring
	Pins     *simulate.Sim
	Outputs  *simulate.Outputs
	buses    map[string]*simulate.I2CBus
	cells    []string // the wing's cell doors, for the officers' steps
	landings []string
}

// NewSimulation builds and registers simulated hardware for every point of
// w, in periph's GPIO registry; Close unregisters it.
func NewSimulation(w config.Wing, clock clockwork.Clock) (s *Simulation, err error) {
	pins, err := simulate.New(simInputs(w), simulate.Options{Clock: clock})
	if err != nil {
		return nil, err
	}
	s = &Simulation{Wiring: simulate.NewWiring(pins), Pins: pins, buses: map[string]*simulate.I2CBus{}, landings: w.Landings}
	for _, d := range w.Cells("") {
		s.cells = append(s.cells, d.ID)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	adcs := map[string]*simulate.ADS1115{}
	wire := func(id string, in config.Input) error {
		if in.ADC == nil {
			return s.Input(id, in.Pin)
		}
		key := fmt.Sprintf("%s/0x%02x", in.ADC.Bus, in.ADC.Addr)
		dev, ok := adcs[key]
		if !ok {
			dev = simulate.NewADS1115(nil)
			if err := s.bus(in.ADC.Bus).Attach(in.ADC.Addr, dev); err != nil {
				return err
			}
			adcs[key] = dev
		}
		return s.Line(id, dev, in.ADC.Channel)
	}
	for _, d := range w.Doors {
		if err := wire(d.ID, d.Input); err != nil {
			return nil, err
		}
		if d.Lock != nil {
			if err := wire(d.ID+wing.LockSuffix, *d.Lock); err != nil {
				return nil, err
			}
		}
	}
	for _, p := range w.AlarmPoints {
		if err := wire(p.ID, p.Input); err != nil {
			return nil, err
		}
		if p.Reset != nil {
			if err := wire(p.ID+wing.ResetSuffix, *p.Reset); err != nil {
				return nil, err
			}
		}
	}
	for _, sn := range w.Sensors {
		dev := simulate.NewSHT3x(nil)
		if err := s.bus(sn.Bus).Attach(sn.Addr, dev); err != nil {
			return nil, err
		}
		if err := s.Sensor(sn.ID, dev); err != nil {
			return nil, err
		}
	}
	var outs []string
	for _, o := range w.Outputs {
		outs = append(outs, o.Pin)
	}
	if s.Outputs, err = simulate.NewOutputs(outs); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Simulation) bus(name string) *simulate.I2CBus {
	b, ok := s.buses[name]
	if !ok {
		b = simulate.NewI2CBus("simulated I2C " + name)
		s.buses[name] = b
	}
	return b
}

// OpenBus opens a simulated I2C bus by name, as i2creg.Open does a real one.
func (s *Simulation) OpenBus(name string) (i2c.BusCloser, error) {
	b, ok := s.buses[name]
	if !ok {
		return nil, fmt.Errorf("simulate: no I2C bus %q", name)
	}
	return keptOpen{b}, nil
}

// BusRefs describes the simulated buses as periph's registry would the
// board's.
func (s *Simulation) BusRefs() []*i2creg.Ref {
	var refs []*i2creg.Ref
	for _, name := range slices.Sorted(maps.Keys(s.buses)) {
		n, err := strconv.Atoi(name)
		if err != nil {
			n = -1
		}
		refs = append(refs, &i2creg.Ref{Name: name, Number: n, Open: func() (i2c.BusCloser, error) { return s.OpenBus(name) }})
	}
	return refs
}

// keptOpen is a simulated bus that outlives the appliance's use of it.
type keptOpen struct{ *simulate.I2CBus }

func (keptOpen) Close() error { return nil }

// Close unregisters the simulated pins.
func (s *Simulation) Close() error {
	var errs []error
	if s.Outputs != nil {
		errs = append(errs, s.Outputs.Close())
	}
	return errors.Join(append(errs, s.Pins.Close())...)
}

// Staff is what a scenario's supervisor and officers do on the simulated
// wing: set its regime, check a cell, count a landing, sign the roll.
type Staff interface {
	SetRegime(regime string) error
	Check(cell, outcome string) error
	Count(landing string, counted int) error
	SignRoll() error
}

// Play runs the scenario (when sc is nil, the built-in one with the names
// of wing) until ctx ends, staff taking its regime, check, count and sign
// steps.
func (s *Simulation) Play(ctx context.Context, sc *scenario.Scenario, wing string, clock clockwork.Clock, log *slog.Logger, staff Staff) {
	if sc == nil {
		sc = scenario.DefaultFor(wing)
	}
	if err := sc.Play(ctx, playing{s, staff}, clock); err != nil && ctx.Err() == nil {
		log.Error("simulated activity stopped", "scenario", sc.Name(), "err", err)
	}
}

// playing is the simulated hardware as a scenario plays it, with the
// staff of the wing.
type playing struct {
	*Simulation
	Staff
}

var _ scenario.ShiftTarget = playing{}
var _ scenario.RegimeTarget = playing{}

func (p playing) Cells() []string    { return p.cells }
func (p playing) Landings() []string { return p.landings }

// simInputs lists the GPIO inputs of w for the pin simulator.
func simInputs(w config.Wing) []simulate.Input {
	var out []simulate.Input
	for _, d := range w.Doors {
		if d.Input.ADC == nil {
			out = append(out, simulate.Input{Pin: d.Input.Pin, Kind: simulate.DoorContact, ActiveLow: d.Input.ActiveLow})
		}
		if d.Lock != nil && d.Lock.ADC == nil {
			out = append(out, simulate.Input{Pin: d.Lock.Pin, Kind: simulate.DoorContact, ActiveLow: d.Lock.ActiveLow})
		}
	}
	for _, p := range w.AlarmPoints {
		if p.Input.ADC == nil {
			out = append(out, simulate.Input{Pin: p.Input.Pin, Kind: simulate.Button, ActiveLow: p.Input.ActiveLow})
		}
		if p.Reset != nil {
			out = append(out, simulate.Input{Pin: p.Reset.Pin, Kind: simulate.Button, ActiveLow: p.Reset.ActiveLow})
		}
	}
	return out
}
