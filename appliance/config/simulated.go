package config

import (
	"fmt"
	"strings"
)

// SimulatedSource names the built-in wing in messages and on the screen.
const SimulatedSource = "built-in simulated wing"

// SimulatedText returns the configuration of the built-in simulated wing:
// landings of cells, each cell door with its lock (bolt) contact and a
// cell call with its reset key switch at the door, a gate with its lock, a
// staff alarm and an environment sensor per landing, an office and an
// exit, a sounder, a strobe and a panel LED. Cell 11 of landing 2 is on a
// supervised line (an ADC channel) rather than a GPIO pin. It has no
// regime schedule: the built-in scenario sets the regime as a supervisor
// would. It is also a worked example of the format.
func SimulatedText(wing string, landings, cells int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s: %d landings of %d cells.\n", SimulatedSource, landings, cells)
	fmt.Fprintf(&b, "wing id=%s name=\"%s wing\" walk_pace=3s\n", wing, wing)
	for l := 1; l <= landings; l++ {
		fmt.Fprintf(&b, "\n# Landing %d\n", l)
		fmt.Fprintf(&b, "door id=%s%d-GATE kind=gate landing=%d pin=DOOR_%s%d_GATE lock=LOCK_%s%d_GATE name=\"Landing %d gate\"\n", wing, l, l, wing, l, wing, l, l)
		fmt.Fprintf(&b, "alarm id=%s%d-STAFF kind=staff-alarm landing=%d pin=STAFF_%s%d name=\"Landing %d staff alarm\"\n", wing, l, l, wing, l, l)
		if l <= 3 {
			fmt.Fprintf(&b, "sensor id=ENV-%s%d kind=sht3x landing=%d bus=%d addr=0x%02x hot=30 cold=15 humid=70 name=\"Landing %d climate\"\n",
				wing, l, l, 1+(l-1)/2, 0x44+(l-1)%2, l)
		}
		for c := 1; c <= cells; c++ {
			cell := fmt.Sprintf("%s%d-%02d", wing, l, c)
			pin := strings.ReplaceAll(cell, "-", "_")
			if l == 2 && c == 11 {
				fmt.Fprintf(&b, "door id=%s kind=cell landing=%d adc=1/0x48/0 lock=LOCK_%s   # a supervised line\n", cell, l, pin)
			} else {
				fmt.Fprintf(&b, "door id=%s kind=cell landing=%d pin=DOOR_%s lock=LOCK_%s\n", cell, l, pin, pin)
			}
			fmt.Fprintf(&b, "alarm id=%s-CALL kind=cell-call cell=%s landing=%d pin=CALL_%s reset=RESET_%s name=\"Cell %s call\"\n", cell, cell, l, pin, pin, cell)
		}
	}
	fmt.Fprintf(&b, "\n# Ground floor\n")
	fmt.Fprintf(&b, "door id=%s-OFFICE kind=office pin=DOOR_%s_OFFICE name=\"Wing office\"\n", wing, wing)
	fmt.Fprintf(&b, "door id=%s-EXIT kind=exit pin=DOOR_%s_EXIT name=\"Wing exit\"\n", wing, wing)
	fmt.Fprintf(&b, "\n# Annunciators (the appliance never drives locks)\n")
	fmt.Fprintf(&b, "output id=%s-SOUNDER kind=sounder pin=OUT_%s_SOUNDER\n", wing, wing)
	fmt.Fprintf(&b, "output id=%s-STROBE kind=strobe pin=OUT_%s_STROBE\n", wing, wing)
	fmt.Fprintf(&b, "output id=%s-PANEL kind=led pin=OUT_%s_PANEL\n", wing, wing)
	return b.String()
}

// Simulated returns the built-in simulated wing: 3 landings of 20 cells.
func Simulated(wing string) (Wing, error) {
	w, err := Parse(SimulatedSource, strings.NewReader(SimulatedText(wing, 3, 20)))
	if err != nil {
		return Wing{}, fmt.Errorf("config: the built-in wing for id %q: %w", wing, err)
	}
	return w, nil
}
