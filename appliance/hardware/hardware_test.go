package hardware

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sensors"
)

// TestPanicLeavesAnnunciatorsSafe: a staff alarm sounds; a panic in a
// guarded goroutine turns every output off before it goes on.
func TestPanicLeavesAnnunciatorsSafe(t *testing.T) {
	w, err := config.Simulated("A")
	require.NoError(t, err)
	sim, err := NewSimulation(w, nil)
	require.NoError(t, err)
	defer sim.Close()
	state := wing.New()
	state.Fold(event.Event{Wing: "A", Seq: 1, Kind: event.AlarmRaised, Subject: "A1-STAFF", Wall: time.Now(),
		Data: map[string]string{"point_kind": "staff-alarm", "priority": "1"}})
	var mu sync.Mutex
	h := New(Config{Wing: w, OpenI2C: sim.OpenBus, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Record: func(context.Context, event.Draft) {},
		Read: func(f func(*wing.State)) {
			mu.Lock()
			defer mu.Unlock()
			f(state)
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx, make(chan sensors.Reading, 1024))
	}()
	defer func() { cancel(); <-done }()
	require.Eventually(t, func() bool {
		l, _ := sim.Outputs.Level("OUT_A_SOUNDER")
		return l == gpio.High
	}, 5*time.Second, 5*time.Millisecond, "sounding")

	func() {
		defer func() { assert.Equal(t, "boom", recover(), "the panic goes on after the outputs are safe") }()
		h.Guard(func() { panic("boom") })()
	}()
	for _, pin := range []string{"OUT_A_SOUNDER", "OUT_A_STROBE", "OUT_A_PANEL"} {
		l, err := sim.Outputs.Level(pin)
		require.NoError(t, err)
		assert.Equal(t, gpio.Low, l, "%s off after a panic", pin)
	}
}
