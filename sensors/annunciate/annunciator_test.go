package annunciate

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

const ms = time.Millisecond

// brokenPin is a pin whose writes fail while fail is set.
type brokenPin struct {
	*gpiotest.Pin
	fail atomic.Bool
}

var errBroken = errors.New("gpio: line released")

func (p *brokenPin) Out(l gpio.Level) error {
	if p.fail.Load() {
		return errBroken
	}
	return p.Pin.Out(l)
}

// panel is an Annunciator on a fake clock with one output of each kind:
// an active-high sounder, an active-low strobe and an active-high LED, all
// energised when the test starts.
type panel struct {
	t       *testing.T
	clock   *clockwork.FakeClock
	a       *Annunciator
	sounder *brokenPin
	strobe  *gpiotest.Pin
	led     *gpiotest.Pin
	errs    chan error // from OnError
	start   time.Time
}

func newPanel(t *testing.T) *panel {
	t.Helper()
	p := &panel{
		t:       t,
		clock:   clockwork.NewFakeClock(),
		sounder: &brokenPin{Pin: &gpiotest.Pin{N: "GPIO5", L: gpio.High}},
		strobe:  &gpiotest.Pin{N: "GPIO6", L: gpio.Low},
		led:     &gpiotest.Pin{N: "GPIO13", L: gpio.High},
		errs:    make(chan error, 16),
	}
	p.start = p.clock.Now()
	a, err := New(p.outputs(), Options{Clock: p.clock, OnError: func(err error) { p.errs <- err }})
	require.NoError(t, err)
	p.a = a
	return p
}

func (p *panel) outputs() []Output {
	return []Output{
		{ID: "landing-sounder", Kind: Sounder, Pin: p.sounder},
		{ID: "landing-strobe", Kind: Strobe, Pin: p.strobe, ActiveLow: true},
		{ID: "office-led", Kind: LED, Pin: p.led},
	}
}

// run starts Run and returns a function that ends it and checks that it
// returned nil.
func (p *panel) run() (stop func()) {
	p.t.Helper()
	ctx, cancel := context.WithCancel(p.t.Context())
	done := make(chan error, 1)
	go func() { done <- p.a.Run(ctx) }()
	p.waitRun()
	stopped := false
	stop = func() {
		p.t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(p.t, err)
		case <-time.After(2 * time.Second):
			p.t.Fatal("Run did not return")
		}
	}
	p.t.Cleanup(stop)
	return stop
}

// waitRun waits until Run has armed its timer: it has started, or has
// dealt with the clock's last advance.
func (p *panel) waitRun() {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(p.t, p.clock.BlockUntilContext(ctx, 1), "Run is not waiting on the clock")
}

// advanceTo moves the clock to d after the start and lets Run catch up.
func (p *panel) advanceTo(d time.Duration) {
	p.t.Helper()
	p.clock.Advance(p.start.Add(d).Sub(p.clock.Now()))
	p.waitRun()
}

// on reports whether pin energises its output.
func on(pin gpio.PinIn, activeLow bool) bool {
	return (pin.Read() == gpio.High) != activeLow
}

// expect checks which outputs are energised.
func (p *panel) expect(sounder, strobe, led bool, msg string) {
	p.t.Helper()
	require.Equal(p.t,
		[3]bool{sounder, strobe, led},
		[3]bool{on(p.sounder, false), on(p.strobe, true), on(p.led, false)},
		"sounder, strobe, LED energised: %s (at %s)", msg, p.clock.Since(p.start))
}

// expectLevels checks the pins' raw levels.
func (p *panel) expectLevels(sounder, strobe, led gpio.Level, msg string) {
	p.t.Helper()
	require.Equal(p.t, []gpio.Level{sounder, strobe, led},
		[]gpio.Level{p.sounder.Read(), p.strobe.Read(), p.led.Read()}, msg)
}

func (p *panel) expectNoErrors() {
	p.t.Helper()
	select {
	case err := <-p.errs:
		p.t.Fatalf("unexpected error: %v", err)
	default:
	}
}

func TestNewPutsEveryOutputInSafeState(t *testing.T) {
	p := newPanel(t)
	// Low de-energises the active-high outputs, High the active-low strobe.
	p.expectLevels(gpio.Low, gpio.High, gpio.Low, "after New")
	// Without Run, Show only records.
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 1, Active: 1})
	p.expect(false, false, false, "Show before Run")
	p.run()
	// Run creates its timer (which run waits for) just before it applies
	// the summary: wait for the outputs rather than race it.
	require.Eventually(t, func() bool {
		return p.sounder.Read() == gpio.High && p.strobe.Read() == gpio.Low && p.led.Read() == gpio.High
	}, 2*time.Second, time.Millisecond, "Run starts from the latest Summary")
	p.expect(true, true, true, "Run starts from the latest Summary")
	p.expectNoErrors()
}

func TestSounderPatternByPriority(t *testing.T) {
	type at struct {
		d  time.Duration
		on bool
	}
	continuous := []at{{0, true}, {250 * ms, true}, {500 * ms, true}, {time.Second, true}, {7 * time.Second, true}, {29 * time.Second, true}}
	pulsed := []at{
		{0, true}, {250 * ms, true}, {499 * ms, true}, {500 * ms, false}, {999 * ms, false},
		{time.Second, true}, {1500 * ms, false}, {2250 * ms, true}, {2750 * ms, false}, {29 * time.Second, true},
	}
	chirp := []at{
		{0, true}, {199 * ms, true}, {200 * ms, false}, {4999 * ms, false}, {5 * time.Second, true},
		{5200 * ms, false}, {10 * time.Second, true}, {10100 * ms, true}, {10300 * ms, false}, {25 * time.Second, true},
	}
	for _, tc := range []struct {
		priority int
		want     []at
	}{
		{1, continuous},
		{0, continuous}, // unknown counts as most urgent
		{2, pulsed},
		{3, chirp},
		{9, chirp},
	} {
		p := newPanel(t)
		p.run()
		p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: tc.priority, Active: 1})
		for _, w := range tc.want {
			p.advanceTo(w.d)
			p.expect(w.on, true, true, fmt.Sprintf("priority %d", tc.priority))
		}
		p.expectNoErrors()
	}
}

func TestAcknowledgeSilencesSounderButNotStrobe(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 2, Active: 1})
	p.expect(true, true, true, "alarm raised")

	p.advanceTo(200 * ms)
	p.a.Show(Summary{Active: 1})
	p.expect(false, true, true, "acknowledged")
	p.advanceTo(time.Second)
	p.expect(false, true, true, "acknowledged, a second later")

	p.advanceTo(1200 * ms)
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 2, Active: 2})
	p.expect(true, true, true, "new alarm")
	p.advanceTo(1700 * ms)
	p.expect(false, true, true, "new alarm's pulse began when it was raised")

	p.a.Show(Summary{})
	p.expect(false, false, false, "all cleared")
	p.advanceTo(5 * time.Second)
	p.expect(false, false, false, "all cleared, later")
	p.expectNoErrors()
}

// TestEscalatedAlarmSoundsAgain: an acknowledged alarm that escalates
// (a cell call unattended at its door) sounds the rapid escalation
// pattern until it is attended; an unacknowledged priority-1 alarm's
// continuous tone stays louder.
func TestEscalatedAlarmSoundsAgain(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.a.Show(Summary{Active: 1})
	p.expect(false, true, true, "acknowledged, not yet escalated")
	p.advanceTo(time.Second)
	p.a.Show(Summary{Active: 1, Escalated: 1})
	p.expect(true, true, true, "escalated")
	p.advanceTo(time.Second + 200*ms)
	p.expect(false, true, true, "rapid pattern: off after 150 ms")
	p.advanceTo(time.Second + 350*ms)
	p.expect(true, true, true, "rapid pattern: on again at 300 ms")
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 1, Active: 2, Escalated: 1})
	p.advanceTo(time.Second + 500*ms)
	p.expect(true, true, true, "a priority-1 alarm sounds continuously")
	p.a.Show(Summary{Active: 1})
	p.expect(false, true, true, "attended: silent again")
	p.expectNoErrors()
}

func TestNewAlarmRestartsChirp(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 3, Active: 1})
	p.advanceTo(time.Second)
	p.expect(false, true, true, "between chirps")

	p.a.Show(Summary{Unacknowledged: 2, HighestUnacknowledgedPriority: 3, Active: 2})
	p.expect(true, true, true, "a new alarm chirps at once")
	p.advanceTo(1200 * ms)
	p.expect(false, true, true, "after the chirp")
	p.advanceTo(5 * time.Second)
	p.expect(false, true, true, "the old rhythm is gone")
	p.advanceTo(6 * time.Second)
	p.expect(true, true, true, "the new rhythm")

	// One alarm acknowledged, one still not: the rhythm carries on.
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 3, Active: 2})
	p.advanceTo(6100 * ms)
	p.expect(true, true, true, "still chirping")
	p.advanceTo(6200 * ms)
	p.expect(false, true, true, "chirp over")
	p.expectNoErrors()
}

func TestFaultsFlashLED(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.a.Show(Summary{Faults: 2})
	for _, w := range []struct {
		d  time.Duration
		on bool
	}{{0, true}, {999 * ms, true}, {time.Second, false}, {2 * time.Second, true}, {3500 * ms, false}, {4 * time.Second, true}} {
		p.advanceTo(w.d)
		p.expect(false, false, w.on, "faults only")
	}
	p.advanceTo(5 * time.Second) // LED off
	p.a.Show(Summary{Active: 1, Faults: 2})
	p.expect(false, true, true, "an active alarm holds the LED on")
	p.advanceTo(7 * time.Second)
	p.expect(false, true, true, "an active alarm holds the LED on")
	p.expectNoErrors()
}

func TestStaleHeartbeatFallsToSafeState(t *testing.T) {
	p := newPanel(t)
	p.run()
	alarm := Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 1, Active: 1, Faults: 1}
	p.a.Show(alarm)
	p.advanceTo(29 * time.Second)
	p.expect(true, true, true, "29 s after Show")
	p.a.Show(alarm) // heartbeat
	p.advanceTo(58 * time.Second)
	p.expect(true, true, true, "29 s after the heartbeat")
	p.expectNoErrors()

	p.clock.Advance(time.Second)
	select {
	case err := <-p.errs:
		require.ErrorIs(t, err, ErrStale)
	case <-time.After(2 * time.Second):
		t.Fatal("stale heartbeat not reported")
	}
	p.expectLevels(gpio.Low, gpio.High, gpio.Low, "stale: safe state")
	p.clock.Advance(time.Minute)
	p.expect(false, false, false, "still stale")
	p.expectNoErrors() // reported once

	p.a.Show(alarm)
	p.expect(true, true, true, "heartbeat back")
}

func TestStaleWithoutAnyShow(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.clock.Advance(DefaultStale)
	select {
	case err := <-p.errs:
		require.ErrorIs(t, err, ErrStale)
	case <-time.After(2 * time.Second):
		t.Fatal("stale heartbeat not reported")
	}
	p.expect(false, false, false, "never shown")
}

func TestSafeForcesSafeStateForGood(t *testing.T) {
	p := newPanel(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.a.Run(ctx) }()
	p.waitRun()
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 2, Active: 1, Faults: 1})
	p.expect(true, true, true, "alarm")

	require.NoError(t, p.a.Safe())
	p.expectLevels(gpio.Low, gpio.High, gpio.Low, "after Safe")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after Safe")
	}
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 1, Active: 1})
	p.expect(false, false, false, "Show after Safe")
	require.NoError(t, p.a.Run(ctx), "Run after Safe")
	p.expect(false, false, false, "Run after Safe")

	// Safe writes even pins it believes are off.
	p.strobe.Out(gpio.Low)
	require.NoError(t, p.a.Safe())
	p.expect(false, false, false, "Safe again")
	p.expectNoErrors()
}

func TestRunEndReturnsToSafeState(t *testing.T) {
	p := newPanel(t)
	stop := p.run()
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 1, Active: 1, Faults: 1})
	p.expect(true, true, true, "alarm")
	stop()
	p.expectLevels(gpio.Low, gpio.High, gpio.Low, "after Run")
	p.a.Show(Summary{Unacknowledged: 2, HighestUnacknowledgedPriority: 1, Active: 2})
	p.expect(false, false, false, "Show after Run")
	p.expectNoErrors()

	// Run can start again.
	p.run()
	p.expect(true, true, true, "Run again")
}

func TestRunTwice(t *testing.T) {
	p := newPanel(t)
	p.run()
	require.ErrorContains(t, p.a.Run(t.Context()), "already running")
}

func TestWriteErrorsAreReportedOnce(t *testing.T) {
	p := newPanel(t)
	p.run()
	p.sounder.fail.Store(true)
	p.a.Show(Summary{Unacknowledged: 1, HighestUnacknowledgedPriority: 2, Active: 1})
	select {
	case err := <-p.errs:
		require.ErrorIs(t, err, errBroken)
		require.ErrorContains(t, err, `sounder "landing-sounder": set pin GPIO5 High`)
	default:
		t.Fatal("write error not reported")
	}
	p.expect(false, true, true, "the other outputs work")
	p.advanceTo(500 * ms)
	p.advanceTo(time.Second)
	p.expectNoErrors() // still failing: not reported again

	p.sounder.fail.Store(false)
	p.advanceTo(1500 * ms)
	p.expect(false, true, true, "recovered, off phase")
	p.advanceTo(2 * time.Second)
	p.expect(true, true, true, "recovered, on phase")

	p.sounder.fail.Store(true)
	err := p.a.Safe()
	require.ErrorIs(t, err, errBroken)
	p.expect(true, false, false, "Safe writes the other outputs anyway")
}

func TestNewReportsSafeStateWriteErrorsAndRunRetries(t *testing.T) {
	p := &panel{
		t:       t,
		clock:   clockwork.NewFakeClock(),
		sounder: &brokenPin{Pin: &gpiotest.Pin{N: "GPIO5", L: gpio.High}},
		strobe:  &gpiotest.Pin{N: "GPIO6", L: gpio.Low},
		led:     &gpiotest.Pin{N: "GPIO13", L: gpio.High},
		errs:    make(chan error, 16),
	}
	p.sounder.fail.Store(true)
	a, err := New(p.outputs(), Options{Clock: p.clock, OnError: func(err error) { p.errs <- err }})
	require.NoError(t, err, "a pin that fails is not a configuration error")
	p.a = a
	require.ErrorIs(t, <-p.errs, errBroken)
	p.expectNoErrors()
	p.expectLevels(gpio.High, gpio.High, gpio.Low, "the sounder could not be turned off")

	p.sounder.fail.Store(false)
	p.run()
	p.expectLevels(gpio.Low, gpio.High, gpio.Low, "Run tried again")
}

func TestNewRejectsBadOutputs(t *testing.T) {
	pin := func(name string) *gpiotest.Pin { return &gpiotest.Pin{N: name, L: gpio.High} }
	for _, tc := range []struct {
		outputs []Output
		opt     Options
		want    string
	}{
		{[]Output{{Kind: Sounder, Pin: pin("A")}}, Options{}, "output 0 has no id"},
		{[]Output{{ID: "s", Kind: Sounder, Pin: pin("A")}, {ID: "s", Kind: LED, Pin: pin("B")}}, Options{}, `"s" is used twice`},
		{[]Output{{ID: "s", Pin: pin("A")}}, Options{}, "unknown kind OutputKind(0)"},
		{[]Output{{ID: "s", Kind: Sounder}}, Options{}, `"s" has no pin`},
		{[]Output{{ID: "s", Kind: Sounder, Pin: pin("A")}, {ID: "l", Kind: LED, Pin: pin("A")}}, Options{}, `"s" and "l" both use pin A`},
		{[]Output{{ID: "s", Kind: Sounder, Pin: pin("A")}}, Options{Stale: -time.Second}, "negative heartbeat timeout"},
	} {
		opt := tc.opt
		opt.Clock = clockwork.NewFakeClock()
		_, err := New(tc.outputs, opt)
		require.ErrorContains(t, err, tc.want)
		for _, o := range tc.outputs {
			if o.Pin != nil {
				require.Equal(t, gpio.Low, o.Pin.(*gpiotest.Pin).Read(), "%s is left energised", o.ID)
			}
		}
	}
}

func TestPatternAt(t *testing.T) {
	for _, tc := range []struct {
		p        pattern
		d        time.Duration
		wantOn   bool
		wantNext time.Duration
	}{
		{patternOff, time.Hour, false, 0},
		{patternOn, time.Hour, true, 0},
		{patternPulse, 0, true, 500 * ms},
		{patternPulse, 700 * ms, false, time.Second},
		{patternPulse, 3 * time.Second, true, 3500 * ms},
		{patternChirp, 5100 * ms, true, 5200 * ms},
		{patternSlowFlash, 1500 * ms, false, 2 * time.Second},
	} {
		on, next := tc.p.at(tc.d)
		require.Equal(t, tc.wantOn, on, "%+v at %s", tc.p, tc.d)
		require.Equal(t, tc.wantNext, next, "%+v at %s", tc.p, tc.d)
	}
}
