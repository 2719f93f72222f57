package supervise

import (
	"fmt"

	"periph.io/x/conn/v3/physic"
)

// LineState is what a supervised line's voltage says about it.
type LineState string

// The states of a supervised line. The three faults are also the Fault
// strings of the Readings that WatchLines sends.
const (
	Normal       LineState = "normal"        // contact closed: door shut, button released
	Active       LineState = "active"        // contact open: door open, button pressed
	OpenCircuit  LineState = "open-circuit"  // the cable is cut or the end-of-line resistor is missing
	ShortCircuit LineState = "short-circuit" // the cable is shorted
	Tamper       LineState = "tamper"        // between bands: resistors bridged or substituted
)

// DefaultSupply is the supply of Bands that do not set one.
const DefaultSupply = 3300 * physic.MilliVolt

// Bands divides a supervised line's voltage, as a fraction of the supply
// that pulls it up, into the line states. A fraction at or below Short is a
// short circuit, at or above Open an open circuit, within NormalLow to
// NormalHigh or ActiveLow to ActiveHigh (inclusive) normal or active, and
// anywhere else tamper. Valid bands ascend: 0 ≤ Short < NormalLow ≤
// NormalHigh < ActiveLow ≤ ActiveHigh < Open ≤ 1.
//
// A zero Supply means DefaultSupply; all six fractions zero mean the
// defaults below, for this dual end-of-line circuit with three equal
// resistors R (4.7 kΩ here; any equal value gives the same fractions):
//
//	Supply ── Rp (R) ──┬──────────────────────── ADC input AINx
//	                   │
//	                   └── cable ──┬── contact (NC) ──┐
//	                               └── Ra (R) ────────┤   at the door
//	                                                  │
//	                                            Reol (R)
//	                                                  │
//	GND ────────────────── cable ─────────────────────┘
//
// The line's resistance Rl is Reol with the contact closed, Reol+Ra with
// it open, 0 when shorted and infinite when cut, and it reads
// Supply·Rl/(Rp+Rl):
//
//	state          line            nominal   band              Rl in band (R = 4.7 kΩ)
//	short-circuit  0               0         ≤ 0.15            ≤ 0.83 kΩ
//	normal         Reol            1/2       0.40 to 0.57      3.1 to 6.2 kΩ
//	active         Reol+Ra         2/3       0.60 to 0.77      7.1 to 15.7 kΩ
//	open-circuit   ∞               1         ≥ 0.90            ≥ 42 kΩ
//	tamper         anything else
//
// With 5 % resistors and a supply within 5 % of Supply, a healthy line
// reads 0.45 to 0.55 closed and 0.61 to 0.72 open, inside its band; the
// gap between normal and active is narrow (about 100 mV at 3.3 V), so
// prefer 1 % resistors and set Supply to the measured rail. The ADC must
// share the supply's ground, and a 3.3 V supply needs an ADC range of at
// least 3.3 V (the ADS1115's 4.096 V default).
type Bands struct {
	Supply     physic.ElectricPotential // the voltage Rp pulls the line up to
	Short      float64                  // at or below: short circuit
	NormalLow  float64                  // lowest normal
	NormalHigh float64                  // highest normal
	ActiveLow  float64                  // lowest active
	ActiveHigh float64                  // highest active
	Open       float64                  // at or above: open circuit
}

// withDefaults fills in a zero Supply and all-zero fractions.
func (b Bands) withDefaults() Bands {
	if b.Supply == 0 {
		b.Supply = DefaultSupply
	}
	if b == (Bands{Supply: b.Supply}) {
		b.Short = 0.15
		b.NormalLow, b.NormalHigh = 0.40, 0.57
		b.ActiveLow, b.ActiveHigh = 0.60, 0.77
		b.Open = 0.90
	}
	return b
}

// check reports bands that do not ascend or a supply that is not positive.
// The comparisons are written so that a NaN fails them.
func (b Bands) check() error {
	if !(b.Supply > 0) {
		return fmt.Errorf("bands: supply %s is not positive", b.Supply)
	}
	if !(0 <= b.Short && b.Short < b.NormalLow && b.NormalLow <= b.NormalHigh && b.NormalHigh < b.ActiveLow &&
		b.ActiveLow <= b.ActiveHigh && b.ActiveHigh < b.Open && b.Open <= 1) {
		return fmt.Errorf("bands: short %g, normal %g to %g, active %g to %g, open %g do not ascend from 0 to 1",
			b.Short, b.NormalLow, b.NormalHigh, b.ActiveLow, b.ActiveHigh, b.Open)
	}
	return nil
}

// fraction returns v as a fraction of the supply.
func (b Bands) fraction(v physic.ElectricPotential) float64 {
	return float64(v) / float64(b.Supply)
}

// Classify returns the state of a supervised line that reads v, applying
// the defaults described on Bands to a zero Supply or all-zero fractions.
// It never panics; with bands that do not ascend its answer is unspecified.
func Classify(v physic.ElectricPotential, b Bands) LineState {
	b = b.withDefaults()
	f := b.fraction(v)
	switch {
	case f <= b.Short:
		return ShortCircuit
	case f >= b.Open:
		return OpenCircuit
	case b.NormalLow <= f && f <= b.NormalHigh:
		return Normal
	case b.ActiveLow <= f && f <= b.ActiveHigh:
		return Active
	default:
		return Tamper
	}
}
