package scenario

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

// Target is what a scenario drives: the simulated hardware of a wing,
// addressed by the wing configuration's ids. simulate.Wiring implements
// it. Play calls its methods from one goroutine, one at a time, in the
// scenario's order; an error stops the play.
type Target interface {
	// Inputs returns the ids of the doors and alarm points: what open,
	// close, press, hold, release, bounce and storm may name.
	Inputs() []string
	// Lines returns the ids of the inputs on supervised lines: what fault
	// may name.
	Lines() []string
	// Sensors returns the ids of the environment sensors: what climate,
	// silent and answer may name.
	Sensors() []string

	// SetInput makes an input active (door open, button pressed) or
	// inactive.
	SetInput(point string, active bool) error
	// Bounce is SetInput for a contact that springs back n times on the
	// way.
	Bounce(point string, active bool, n int) error
	// SetLine puts a wiring fault on a supervised line (open-circuit,
	// short-circuit, tamper), or repairs it (normal).
	SetLine(point string, state simulate.LineState) error
	// SetClimate sets what an environment sensor measures.
	SetClimate(sensor string, t physic.Temperature, rh physic.RelativeHumidity) error
	// SetSilent makes an environment sensor stop answering, or answer
	// again.
	SetSilent(sensor string, silent bool) error
}

// RegimeTarget is a Target that can also put the wing in a regime
// (unlock, lockup, night), as a supervisor would: the regime step needs
// one.
type RegimeTarget interface {
	Target
	SetRegime(regime string) error
}

// ShiftTarget is a Target whose wing has officers to play the shift's
// steps: an officer records a check of a cell (at its door, when its reset
// key was turned just before) or counts a landing, and the officer in
// charge signs the roll. The check, count and sign steps need one.
type ShiftTarget interface {
	Target
	// Cells returns the ids of the cell doors: what check may name.
	Cells() []string
	// Landings returns the landings: what count may name.
	Landings() []string
	// Check records an officer's check of a cell with an outcome (spoke,
	// seen-moving, sign-of-life, seen, no-response).
	Check(cell, outcome string) error
	// Count records an officer's count of a landing.
	Count(landing string, counted int) error
	// SignRoll has the officer in charge sign the wing's roll.
	SignRoll() error
}

// Points are the ids a scenario may name, by what it may do with them;
// see Target.
type Points struct {
	Inputs   []string
	Lines    []string
	Sensors  []string
	Regimes  bool     // the target is a RegimeTarget
	Cells    []string // the target is a ShiftTarget with these cells
	Landings []string // ... and landings
	Shift    bool     // the target is a ShiftTarget
}

// pointsOf returns the target's points.
func pointsOf(t Target) Points {
	_, regimes := t.(RegimeTarget)
	p := Points{Inputs: t.Inputs(), Lines: t.Lines(), Sensors: t.Sensors(), Regimes: regimes}
	if st, ok := t.(ShiftTarget); ok {
		p.Shift, p.Cells, p.Landings = true, st.Cells(), st.Landings()
	}
	return p
}

// Scenario is a parsed scenario: steps at offsets from the start of play.
type Scenario struct {
	name   string
	steps  []*step
	repeat time.Duration // when play starts again from the top; 0 for never
}

// Name returns the name the scenario was parsed or made with.
func (s *Scenario) Name() string { return s.name }

// step is one line of a scenario.
type step struct {
	line  int
	at    time.Duration
	verb  string
	point string // the id the step names; "all" for a storm of every input, "" for one made by Storm

	active  bool          // the state an input is set to
	hold    time.Duration // open, press, hold: when the input goes inactive again; 0 for never
	bounces int
	state   simulate.LineState
	temp    physic.Temperature
	rh      physic.RelativeHumidity
	silent  bool
	outcome string // a check's
	counted int    // a count's

	// A storm: each input changes every interval, changes times, input i
	// of n starting i/n of an interval after the others.
	storm    []string // the inputs, when given to Storm rather than by id
	interval time.Duration
	length   time.Duration
	changes  int
}

// PressTime is how long a press holds a button down.
const PressTime = 500 * time.Millisecond

// end returns the offset of the step's last change.
func (st *step) end() time.Duration {
	if st.verb == verbStorm {
		return st.at + st.length
	}
	return st.at + st.hold
}

// kind returns which of the target's points the step names, as a noun for
// messages, and the list it must be in.
func (st *step) kind(p Points) (string, []string) {
	switch st.verb {
	case verbFault:
		return "supervised line", p.Lines
	case verbClimate, verbSilent, verbAnswer:
		return "environment sensor", p.Sensors
	case verbLock, verbUnlock:
		return "lock contact", p.Inputs
	case verbReset:
		return "reset key switch", p.Inputs
	case verbRegime, verbSign:
		return "", nil
	case verbCheck:
		return "cell", p.Cells
	case verbCount:
		return "landing", p.Landings
	}
	return "door or alarm point", p.Inputs
}

// Check reports every step that names a point p does not have, or a point
// of the wrong kind (a fault on a door that is not on a supervised line),
// each with its line.
func (s *Scenario) Check(p Points) error {
	var errs []error
	for _, st := range s.steps {
		noun, known := st.kind(p)
		if st.verb == verbRegime {
			if !p.Regimes {
				errs = append(errs, fmt.Errorf("%s:%d: regime %s: this wing's simulation cannot set a regime", s.name, st.line, st.point))
			}
			continue
		}
		if (st.verb == verbCheck || st.verb == verbCount || st.verb == verbSign) && !p.Shift {
			errs = append(errs, fmt.Errorf("%s:%d: %s %s: this wing's simulation has no officers to do it", s.name, st.line, st.verb, st.point))
			continue
		}
		if st.verb == verbSign {
			continue
		}
		var ids []string
		switch {
		case st.storm != nil:
			ids = st.storm
		case st.point != allInputs:
			ids = []string{st.point}
		}
		for _, id := range ids {
			if !slices.Contains(known, id) {
				errs = append(errs, fmt.Errorf("%s:%d: %s %s: no %s %s on this wing", s.name, st.line, st.verb, id, noun, id))
			}
		}
	}
	return errors.Join(errs...)
}
