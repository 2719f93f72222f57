package scenario

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"wingnode/appliance/event"
)

// Storm returns a scenario in which each of the inputs toggles rate times
// a second for d, as "storm all RATE/s for D" does on a wing of exactly
// those inputs: the load test of a wing's inputs. Each input makes an even
// number of changes, active first, so it ends as it started; 200 inputs
// at 50/s for 1s make 10,000 changes.
func Storm(inputs []string, rate float64, d time.Duration) (*Scenario, error) {
	if len(inputs) == 0 {
		return nil, errors.New("scenario: a storm needs inputs")
	}
	for _, id := range inputs {
		if !event.ValidID(id) {
			return nil, fmt.Errorf("scenario: storm: %q is not a point id", id)
		}
	}
	if d <= 0 || d > maxDuration {
		return nil, fmt.Errorf("scenario: storm: duration %s is out of range (more than 0, at most %s)", d, maxDuration)
	}
	st := &step{line: 1, verb: verbStorm, storm: slices.Clone(inputs)}
	if err := st.setStorm(rate, d); err != nil {
		return nil, fmt.Errorf("scenario: storm: %w", err)
	}
	name := fmt.Sprintf("storm of %d inputs at %g/s for %s", len(inputs), rate, d)
	return &Scenario{name: name, steps: []*step{st}}, nil
}
