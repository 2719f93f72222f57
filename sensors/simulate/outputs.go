package simulate

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// Outputs are simulated annunciator outputs (sounders, strobes, panel
// LEDs): fake pins registered in gpioreg that remember the level driven.
type Outputs struct {
	pins map[string]*gpiotest.Pin
}

// NewOutputs registers an output pin for each name.
func NewOutputs(names []string) (*Outputs, error) {
	o := &Outputs{pins: map[string]*gpiotest.Pin{}}
	for _, name := range names {
		p := &gpiotest.Pin{N: name, EdgesChan: make(chan gpio.Level, 1)}
		if err := gpioreg.Register(p); err != nil {
			o.Close()
			return nil, fmt.Errorf("simulate: output %s: %w", name, err)
		}
		o.pins[name] = p
	}
	return o, nil
}

// Level returns the level last driven on the output pin name.
func (o *Outputs) Level(name string) (gpio.Level, error) {
	p, ok := o.pins[name]
	if !ok {
		return gpio.Low, fmt.Errorf("simulate: no output pin %q", name)
	}
	return p.Read(), nil
}

// Close unregisters the output pins; Level goes on telling the level last
// driven, so a test can check the state the outputs were left in.
func (o *Outputs) Close() error {
	var errs []error
	for name := range o.pins {
		errs = append(errs, gpioreg.Unregister(name))
	}
	return errors.Join(errs...)
}
