package supervise

import (
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"
)

// DefaultDebounce is the debounce period of a Line that does not set one.
const DefaultDebounce = 60 * time.Millisecond

// The faults of the Readings that WatchLines, Chatter and Stuck produce.
const (
	FaultOpenCircuit  = string(OpenCircuit)
	FaultShortCircuit = string(ShortCircuit)
	FaultTamper       = string(Tamper)
	// FaultADC: the line's ADC failed LineOptions.Failures reads in a row.
	// The next good read ends it.
	FaultADC = "adc-error"
	// FaultFlapping: a plain input changed too often; see Chatter.
	FaultFlapping = "flapping"
	// FaultStuck: an input expected to move has not; see Stuck.
	FaultStuck = "stuck"
)

// Reader is the ADC a supervised line is read through; adc.ADS1115 is one.
type Reader interface {
	// Read returns the voltage on channel against ground. WatchLines
	// calls it from one goroutine per line, so it must be safe for
	// concurrent use.
	Read(channel int) (physic.ElectricPotential, error)
}

// Line is one supervised input: a contact wired with end-of-line resistors
// whose line voltage an ADC channel reads.
type Line struct {
	ID      string // the door or alarm point id the Readings carry
	ADC     Reader
	Channel int // the ADC input the line is wired to
	// Bands classifies the voltage; the zero value is the dual end-of-line
	// circuit described on Bands, on a 3.3 V supply.
	Bands Bands
	// Debounce is how long a new state must hold before it counts; zero
	// means DefaultDebounce.
	Debounce time.Duration
}

func (l Line) debounce() time.Duration {
	if l.Debounce == 0 {
		return DefaultDebounce
	}
	return l.Debounce
}

// validateLines checks that each line names itself and an ADC, that no id
// is used twice, and that its channel, debounce and bands make sense.
func validateLines(lines []Line) error {
	ids := make(map[string]bool, len(lines))
	for i, l := range lines {
		switch {
		case l.ID == "":
			return fmt.Errorf("supervise: line %d (channel %d) has no id", i, l.Channel)
		case ids[l.ID]:
			return fmt.Errorf("supervise: line id %q is used twice", l.ID)
		case l.ADC == nil:
			return fmt.Errorf("supervise: line %q has no ADC", l.ID)
		case l.Channel < 0:
			return fmt.Errorf("supervise: line %q has a negative channel %d", l.ID, l.Channel)
		case l.Debounce < 0:
			return fmt.Errorf("supervise: line %q has a negative debounce %s", l.ID, l.Debounce)
		}
		if err := l.Bands.withDefaults().check(); err != nil {
			return fmt.Errorf("supervise: line %q: %w", l.ID, err)
		}
		ids[l.ID] = true
	}
	return nil
}
