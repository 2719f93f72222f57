package simulate

import "periph.io/x/conn/v3/physic"

// LineState is the state of a supervised input line, as its voltage at the
// ADC shows it.
//
// The scheme is the conventional dual end-of-line one: the line is fed
// from a 5 V reference through a 4.7 kΩ series resistor, and the ADC
// reads the voltage where the line leaves the board. At the far end, the
// normally-closed contact (a door contact, shut; a button, released)
// shorts a 4.7 kΩ alarm resistor in series with a 4.7 kΩ end-of-line
// resistor:
//
//	state           loop resistance   nominal   band
//	short-circuit   0                 0.00 V    below 0.60 V
//	tamper          1.5 kΩ            1.21 V    0.60 V to 1.85 V
//	normal          4.7 kΩ            2.50 V    1.85 V to 2.90 V
//	active          9.4 kΩ            3.33 V    2.90 V to 4.15 V
//	open-circuit    open              5.00 V    4.15 V and above
//
// Each band runs from about halfway to the nominal voltage below to about
// halfway to the one above, so a reading a few percent off (resistor
// tolerance, cable resistance, reference drift) is still classified right.
// LineLevels holds these numbers for the simulator and for the supervision
// that reads the lines.
type LineState string

// The supervised line states.
const (
	LineShortCircuit LineState = "short-circuit" // the cable is shorted: a fault
	LineTamper       LineState = "tamper"        // the tamper resistor is across the line: a fault
	LineNormal       LineState = "normal"        // contact closed: door shut, button released
	LineActive       LineState = "active"        // contact open: door open, button pressed
	LineOpenCircuit  LineState = "open-circuit"  // the cable is cut: a fault
)

// LineLevel is a line state's nominal voltage and the band of readings
// classified as that state: from Min (inclusive) to Max (exclusive).
type LineLevel struct {
	State    LineState
	Nominal  physic.ElectricPotential
	Min, Max physic.ElectricPotential
}

// LineReference is the voltage supervised lines are fed from.
const LineReference = 5 * physic.Volt

// LineLevels are the supervised line states in order of voltage, with
// bands that cover every reading without overlap: the first band starts at
// the lowest potential and the last ends at the highest.
func LineLevels() []LineLevel {
	return []LineLevel{
		{LineShortCircuit, 0, -1 << 63, 600 * physic.MilliVolt},
		{LineTamper, 1210 * physic.MilliVolt, 600 * physic.MilliVolt, 1850 * physic.MilliVolt},
		{LineNormal, 2500 * physic.MilliVolt, 1850 * physic.MilliVolt, 2900 * physic.MilliVolt},
		{LineActive, 3330 * physic.MilliVolt, 2900 * physic.MilliVolt, 4150 * physic.MilliVolt},
		{LineOpenCircuit, LineReference, 4150 * physic.MilliVolt, 1<<63 - 1},
	}
}

// Voltage returns the state's nominal voltage, and false for an unknown
// state.
func (s LineState) Voltage() (physic.ElectricPotential, bool) {
	for _, l := range LineLevels() {
		if l.State == s {
			return l.Nominal, true
		}
	}
	return 0, false
}

// LineStateAt classifies a reading of a supervised line.
func LineStateAt(v physic.ElectricPotential) LineState {
	for _, l := range LineLevels() {
		if v < l.Max {
			return l.State
		}
	}
	return LineOpenCircuit
}

// Fault reports whether the state is a wiring fault rather than a reading
// of the contact.
func (s LineState) Fault() bool {
	return s == LineShortCircuit || s == LineTamper || s == LineOpenCircuit
}
