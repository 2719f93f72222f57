package supervise

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors"
)

// LineOptions configures WatchLines. The zero value polls every 20 ms on
// the real clock.
type LineOptions struct {
	// Clock times polling and debouncing. Nil means the real clock.
	Clock clockwork.Clock
	// Poll is how often each line is read. Zero means 20 ms. A read that
	// takes longer than Poll is followed at once by the next.
	Poll time.Duration
	// Failures is how many reads of a line must fail in a row to make a
	// FaultADC. Zero means 3.
	Failures int
}

func (o LineOptions) withDefaults() LineOptions {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Poll <= 0 {
		o.Poll = 20 * time.Millisecond
	}
	if o.Failures <= 0 {
		o.Failures = 3
	}
	return o
}

// WatchLines reads the supervised lines until ctx is done, sending a
// sensors.Reading to out for each line's starting state and each change:
// Normal as {Active: false}, Active as {Active: true}, and OpenCircuit,
// ShortCircuit and Tamper as a fault of that name whose Detail gives the
// voltage. A new state counts once every read over Line.Debounce has given
// it; its Reading's At is the first of those reads. A line that recovers
// from a fault reports its state again.
//
// A read that fails does not change the state. Once LineOptions.Failures
// reads in a row have failed, the line reports FaultADC (At is the last
// failed read); the next good read ends it, and the line reports at once
// the state that read gives, without waiting for the debounce.
//
// WatchLines returns an error, before reading anything, only if the lines
// are invalid (an id or ADC missing, an id used twice, a negative channel
// or debounce, bands that do not ascend). Otherwise it returns nil once ctx
// is done and every line has stopped; after that nothing more is sent.
// WatchLines never closes out. Each line is read by its own goroutine; a
// slow reader of out delays the lines whose Readings wait to be sent.
func WatchLines(ctx context.Context, lines []Line, opt LineOptions, out chan<- sensors.Reading) error {
	if err := validateLines(lines); err != nil {
		return err
	}
	w := lineWatcher{opt: opt.withDefaults(), out: out}
	var wg sync.WaitGroup
	for _, l := range lines {
		wg.Go(func() { w.watch(ctx, l) })
	}
	wg.Wait()
	return nil
}

type lineWatcher struct {
	opt LineOptions
	out chan<- sensors.Reading
}

// watch polls l until ctx is done.
func (w *lineWatcher) watch(ctx context.Context, l Line) {
	clock := w.opt.Clock
	m := newMonitor(l, w.opt.Failures)
	for {
		start := clock.Now()
		v, err := l.ADC.Read(l.Channel)
		if r, ok := m.sample(v, err, clock.Now()); ok && !w.send(ctx, r) {
			return
		}
		if !w.sleep(ctx, w.opt.Poll-clock.Since(start)) {
			return
		}
	}
}

// send delivers r unless ctx is done first.
func (w *lineWatcher) send(ctx context.Context, r sensors.Reading) bool {
	select {
	case w.out <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// sleep waits for d on the clock, returning false if ctx is done first.
func (w *lineWatcher) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := w.opt.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	}
}

// monitor turns one line's reads into Readings: it debounces the states
// and counts failed reads. It is a pure state machine, fed reads in time
// order.
type monitor struct {
	line        Line
	bands       Bands // line.Bands with defaults
	period      time.Duration
	maxFailures int

	failures int       // failed reads in a row
	raw      LineState // the state of the last good read; "" before the first
	since    time.Time // when raw was first read, in its current run
	state    LineState // the state last reported; "" before the first
}

func newMonitor(l Line, maxFailures int) *monitor {
	return &monitor{line: l, bands: l.Bands.withDefaults(), period: l.debounce(), maxFailures: maxFailures}
}

// sample takes one read made at at, returning the Reading it causes, if
// any.
func (m *monitor) sample(v physic.ElectricPotential, err error, at time.Time) (sensors.Reading, bool) {
	if err != nil {
		m.failures++
		if m.failures != m.maxFailures {
			return sensors.Reading{}, false
		}
		return sensors.Reading{Point: m.line.ID, At: at, Fault: FaultADC, Detail: fmt.Sprintf(
			"Line %s could not be read %d times in a row (%v): check the ADC's wiring, address and power.",
			m.line.ID, m.failures, err)}, true
	}
	s := Classify(v, m.bands)
	if m.failures >= m.maxFailures {
		// This read ends a FaultADC: report its state now.
		m.failures = 0
		m.raw, m.since, m.state = s, at, s
		return m.reading(s, v, at), true
	}
	m.failures = 0
	if s != m.raw {
		m.raw, m.since = s, at
	}
	if m.raw == m.state || at.Sub(m.since) < m.period {
		return sensors.Reading{}, false
	}
	m.state = m.raw
	return m.reading(m.raw, v, m.since), true
}

// reading is the Reading for state s, first seen at at, on a read of v.
func (m *monitor) reading(s LineState, v physic.ElectricPotential, at time.Time) sensors.Reading {
	r := sensors.Reading{Point: m.line.ID, At: at}
	switch s {
	case Normal:
	case Active:
		r.Active = true
	case OpenCircuit:
		r.Fault = FaultOpenCircuit
		r.Detail = m.reads(v) + ": the cable is cut or the end-of-line resistor is missing; check the wiring to the contact."
	case ShortCircuit:
		r.Fault = FaultShortCircuit
		r.Detail = m.reads(v) + ": the cable is shorted; check it for crushed or bridged conductors."
	case Tamper:
		b := m.bands
		r.Fault = FaultTamper
		r.Detail = fmt.Sprintf("%s, outside the normal (%.0f–%.0f%%) and active (%.0f–%.0f%%) bands: "+
			"a resistor may have been bridged or replaced; inspect the contact and its wiring.",
			m.reads(v), 100*b.NormalLow, 100*b.NormalHigh, 100*b.ActiveLow, 100*b.ActiveHigh)
	}
	return r
}

// reads starts a fault's Detail: "Line A1-01 reads 3.30 V, 100% of its
// 3.30 V supply".
func (m *monitor) reads(v physic.ElectricPotential) string {
	return fmt.Sprintf("Line %s reads %.2f V, %.0f%% of its %.2f V supply",
		m.line.ID, volts(v), 100*m.bands.fraction(v), volts(m.bands.Supply))
}

func volts(v physic.ElectricPotential) float64 {
	return float64(v) / float64(physic.Volt)
}
