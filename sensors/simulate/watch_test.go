package simulate_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"

	"wingnode/sensors"
	"wingnode/sensors/simulate"
)

// TestWatcherSeesDoorOpen reads a simulated door through sensors.Watch and
// periph's registry, as the appliance does.
func TestWatcherSeesDoorOpen(t *testing.T) {
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	s := newSim(t, wing(1, 2), simulate.Options{Clock: clock})

	ctx, cancel := context.WithCancel(t.Context())
	out := make(chan sensors.Reading)
	done := make(chan error, 1)
	// The contact is active high, and the pull-up asked for would read as
	// an open door if In changed the level.
	point := sensors.Point{ID: "A1-01", Pin: "DOOR_A1_01", Pull: gpio.PullUp}
	go func() { done <- sensors.Watch(ctx, []sensors.Point{point}, sensors.Options{Clock: clock}, out) }()

	waiters(t, clock, 1)
	clock.Advance(sensors.DefaultDebounce)
	require.Equal(t, sensors.Reading{Point: "A1-01", Active: false, At: start}, receive(t, out))

	waiters(t, clock, 1)
	opened := clock.Now()
	require.NoError(t, s.Bounce("DOOR_A1_01", true, 2))
	// gpiotest.Pin.WaitForEdge leaves a timer behind for each edge it
	// returns: the first wait's, one per later edge (4), and the wait for
	// the door to settle.
	waiters(t, clock, 6)
	clock.Advance(sensors.DefaultDebounce)
	require.Equal(t, sensors.Reading{Point: "A1-01", Active: true, At: opened}, receive(t, out))

	cancel()
	require.Eventually(t, func() bool {
		clock.Advance(250 * time.Millisecond)
		select {
		case err := <-done:
			require.NoError(t, err)
			return true
		default:
			return false
		}
	}, 2*time.Second, time.Millisecond)
}

func waiters(t *testing.T, clock *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, clock.BlockUntilContext(ctx, n), "waiting for %d clock waiters", n)
}

func receive(t *testing.T, out <-chan sensors.Reading) sensors.Reading {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(2 * time.Second):
		require.FailNow(t, "no reading")
		return sensors.Reading{}
	}
}
