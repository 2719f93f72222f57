package scenario

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
)

//go:embed default.scenario
var defaultText string

// DefaultName names the default scenario in messages.
const DefaultName = "default.scenario"

// Default returns the built-in scenario for the built-in simulated wing
// (wing A: three landings of 20 cells): a ten-minute day that loops, with
// landing unlocks, a door held open for minutes, cell calls, a staff
// alarm, a line fault and its repair, a cell getting hot, a sensor that
// drops out for a while, and officers checking the cells on observation
// plans (quietly at the door at night) and counting the roll, one landing
// short at first. It names, besides the wing's doors and alarm
// points, the supervised line A2-11 and the environment sensors ENV-A1 to
// ENV-A3. The text is embedded and tested, so Default does not fail; it
// panics if the text is broken.
func Default() *Scenario { return DefaultFor("A") }

// wingAName matches where the default scenario names wing A: A1-14-CALL,
// A-OFFICE, ENV-A2.
var wingAName = regexp.MustCompile(`\bA([0-9]|-)`)

// DefaultFor returns the built-in scenario for the built-in simulated wing
// with id wing: Default, with wing A's names made the wing's (B1-14-CALL,
// B-OFFICE, ENV-B2), so every wing of a simulated site plays its day.
func DefaultFor(wing string) *Scenario {
	text := wingAName.ReplaceAllString(defaultText, wing+"${1}")
	s, err := Parse(DefaultName, strings.NewReader(text))
	if err != nil {
		panic(fmt.Sprintf("scenario: the built-in default scenario does not parse: %v", err))
	}
	return s
}
