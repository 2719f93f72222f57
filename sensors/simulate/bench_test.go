package simulate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"wingnode/sensors"
	"wingnode/sensors/simulate"
)

// BenchmarkWatchLatency measures, on the real clock, the time from an input
// changing to its Reading leaving sensors.Watch, with a wing of 168 inputs
// watched and a 20 ms debounce: the sensors' share of the edge-to-screen
// budget.
func BenchmarkWatchLatency(b *testing.B) {
	inputs := wing(4, 20)
	s := newSim(b, inputs, simulate.Options{})
	points := make([]sensors.Point, len(inputs))
	for i, in := range inputs {
		points[i] = sensors.Point{ID: in.Pin, Pin: in.Pin, ActiveLow: in.ActiveLow}
	}
	out := make(chan sensors.Reading, len(points))
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(b.Context())
	go func() { done <- sensors.Watch(ctx, points, sensors.Options{}, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	for range points {
		<-out // the starting levels
	}

	active := make(map[string]bool)
	var latencies []time.Duration
	for i := 0; b.Loop(); i++ {
		in := inputs[i%len(inputs)]
		active[in.Pin] = !active[in.Pin]
		changed := time.Now()
		if err := s.Set(in.Pin, active[in.Pin]); err != nil {
			b.Fatal(err)
		}
		r := <-out
		latencies = append(latencies, time.Since(changed))
		if r.Point != in.Pin || r.Active != active[in.Pin] {
			b.Fatalf("got %+v after setting %s to %t", r, in.Pin, active[in.Pin])
		}
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100])/1e6, "p99-ms")
}
