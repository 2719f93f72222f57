package sensors

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// newPin returns a fake pin on clock. Clock and EdgesChan are set before
// use: gpiotest.Pin assigns a missing Clock inside WaitForEdge, which
// races with everything else.
func newPin(name string, clock clockwork.Clock) *gpiotest.Pin {
	return &gpiotest.Pin{N: name, Clock: clock, EdgesChan: make(chan gpio.Level, 16)}
}

// board is a pin registry that pins can be added to while Watch runs.
type board struct {
	mu   sync.Mutex
	pins map[string]gpio.PinIO
}

func (b *board) add(p gpio.PinIO) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pins == nil {
		b.pins = make(map[string]gpio.PinIO)
	}
	b.pins[p.Name()] = p
}

func (b *board) lookup(name string) gpio.PinIO {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pins[name]
}

// watch runs Watch, on an unbuffered channel so that each Reading is taken
// by the test before the point moves on, until stop is called or the test
// ends.
func watch(t *testing.T, clock *clockwork.FakeClock, points []Point, opt Options) (out <-chan Reading, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	readings := make(chan Reading)
	done := make(chan error, 1)
	go func() { done <- Watch(ctx, points, opt, readings) }()
	stop = sync.OnceFunc(func() {
		cancel()
		// A point waiting for an edge notices the cancel when its wait
		// ends, within one Poll.
		require.Eventually(t, func() bool {
			clock.Advance(250 * ms)
			select {
			case err := <-done:
				require.NoError(t, err)
				return true
			default:
				return false
			}
		}, 2*time.Second, time.Millisecond, "Watch did not stop")
	})
	t.Cleanup(stop)
	return readings, stop
}

// waiters blocks until the clock has n waiters. gpiotest.Pin.WaitForEdge
// never stops its timer, so a wait that ended with an edge stays a waiter
// until the clock passes it; the counts below include those.
func waiters(t *testing.T, clock *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, clock.BlockUntilContext(ctx, n), "waiting for %d clock waiters", n)
}

func receive(t *testing.T, out <-chan Reading) Reading {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(2 * time.Second):
		require.FailNow(t, "no reading")
		return Reading{}
	}
}

func TestWatchStartingLevelAndEdge(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	pin := newPin("GPIO17", clock)
	var b board
	b.add(pin)
	out, _ := watch(t, clock, []Point{{ID: "A1-01", Pin: "GPIO17", Pull: gpio.PullDown}}, Options{Lookup: b.lookup, Clock: clock})

	waiters(t, clock, 1) // waiting for an edge until the starting level settles
	clock.Advance(20 * ms)
	require.Equal(t, Reading{Point: "A1-01", Active: false, At: t0}, receive(t, out))

	waiters(t, clock, 1) // waiting for an edge, up to Poll
	pin.EdgesChan <- gpio.High
	waiters(t, clock, 2) // and now until the High settles
	clock.Advance(19 * ms)
	select {
	case r := <-out:
		require.FailNow(t, "reported before the debounce period", "%+v", r)
	default:
	}
	clock.Advance(1 * ms)
	require.Equal(t, Reading{Point: "A1-01", Active: true, At: t0.Add(20 * ms)}, receive(t, out))
}

func TestWatchIgnoresBounce(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	pin := newPin("GPIO4", clock)
	var b board
	b.add(pin)
	// Active low with a pull-up: an alarm button, released.
	out, _ := watch(t, clock, []Point{{ID: "A1-ALARM", Pin: "GPIO4", ActiveLow: true, Pull: gpio.PullUp}}, Options{Lookup: b.lookup, Clock: clock})

	waiters(t, clock, 1)
	clock.Advance(20 * ms)
	require.Equal(t, Reading{Point: "A1-ALARM", Active: false, At: t0}, receive(t, out))

	waiters(t, clock, 1)
	pin.EdgesChan <- gpio.Low // a 5 ms glitch
	waiters(t, clock, 2)
	clock.Advance(5 * ms)
	pin.EdgesChan <- gpio.High
	waiters(t, clock, 3)
	clock.Advance(500 * ms)
	pin.EdgesChan <- gpio.Low // a real press
	waiters(t, clock, 2)
	clock.Advance(20 * ms)
	require.Equal(t, Reading{Point: "A1-ALARM", Active: true, At: t0.Add(525 * ms)}, receive(t, out))
}

func TestWatchMissingPinRecovers(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	var b board
	out, _ := watch(t, clock, []Point{{ID: "A1-01", Pin: "GPIO17", ActiveLow: true, Pull: gpio.PullUp}}, Options{Lookup: b.lookup, Clock: clock, Retry: 5 * time.Second})

	r := receive(t, out)
	require.Equal(t, "A1-01", r.Point)
	require.Equal(t, FaultPinMissing, r.Fault)
	require.Contains(t, r.Detail, `"GPIO17"`)
	require.Equal(t, t0, r.At)

	waiters(t, clock, 1) // the retry timer
	clock.Advance(5 * time.Second)
	waiters(t, clock, 1) // still missing, and not reported again

	b.add(newPin("GPIO17", clock))
	clock.Advance(5 * time.Second)
	waiters(t, clock, 1)
	clock.Advance(20 * ms)
	// The next Reading is the state: the second miss was not sent.
	require.Equal(t, Reading{Point: "A1-01", Active: false, At: t0.Add(10 * time.Second)}, receive(t, out))
}

func TestWatchPinSetupFault(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	var b board
	b.add(&gpiotest.Pin{N: "GPIO17", Clock: clock}) // no EdgesChan: In fails
	out, _ := watch(t, clock, []Point{{ID: "A1-01", Pin: "GPIO17"}}, Options{Lookup: b.lookup, Clock: clock})

	r := receive(t, out)
	require.Equal(t, FaultPinSetup, r.Fault)
	require.Contains(t, r.Detail, "EdgesChan")

	b.add(newPin("GPIO17", clock))
	waiters(t, clock, 1)
	clock.Advance(5 * time.Second)
	waiters(t, clock, 1)
	clock.Advance(20 * ms)
	require.Empty(t, receive(t, out).Fault)
}

func TestWatchStopsOnCancel(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	var b board
	b.add(newPin("GPIO17", clock))
	b.add(newPin("GPIO27", clock))
	points := []Point{
		{ID: "A1-01", Pin: "GPIO17"}, // will wait to send its starting level
		{ID: "A1-02", Pin: "GPIO27"}, // will wait for an edge
		{ID: "A1-03", Pin: "GPIO22"}, // missing: will wait to send its fault
	}
	out, stop := watch(t, clock, points, Options{Lookup: b.lookup, Clock: clock})

	waiters(t, clock, 2)
	clock.Advance(20 * ms)
	for receive(t, out).Fault != "" {
	}
	// The point just read waits for an edge; the others are blocked sending
	// to out, which nobody reads any more.
	stop()
}

func TestWatchRejectsInvalidPoints(t *testing.T) {
	for name, points := range map[string][]Point{
		"no id":             {{Pin: "GPIO17"}},
		"no pin":            {{ID: "A1-01"}},
		"id used twice":     {{ID: "A1-01", Pin: "GPIO17"}, {ID: "A1-01", Pin: "GPIO27"}},
		"pin used twice":    {{ID: "A1-01", Pin: "GPIO17"}, {ID: "A1-02", Pin: "GPIO17"}},
		"negative debounce": {{ID: "A1-01", Pin: "GPIO17", Debounce: -ms}},
	} {
		t.Run(name, func(t *testing.T) {
			err := Watch(t.Context(), points, Options{Lookup: func(string) gpio.PinIO { return nil }}, make(chan Reading))
			require.Error(t, err)
		})
	}
}
