package annunciate

import (
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// pattern is how an output moves over time, counted from the moment the
// pattern begins: on for the first on of every period. A pattern with no
// period is steady: on if on is not zero, else off.
type pattern struct {
	on, period time.Duration
}

const forever = time.Duration(math.MaxInt64)

// The patterns, as the package documentation describes them.
var (
	patternOff       = pattern{}
	patternOn        = pattern{on: forever}
	patternPulse     = pattern{on: 500 * time.Millisecond, period: time.Second}
	patternChirp     = pattern{on: 200 * time.Millisecond, period: 5 * time.Second}
	patternSlowFlash = pattern{on: time.Second, period: 2 * time.Second}
	patternEscalated = pattern{on: 150 * time.Millisecond, period: 300 * time.Millisecond}
)

// at says whether the pattern is on at d after it began, and when, counted
// from the same moment, it next changes; zero if it never does.
func (p pattern) at(d time.Duration) (on bool, next time.Duration) {
	if p.period == 0 {
		return p.on != 0, 0
	}
	start := d - d%p.period // of the current period
	if d-start < p.on {
		return true, start + p.on
	}
	return false, start + p.period
}

// patternFor returns the pattern an output of kind k shows for s.
func patternFor(k OutputKind, s Summary) pattern {
	switch k {
	case Sounder:
		switch {
		case s.Unacknowledged > 0 && s.HighestUnacknowledgedPriority <= 1:
			return patternOn
		case s.Escalated > 0:
			return patternEscalated
		case s.Unacknowledged <= 0:
			return patternOff
		case s.HighestUnacknowledgedPriority <= 1:
			return patternOn
		case s.HighestUnacknowledgedPriority == 2:
			return patternPulse
		default:
			return patternChirp
		}
	case Strobe:
		if s.Active > 0 {
			return patternOn
		}
	case LED:
		switch {
		case s.Active > 0:
			return patternOn
		case s.Faults > 0:
			return patternSlowFlash
		}
	}
	return patternOff
}

// level is the pin level that turns o on or off.
func (o *output) level(on bool) gpio.Level {
	return gpio.Level(on != o.ActiveLow)
}

// set writes o's pin and records the outcome.
func (o *output) set(on bool) error {
	l := o.level(on)
	if err := o.Pin.Out(l); err != nil {
		o.written, o.failing = false, true
		return fmt.Errorf("annunciate: %s %q: set pin %s %s: %w", o.Kind, o.ID, o.Pin.Name(), l, err)
	}
	o.on, o.written, o.failing = on, true, false
	return nil
}
