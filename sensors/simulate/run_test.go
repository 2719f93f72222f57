package simulate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
)

// edge is an edge taken from a pin's queue, at an offset from the start.
type edge struct {
	at    time.Duration
	pin   string
	level gpio.Level
}

// runFor runs a simulator of a four-landing wing for d on a fake clock,
// advancing it by step, and returns the edges in the order they were
// queued on each pin, pins in input order.
func runFor(t *testing.T, seed int64, d, step time.Duration) []edge {
	var inputs []Input
	for l := 1; l <= 4; l++ {
		landing := fmt.Sprintf("A%d", l)
		for c := 1; c <= 20; c++ {
			inputs = append(inputs,
				Input{Pin: fmt.Sprintf("DOOR_%s_%02d", landing, c), Kind: DoorContact, Landing: landing, Cell: true},
				Input{Pin: fmt.Sprintf("CALL_%s_%02d", landing, c), Kind: Button, ActiveLow: true, Landing: landing, Cell: true})
		}
		inputs = append(inputs,
			Input{Pin: "GATE_" + landing, Kind: DoorContact, Landing: landing},
			Input{Pin: "ALARM_" + landing, Kind: Button, ActiveLow: true, Landing: landing})
	}
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	s, err := New(inputs, Options{Clock: clock, Seed: seed})
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	var edges []edge
	for clock.Since(start) < d {
		// Run waits on one timer at a time: once it is back to waiting,
		// it has made every change due so far.
		wait, cancelWait := context.WithTimeout(ctx, 2*time.Second)
		require.NoError(t, clock.BlockUntilContext(wait, 1))
		cancelWait()
		for _, in := range inputs {
			for queued := true; queued; {
				select {
				case l := <-s.pins[in.Pin].EdgesChan:
					edges = append(edges, edge{at: clock.Since(start), pin: in.Pin, level: l})
				default:
					queued = false
				}
			}
		}
		clock.Advance(step)
	}
	return edges
}

// byPin returns each pin's levels in order.
func byPin(edges []edge) map[string][]gpio.Level {
	m := make(map[string][]gpio.Level)
	for _, e := range edges {
		m[e.pin] = append(m[e.pin], e.level)
	}
	return m
}

func TestRunIsDeterministic(t *testing.T) {
	const d = 30 * time.Minute
	first := runFor(t, 1, d, time.Second)
	require.Equal(t, first, runFor(t, 1, d, time.Second), "same seed, same clock")
	require.Equal(t, byPin(first), byPin(runFor(t, 1, d, 7*time.Second)), "same seed, clock advanced in other steps")
	require.NotEqual(t, byPin(first), byPin(runFor(t, 2, d, time.Second)), "another seed")
}

func TestRunActivityIsModest(t *testing.T) {
	const d = 30 * time.Minute
	edges := runFor(t, 1, d, time.Second)

	// A change is a new level that a pin keeps until the next step; the
	// other edges are bounces.
	type pinStep struct {
		pin string
		at  time.Duration
	}
	last := map[pinStep]gpio.Level{}
	for _, e := range edges {
		last[pinStep{e.pin, e.at}] = e.level
	}
	kinds := map[string]int{}
	var changes []time.Duration // the steps with a change
	state := map[string]gpio.Level{}
	for _, e := range edges {
		l := last[pinStep{e.pin, e.at}]
		if prev, seen := state[e.pin]; seen && prev == l {
			continue
		}
		state[e.pin] = l
		kinds[e.pin[:4]]++
		if len(changes) == 0 || changes[len(changes)-1] != e.at {
			changes = append(changes, e.at)
		}
	}
	t.Logf("changes by kind of pin in %s: %v; seconds with a change: %d", d, kinds, len(changes))

	require.Positive(t, kinds["DOOR"], "no cell door moved")
	require.Positive(t, kinds["GATE"], "no gate moved")
	require.Positive(t, kinds["CALL"], "no cell call")
	var longest time.Duration
	for i := 1; i < len(changes); i++ {
		longest = max(longest, changes[i]-changes[i-1])
	}
	require.Less(t, longest, time.Minute, "a minute without any change")
	require.Less(t, len(changes), int(d/time.Second)/2, "something changes in most seconds: a storm")
}
