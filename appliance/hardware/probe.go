package hardware

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"

	"wingnode/appliance/config"
	"wingnode/sensors/climate"
)

// Probe is what `wingnode hw probe` found on the board.
type Probe struct {
	Drivers []string // periph drivers loaded
	Failed  []string // drivers that failed, with why
	Chips   []string // GPIO chips: "gpiochip0 [pinctrl-bcm2711] 58 lines"
	Pins    int      // GPIO pins in periph's registry
	Buses   []I2CBus // I2C buses and the addresses that answered
	Missing []string // configured points not found, with where they should be
	Checked int      // configured points looked for
	Config  string   // the configuration checked; empty when none was given
	Wing    string   // the configured wing id
	Errors  []string // problems met while probing (a bus that would not open)
	state   *driverreg.State
}

// I2CBus is an I2C bus and the addresses that answered on it.
type I2CBus struct {
	Name      string
	Answering []uint16
}

// Board is what periph's host drivers found on this machine: the binary
// (appliance/cmd/wingnode), the one place that loads them, describes it.
type Board struct {
	// Drivers is what host.Init returned; nil when it was not called.
	Drivers *driverreg.State
	// Chips describes each GPIO character device: "gpiochip0 [label] 58 lines".
	Chips []string
	// PinByName finds a GPIO line by the name the wing configuration
	// uses: a name in periph's registry, or "CHIP/LINE" of a chip; nil
	// when there is none. Nil means periph's registry only.
	PinByName func(name string) gpio.PinIO
}

// ProbeBoard lists what periph found (drivers, GPIO chips and lines,
// I2C buses and the addresses answering on them) and, given a wing
// configuration, which configured points it cannot find. buses are the
// I2C buses to scan, usually i2creg.All().
func ProbeBoard(b Board, buses []*i2creg.Ref, w *config.Wing) Probe {
	drivers := b.Drivers
	if b.PinByName == nil {
		b.PinByName = gpioreg.ByName
	}
	p := Probe{state: drivers, Chips: b.Chips}
	if drivers != nil {
		for _, d := range drivers.Loaded {
			p.Drivers = append(p.Drivers, d.String())
		}
		for _, f := range drivers.Failed {
			p.Failed = append(p.Failed, fmt.Sprintf("%s: %v", f.D, f.Err))
		}
	}
	p.Pins = len(gpioreg.All())
	answering := map[string]map[uint16]bool{}
	refs := map[string]*i2creg.Ref{}
	for _, ref := range buses {
		bus, err := ref.Open()
		if err != nil {
			p.Errors = append(p.Errors, fmt.Sprintf("I2C bus %s: %v", ref.Name, err))
			continue
		}
		b := I2CBus{Name: ref.Name}
		found := map[uint16]bool{}
		for addr := uint16(0x08); addr <= 0x77; addr++ {
			if answers(bus, addr) {
				b.Answering = append(b.Answering, addr)
				found[addr] = true
			}
		}
		bus.Close()
		p.Buses = append(p.Buses, b)
		for _, name := range append([]string{ref.Name, fmt.Sprint(ref.Number)}, ref.Aliases...) {
			answering[name] = found
			refs[name] = ref
		}
	}
	if w != nil {
		p.Config, p.Wing = w.Source, w.ID
		p.checkConfig(*w, answering, refs, b.PinByName)
	}
	return p
}

// answers reports whether a device acknowledges a one-byte read at addr,
// as i2cdetect -r does.
func answers(bus i2c.Bus, addr uint16) bool {
	var b [1]byte
	return bus.Tx(addr, nil, b[:]) == nil
}

func (p *Probe) checkConfig(w config.Wing, answering map[string]map[uint16]bool, refs map[string]*i2creg.Ref, pinByName func(string) gpio.PinIO) {
	check := func(what string, in config.Input) {
		p.Checked++
		switch {
		case in.ADC != nil:
			bus, ok := answering[in.ADC.Bus]
			if !ok {
				p.Missing = append(p.Missing, fmt.Sprintf("%s: no I2C bus %q for ADC %s", what, in.ADC.Bus, in.ADC))
			} else if !bus[in.ADC.Addr] {
				p.Missing = append(p.Missing, fmt.Sprintf("%s: no ADC answers at %s", what, in.ADC))
			}
		case pinByName(in.Pin) == nil:
			p.Missing = append(p.Missing, fmt.Sprintf("%s: no GPIO line %q", what, in.Pin))
		}
	}
	for _, d := range w.Doors {
		check("door "+d.ID, d.Input)
		if d.Lock != nil {
			check("lock contact of door "+d.ID, *d.Lock)
		}
	}
	for _, a := range w.AlarmPoints {
		check("alarm point "+a.ID, a.Input)
		if a.Reset != nil {
			check("reset key switch of "+a.ID, *a.Reset)
		}
	}
	for _, o := range w.Outputs {
		check("output "+o.ID, config.Input{Pin: o.Pin})
	}
	for _, s := range w.Sensors {
		p.Checked++
		ref, ok := refs[s.Bus]
		if !ok {
			p.Missing = append(p.Missing, fmt.Sprintf("sensor %s: no I2C bus %q", s.ID, s.Bus))
			continue
		}
		// An SHT3x does not answer a bare read: ask it for a measurement.
		if err := measure(ref, s.Addr); err != nil {
			p.Missing = append(p.Missing, fmt.Sprintf("sensor %s: no SHT3x answers at %s/0x%02x (%v)", s.ID, s.Bus, s.Addr, err))
		}
	}
}

func measure(ref *i2creg.Ref, addr uint16) error {
	bus, err := ref.Open()
	if err != nil {
		return err
	}
	defer bus.Close()
	dev, err := climate.NewSHT3x(bus, addr)
	if err != nil {
		return err
	}
	_, err = dev.Sense()
	return err
}

// Print writes the probe for a person.
func (p Probe) Print(out io.Writer) {
	list := func(items []string, none string) string {
		if len(items) == 0 {
			return none
		}
		return strings.Join(items, ", ")
	}
	if p.state == nil {
		fmt.Fprintln(out, "periph drivers: not initialised")
	} else {
		fmt.Fprintf(out, "periph drivers loaded: %s\n", list(p.Drivers, "none (no supported board hardware found)"))
	}
	if len(p.Failed) > 0 {
		fmt.Fprintf(out, "periph drivers failed: %s\n", strings.Join(p.Failed, "; "))
	}
	fmt.Fprintf(out, "GPIO chips: %s\n", list(p.Chips, "none"))
	fmt.Fprintf(out, "GPIO pins registered: %d\n", p.Pins)
	if len(p.Buses) == 0 {
		fmt.Fprintln(out, "I2C buses: none")
	}
	for _, b := range p.Buses {
		addrs := make([]string, len(b.Answering))
		for i, a := range b.Answering {
			addrs[i] = fmt.Sprintf("0x%02x", a)
		}
		fmt.Fprintf(out, "I2C bus %s: %s\n", b.Name, list(addrs, "no device answered"))
	}
	for _, e := range p.Errors {
		fmt.Fprintf(out, "problem: %s\n", e)
	}
	if p.Config == "" {
		fmt.Fprintln(out, "configured points: not checked (give -config FILE to check a wing's wiring)")
		return
	}
	slices.Sort(p.Missing)
	fmt.Fprintf(out, "configured points (wing %s, %s): %d checked, %d not found\n", p.Wing, p.Config, p.Checked, len(p.Missing))
	for _, m := range p.Missing {
		fmt.Fprintf(out, "  not found: %s\n", m)
	}
}
