package simulate

import (
	"errors"
	"fmt"
	"sync"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// InputKind says what is wired to an input.
type InputKind int

// The input kinds.
const (
	// DoorContact is a door's position contact: active while the door is
	// open.
	DoorContact InputKind = iota + 1
	// Button is an alarm button (cell call, staff alarm): active while
	// pressed.
	Button
)

func (k InputKind) String() string {
	switch k {
	case DoorContact:
		return "door contact"
	case Button:
		return "button"
	}
	return fmt.Sprintf("InputKind(%d)", int(k))
}

// Input is one simulated input and the pin it is wired to.
type Input struct {
	Pin  string // the name registered in gpioreg
	Kind InputKind
	// ActiveLow says the pin reads Low while the input is active (door
	// open, button pressed).
	ActiveLow bool
}

// Options configures a simulator. The zero value works.
type Options struct {
	// Clock paces the pins' edge timeouts. Nil means the real clock.
	Clock clockwork.Clock
}

// Sim is a simulated wing. Its pins stay registered in gpioreg until Close.
// Its methods are safe for concurrent use.
type Sim struct {
	clock  clockwork.Clock
	inputs []Input // in the order given to New
	pins   map[string]*pin

	mu     sync.Mutex
	closed bool
}

// New registers a pin in gpioreg for each input, every input inactive
// (doors closed, buttons released), and returns the simulator. It fails if
// an input is invalid or a pin name is already registered.
func New(inputs []Input, opt Options) (*Sim, error) {
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	s := &Sim{clock: opt.Clock, inputs: inputs, pins: make(map[string]*pin, len(inputs))}
	for _, in := range inputs {
		switch {
		case in.Pin == "":
			return nil, errors.New("simulate: an input has no pin name")
		case s.pins[in.Pin] != nil:
			return nil, fmt.Errorf("simulate: pin %q is used twice", in.Pin)
		case in.Kind != DoorContact && in.Kind != Button:
			return nil, fmt.Errorf("simulate: pin %q: unknown input kind %d", in.Pin, in.Kind)
		}
		s.pins[in.Pin] = newPin(in, opt.Clock)
	}
	for i, in := range inputs {
		if err := gpioreg.Register(s.pins[in.Pin]); err != nil {
			for _, done := range inputs[:i] {
				_ = gpioreg.Unregister(done.Pin)
			}
			return nil, fmt.Errorf("simulate: register pin %q: %w", in.Pin, err)
		}
	}
	return s, nil
}

// Close unregisters the simulator's pins, so that a new simulator can use
// the same names. Pins already looked up keep working. Close is idempotent.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, in := range s.inputs {
		if err := gpioreg.Unregister(in.Pin); err != nil {
			errs = append(errs, fmt.Errorf("simulate: unregister pin %q: %w", in.Pin, err))
		}
	}
	return errors.Join(errs...)
}

// Set makes the input on pin active (door open, button pressed) or
// inactive, with one clean edge. Setting the state it already has does
// nothing.
func (s *Sim) Set(pin string, active bool) error {
	return s.Bounce(pin, active, 0)
}

// Bounce is Set for a contact that bounces: on its way to the new state it
// springs back n times, each bounce an edge, as a worn contact does. The
// edges are delivered at once; a reader sees the levels in order.
func (s *Sim) Bounce(pin string, active bool, n int) error {
	p := s.pins[pin]
	if p == nil {
		return fmt.Errorf("simulate: no input on pin %q", pin)
	}
	p.set(active, n)
	return nil
}

// pin is a simulated input's pin: a gpiotest.Pin whose level follows the
// input's state. The input is wired with external bias, as long cable runs
// in a wing are, so the pull the reader asks for does not change the level.
type pin struct {
	*gpiotest.Pin
	input Input

	mu     sync.Mutex // serialises changes of state, and edges with them
	active bool
}

func newPin(in Input, clock clockwork.Clock) *pin {
	return &pin{
		Pin:   &gpiotest.Pin{N: in.Pin, Clock: clock, EdgesChan: make(chan gpio.Level, 16)},
		input: in,
	}
}

// In implements gpio.PinIn. gpiotest.Pin.In drives the level to the pull
// and drops queued edges; the level is then put back to what the input's
// state makes it.
func (p *pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.Pin.In(pull, edge); err != nil {
		return fmt.Errorf("simulate: pin %q: %w", p.N, err)
	}
	p.Pin.Lock()
	p.L = p.level(p.active)
	p.Pin.Unlock()
	return nil
}

// level is the pin level for an input state.
func (p *pin) level(active bool) gpio.Level {
	return gpio.Level(active != p.input.ActiveLow)
}

func (p *pin) set(active bool, bounces int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if active == p.active {
		return
	}
	p.active = active
	to, back := p.level(active), p.level(!active)
	p.edge(to)
	for range bounces {
		p.edge(back)
		p.edge(to)
	}
}

// edge drives the pin to l and queues the edge. When the queue is full, as
// when nobody reads the pin, the oldest edge is dropped so that the last
// edge queued is always the current level: gpiotest.Pin.WaitForEdge sets
// the pin to the level of the edge it takes.
func (p *pin) edge(l gpio.Level) {
	p.Pin.Lock()
	p.L = l
	p.Pin.Unlock()
	for {
		select {
		case p.EdgesChan <- l:
			return
		default:
		}
		select {
		case <-p.EdgesChan:
		default:
		}
	}
}
