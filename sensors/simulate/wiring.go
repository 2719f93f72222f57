package simulate

import (
	"fmt"
	"slices"
	"sync"

	"periph.io/x/conn/v3/physic"
)

// Wiring addresses the simulated hardware by the wing configuration's ids
// (door ids, alarm point ids, sensor ids) rather than by pins and devices,
// as scenarios do: it implements scenario.Target. Wire every point before
// use; the methods are then safe for concurrent use.
type Wiring struct {
	sim *Sim

	mu      sync.Mutex
	inputs  []string          // door and alarm point ids, on pins or lines, in the order wired
	pins    map[string]string // point id → pin
	lines   map[string]*line
	sensors map[string]*SHT3x
	order   []string // sensor ids in the order wired
}

// line is a door contact or button on a supervised line, read by an ADC.
type line struct {
	adc     *ADS1115
	channel int
	active  bool      // the contact's state
	fault   LineState // LineNormal when the wiring is sound
}

// NewWiring returns an empty wiring of sim's pins and the simulated
// devices.
func NewWiring(sim *Sim) *Wiring {
	return &Wiring{sim: sim, pins: map[string]string{}, lines: map[string]*line{}, sensors: map[string]*SHT3x{}}
}

// Input wires point to one of the simulator's pins.
func (w *Wiring) Input(point, pin string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.free(point); err != nil {
		return err
	}
	if w.sim == nil || w.sim.pins[pin] == nil {
		return fmt.Errorf("simulate: wire %s: no input on pin %q", point, pin)
	}
	w.pins[point] = pin
	w.inputs = append(w.inputs, point)
	return nil
}

// Line wires point to a supervised line read by channel (0 to 3) of adc,
// and sets the channel to the line's normal voltage.
func (w *Wiring) Line(point string, adc *ADS1115, channel int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.free(point); err != nil {
		return err
	}
	if adc == nil {
		return fmt.Errorf("simulate: wire %s: no ADC", point)
	}
	l := &line{adc: adc, channel: channel, fault: LineNormal}
	if err := l.apply(); err != nil {
		return fmt.Errorf("simulate: wire %s: %w", point, err)
	}
	w.lines[point] = l
	w.inputs = append(w.inputs, point)
	return nil
}

// Sensor wires the environment sensor id to dev.
func (w *Wiring) Sensor(id string, dev *SHT3x) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.free(id); err != nil {
		return err
	}
	w.sensors[id] = dev
	w.order = append(w.order, id)
	return nil
}

func (w *Wiring) free(id string) error {
	if _, ok := w.pins[id]; ok || w.lines[id] != nil || w.sensors[id] != nil {
		return fmt.Errorf("simulate: %s is wired twice", id)
	}
	return nil
}

// Inputs returns the door and alarm point ids, on pins and on supervised
// lines, in the order they were wired.
func (w *Wiring) Inputs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.inputs)
}

// Lines returns the ids of the points on supervised lines.
func (w *Wiring) Lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, id := range w.inputs {
		if w.lines[id] != nil {
			out = append(out, id)
		}
	}
	return out
}

// Sensors returns the environment sensor ids in the order they were
// wired.
func (w *Wiring) Sensors() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.order)
}

// SetInput makes the point active (door open, button pressed) or
// inactive. A line with a wiring fault keeps showing the fault.
func (w *Wiring) SetInput(point string, active bool) error {
	return w.Bounce(point, active, 0)
}

// Bounce is SetInput with n contact bounces on the way (see Sim.Bounce).
// A supervised line is sampled too slowly to show bounces: it only
// changes state.
func (w *Wiring) Bounce(point string, active bool, n int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pin, ok := w.pins[point]; ok {
		return w.sim.Bounce(pin, active, n)
	}
	l := w.lines[point]
	if l == nil {
		return fmt.Errorf("simulate: no door or alarm point %s", point)
	}
	l.active = active
	return l.apply()
}

// SetLine puts a fault on a supervised line (LineOpenCircuit,
// LineShortCircuit, LineTamper), or repairs it (LineNormal): the line's
// voltage then follows its contact again.
func (w *Wiring) SetLine(point string, state LineState) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	l := w.lines[point]
	switch {
	case l == nil:
		return fmt.Errorf("simulate: no supervised line %s", point)
	case state != LineNormal && !state.Fault():
		return fmt.Errorf("simulate: line %s: %q is not a fault or %q", point, state, LineNormal)
	}
	l.fault = state
	return l.apply()
}

// apply sets the ADC channel to the voltage of the line's state.
func (l *line) apply() error {
	state := l.fault
	if state == LineNormal && l.active {
		state = LineActive
	}
	v, _ := state.Voltage()
	return l.adc.SetVoltage(l.channel, v)
}

// SetClimate sets what the environment sensor measures.
func (w *Wiring) SetClimate(sensor string, t physic.Temperature, rh physic.RelativeHumidity) error {
	dev, err := w.sensor(sensor)
	if err != nil {
		return err
	}
	dev.SetClimate(t, rh)
	return nil
}

// SetSilent makes the environment sensor stop answering, or answer again.
func (w *Wiring) SetSilent(sensor string, silent bool) error {
	dev, err := w.sensor(sensor)
	if err != nil {
		return err
	}
	dev.SetSilent(silent)
	return nil
}

func (w *Wiring) sensor(id string) (*SHT3x, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if dev := w.sensors[id]; dev != nil {
		return dev, nil
	}
	return nil, fmt.Errorf("simulate: no environment sensor %s", id)
}
