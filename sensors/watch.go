package sensors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
)

// Options configures Watch. The zero value reads pins from periph's registry
// on the real clock.
type Options struct {
	// Lookup finds a pin by name. Nil means periph's registry
	// (gpioreg.ByName), which knows the board's pins only after host.Init.
	Lookup func(name string) gpio.PinIO
	// Clock times debouncing and retries. Nil means the real clock.
	Clock clockwork.Clock
	// Retry is how often a missing or failed pin is tried again. Zero means
	// 5 s.
	Retry time.Duration
	// Poll is the longest single wait for an edge, after which the pin is
	// read anyway. It bounds how long Watch takes to stop and how long a
	// lost edge goes unnoticed. Zero means 250 ms.
	Poll time.Duration
}

func (o Options) withDefaults() Options {
	if o.Lookup == nil {
		o.Lookup = gpioreg.ByName
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Retry <= 0 {
		o.Retry = 5 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	return o
}

// Watch reads the points until ctx is done, sending a Reading to out for
// each point's starting state, each debounced change and each new fault.
// It returns an error, before reading anything, only if the points are
// invalid (an id or pin missing or used twice, a negative debounce).
// Otherwise it returns nil once ctx is done and every point has stopped;
// after that nothing more is sent. Watch never closes out.
//
// Each point is read by its own goroutine, which configures the pin as an
// input with Point.Pull and edge detection on both edges, then waits for
// edges and wakes at the moment a new level would settle, so a change is
// reported one debounce period after the edge that started it. A slow
// reader of out delays the points whose Readings wait to be sent; the
// driver queues their edges meanwhile.
//
// A point waiting for an edge notices that ctx is done when its wait ends,
// within Options.Poll. With a fake clock that means Watch returns only once
// the clock has been advanced by Poll.
func Watch(ctx context.Context, points []Point, opt Options, out chan<- Reading) error {
	if err := validatePoints(points); err != nil {
		return err
	}
	w := watcher{opt: opt.withDefaults(), out: out}
	var wg sync.WaitGroup
	for _, p := range points {
		wg.Go(func() { w.watch(ctx, p) })
	}
	wg.Wait()
	return nil
}

type watcher struct {
	opt Options
	out chan<- Reading
}

// watch sets up p's pin, reporting each new fault and retrying until it
// works, then follows the pin until ctx is done.
func (w *watcher) watch(ctx context.Context, p Point) {
	var last Reading // the fault last sent
	for {
		pin, fault := w.setup(p)
		if pin != nil {
			w.follow(ctx, p, pin)
			return
		}
		if fault.Fault != last.Fault || fault.Detail != last.Detail {
			if !w.send(ctx, fault) {
				return
			}
			last = fault
		}
		if !w.sleep(ctx, w.opt.Retry) {
			return
		}
	}
}

// setup finds p's pin and makes it an input with edge detection, or
// returns the fault that prevents it.
func (w *watcher) setup(p Point) (gpio.PinIO, Reading) {
	pin := w.opt.Lookup(p.Pin)
	if pin == nil {
		return nil, w.fault(p, FaultPinMissing, fmt.Sprintf(
			"No pin named %q is registered: check the pin name in the configuration and that the board's GPIO driver is loaded.", p.Pin))
	}
	if err := pin.In(p.Pull, gpio.BothEdges); err != nil {
		return nil, w.fault(p, FaultPinSetup, fmt.Sprintf(
			"Pin %q cannot be set up as an input with edge detection (%v): check that no other program is using it.", p.Pin, err))
	}
	return pin, Reading{}
}

// follow debounces pin until ctx is done.
func (w *watcher) follow(ctx context.Context, p Point, pin gpio.PinIO) {
	clock := w.opt.Clock
	d := NewDebouncer(p.debounce())
	d.Observe(pin.Read(), clock.Now())
	for {
		now := clock.Now()
		if l, since, ok := d.Settle(now); ok && !w.send(ctx, w.state(p, l, since)) {
			return
		}
		wait := w.opt.Poll
		if deadline, ok := d.Deadline(); ok {
			// Positive, as Settle has just said the deadline is still to
			// come. Rounded up to a whole millisecond, because the sysfs
			// driver rounds down and would return at once.
			wait = min(wait, (deadline.Sub(now) + time.Millisecond - 1).Truncate(time.Millisecond))
		}
		pin.WaitForEdge(wait)
		if ctx.Err() != nil {
			return
		}
		if l, since, ok := d.Observe(pin.Read(), clock.Now()); ok && !w.send(ctx, w.state(p, l, since)) {
			return
		}
	}
}

func (w *watcher) state(p Point, l gpio.Level, since time.Time) Reading {
	return Reading{Point: p.ID, Active: p.active(l), At: since}
}

func (w *watcher) fault(p Point, fault, detail string) Reading {
	return Reading{Point: p.ID, At: w.opt.Clock.Now(), Fault: fault, Detail: detail}
}

// send delivers r unless ctx is done first.
func (w *watcher) send(ctx context.Context, r Reading) bool {
	select {
	case w.out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleep waits for d on the clock, returning false if ctx is done first.
func (w *watcher) sleep(ctx context.Context, d time.Duration) bool {
	t := w.opt.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	}
}
