package sensors

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// DefaultDebounce is the debounce period of a Point that does not set one.
const DefaultDebounce = 20 * time.Millisecond

// The faults a Reading can carry.
const (
	// FaultPinMissing: no pin of the point's name is registered. Watch looks
	// the pin up again every Options.Retry until it appears.
	FaultPinMissing = "pin-missing"
	// FaultPinSetup: the pin exists but refused to become an input with edge
	// detection. Watch tries again every Options.Retry.
	FaultPinSetup = "pin-setup"
)

// Point is one configured input: a door contact or an alarm button wired to
// a pin.
type Point struct {
	ID  string // the door or alarm point id the Readings carry
	Pin string // the pin's name in the periph registry, e.g. "GPIO17"
	// ActiveLow says the point is active (door open, button pressed) when
	// the pin reads Low.
	ActiveLow bool
	Pull      gpio.Pull // the bias asked of the pin; gpio.Float when wired with external resistors
	// Debounce is how long a new level must hold before it counts; zero
	// means DefaultDebounce.
	Debounce time.Duration
}

// Reading is what Watch reports about a point: either its debounced state
// (Fault is empty) or a fault. A point that recovers from a fault reports
// its state again.
type Reading struct {
	Point  string // Point.ID
	Active bool   // door open or button pressed; meaningful only when Fault is empty
	// At is, for a state, when the pin first showed the level that then held
	// for the debounce period (the moment the door opened, not the moment
	// the debounce ended); for a fault, when it was found.
	At     time.Time
	Fault  string // "" for a state, else one of the Fault constants
	Detail string // for a fault, a sentence for the person fixing it
}

// active reports whether level l means the point is active.
func (p Point) active(l gpio.Level) bool {
	return (l == gpio.High) != p.ActiveLow
}

func (p Point) debounce() time.Duration {
	if p.Debounce == 0 {
		return DefaultDebounce
	}
	return p.Debounce
}

// validatePoints checks that each point names itself and a pin, and that
// no id or pin is used twice (two readers of one pin would steal each
// other's edges).
func validatePoints(points []Point) error {
	ids := make(map[string]bool, len(points))
	pins := make(map[string]string, len(points))
	for i, p := range points {
		switch {
		case p.ID == "":
			return fmt.Errorf("sensors: point %d (pin %q) has no id", i, p.Pin)
		case ids[p.ID]:
			return fmt.Errorf("sensors: point id %q is used twice", p.ID)
		case p.Pin == "":
			return fmt.Errorf("sensors: point %q has no pin", p.ID)
		case pins[p.Pin] != "":
			return fmt.Errorf("sensors: points %q and %q both use pin %q", pins[p.Pin], p.ID, p.Pin)
		case p.Debounce < 0:
			return fmt.Errorf("sensors: point %q has a negative debounce %s", p.ID, p.Debounce)
		}
		ids[p.ID] = true
		pins[p.Pin] = p.ID
	}
	return nil
}
