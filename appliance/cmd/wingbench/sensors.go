package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wingtest"
	"wingnode/sensors/scenario"
)

// stormWing is a 200-point wing: every input a door contact on its own
// pin. A storm toggles each 50 times a second, every 20 ms, so the
// contacts are given a 5 ms debounce: at the default 20 ms the storm's
// changes would be (rightly) filtered out as bounces.
func stormWing() (config.Wing, []string) {
	var b strings.Builder
	b.WriteString("wing id=S name=\"storm wing\"\n")
	var ids []string
	for i := range 200 {
		id := fmt.Sprintf("S%d-%02d", 1+i/50, i%50)
		ids = append(ids, id)
		fmt.Fprintf(&b, "door id=%s kind=cell landing=%d pin=STORM_%03d debounce=5ms\n", id, 1+i/50, i)
	}
	w, err := config.Parse("storm wing", strings.NewReader(b.String()))
	if err != nil {
		panic(err)
	}
	return w, ids
}

// sensorStorm: every input of a 200-point wing toggling at 50 changes a
// second each, through the simulated pins, the GPIO watchers, debounce,
// the recorder and the store. Dropped changes are those that never became
// a door event.
func sensorStorm(ctx context.Context, dir string) ([]figure, error) {
	const rate, seconds = 50, 5
	w, ids := stormWing()
	a, stop, err := running(ctx, appliance.Config{DataDir: dir, Wing: w, Simulate: true})
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := settled(a, len(ids)); err != nil {
		return nil, err
	}
	before, err := doorEvents(a)
	if err != nil {
		return nil, err
	}
	sc, err := scenario.Storm(ids, rate, seconds*time.Second)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := sc.Play(ctx, a.Sim(), realClock); err != nil {
		return nil, err
	}
	changes := len(ids) * rate * seconds
	// Wait for the last changes to settle and be stored, within reason.
	var recorded int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n, err := doorEvents(a)
		if err != nil {
			return nil, err
		}
		if recorded = n - before; recorded >= changes {
			break
		}
	}
	elapsed := time.Since(start)
	return []figure{
		{"sensor_storm_events_per_s", float64(recorded) / elapsed.Seconds(), "events/s"},
		{"sensor_storm_dropped", float64(changes - recorded), "changes"},
	}, nil
}

// settled waits until every door of the wing has its first reading.
func settled(a *wingtest.Wing, doors int) error {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if len(a.State().Doors) == doors {
			return nil
		}
	}
	return fmt.Errorf("only %d of %d doors read after 10 s", len(a.State().Doors), doors)
}

func doorEvents(a *wingtest.Wing) (int, error) {
	n := 0
	err := a.Store().Scan(0, func(r event.Record) error {
		if r.Event.Kind == event.DoorOpened || r.Event.Kind == event.DoorClosed {
			n++
		}
		return nil
	})
	return n, err
}

// inputToEvent: an edge on a pin until its event is durable (the
// appliance hands events to subscribers only after the store's fsync).
// Alarm buttons (5 ms debounce), door contacts (20 ms) and a door on a
// supervised line (polled every 20 ms, then 20 ms debounce) separately.
func inputToEvent(ctx context.Context, dir string) ([]figure, error) {
	a, stop, err := running(ctx, appliance.Config{DataDir: dir, Simulate: true})
	if err != nil {
		return nil, err
	}
	defer stop()
	if err := settled(a, len(a.Layout().Doors)); err != nil {
		return nil, err
	}
	events, cancel := a.Subscribe()
	defer cancel()
	measure := func(point string, active bool, want event.Kind) (time.Duration, error) {
		edge := time.Now()
		if err := a.Sim().SetInput(point, active); err != nil {
			return 0, err
		}
		timeout := time.After(5 * time.Second)
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return 0, fmt.Errorf("subscription closed")
				}
				if e.Subject == point && e.Kind == want {
					return time.Since(edge), nil
				}
			case <-timeout:
				return 0, fmt.Errorf("no %s for %s", want, point)
			}
		}
	}
	var buttons, doors, lines []time.Duration
	for round := range 4 {
		for _, p := range a.Layout().AlarmPoints {
			if p.Kind != config.CellCall {
				continue
			}
			d, err := measure(p.ID, true, event.AlarmRaised)
			if err != nil {
				return nil, err
			}
			buttons = append(buttons, d)
			if err := a.Sim().SetInput(p.ID, false); err != nil {
				return nil, err
			}
		}
		for _, al := range a.State().ActiveAlarms() {
			if err := a.CloseRemotely(ctx, al.ID, roster.Actor{ID: "bench", Role: roster.Supervisor}, "the bench presses the buttons again"); err != nil {
				return nil, err
			}
		}
		for _, d := range a.Layout().Doors[:40] {
			lat, err := measure(d.ID, round%2 == 0, map[bool]event.Kind{true: event.DoorOpened, false: event.DoorClosed}[round%2 == 0])
			if err != nil {
				return nil, err
			}
			if d.Input.ADC != nil {
				lines = append(lines, lat)
			} else {
				doors = append(doors, lat)
			}
		}
	}
	return []figure{
		{"input_to_event_p50_ms", percentile(buttons, 50), "ms"},
		{"input_to_event_p99_ms", percentile(buttons, 99), "ms"},
		{"door_input_to_event_p50_ms", percentile(doors, 50), "ms"},
		{"door_input_to_event_p99_ms", percentile(doors, 99), "ms"},
		{"supervised_input_to_event_p99_ms", percentile(lines, 99), "ms"},
	}, nil
}
