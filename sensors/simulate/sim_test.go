package simulate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"wingnode/sensors/simulate"
)

// wing returns the inputs of a wing with the given landings and cells per
// landing: a door contact and a call button per cell, and a gate and a
// staff alarm per landing.
func wing(landings, cells int) []simulate.Input {
	var inputs []simulate.Input
	for l := 1; l <= landings; l++ {
		landing := fmt.Sprintf("A%d", l)
		for c := 1; c <= cells; c++ {
			inputs = append(inputs,
				simulate.Input{Pin: fmt.Sprintf("DOOR_%s_%02d", landing, c), Kind: simulate.DoorContact},
				simulate.Input{Pin: fmt.Sprintf("CALL_%s_%02d", landing, c), Kind: simulate.Button, ActiveLow: true})
		}
		inputs = append(inputs,
			simulate.Input{Pin: "GATE_" + landing, Kind: simulate.DoorContact},
			simulate.Input{Pin: "ALARM_" + landing, Kind: simulate.Button, ActiveLow: true})
	}
	return inputs
}

func newSim(t testing.TB, inputs []simulate.Input, opt simulate.Options) *simulate.Sim {
	t.Helper()
	s, err := simulate.New(inputs, opt)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestCloseUnregistersPins(t *testing.T) {
	inputs := wing(1, 2)
	s, err := simulate.New(inputs, simulate.Options{})
	require.NoError(t, err)
	require.NotNil(t, gpioreg.ByName("DOOR_A1_01"))

	_, err = simulate.New([]simulate.Input{{Pin: "SPARE", Kind: simulate.Button}, {Pin: "DOOR_A1_01", Kind: simulate.DoorContact}}, simulate.Options{})
	require.ErrorContains(t, err, `"DOOR_A1_01"`)
	require.Nil(t, gpioreg.ByName("SPARE"), "a failed New left a pin registered")

	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	require.Nil(t, gpioreg.ByName("DOOR_A1_01"))

	newSim(t, inputs, simulate.Options{})
	require.NotNil(t, gpioreg.ByName("DOOR_A1_01"))
}

func TestNewRejectsInvalidInputs(t *testing.T) {
	for name, inputs := range map[string][]simulate.Input{
		"no pin":       {{Kind: simulate.Button}},
		"pin twice":    {{Pin: "X", Kind: simulate.Button}, {Pin: "X", Kind: simulate.DoorContact}},
		"unknown kind": {{Pin: "X"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := simulate.New(inputs, simulate.Options{})
			require.Error(t, err)
			require.Nil(t, gpioreg.ByName("X"))
		})
	}
}

func TestSetLevels(t *testing.T) {
	for _, tt := range []struct {
		activeLow    bool
		pull         gpio.Pull // what the reader asks for; it must not change the level
		idle, active gpio.Level
	}{
		{activeLow: false, pull: gpio.PullUp, idle: gpio.Low, active: gpio.High},
		{activeLow: false, pull: gpio.PullDown, idle: gpio.Low, active: gpio.High},
		{activeLow: true, pull: gpio.PullUp, idle: gpio.High, active: gpio.Low},
		{activeLow: true, pull: gpio.PullDown, idle: gpio.High, active: gpio.Low},
	} {
		t.Run(fmt.Sprintf("activeLow=%t/%s", tt.activeLow, tt.pull), func(t *testing.T) {
			s := newSim(t, []simulate.Input{{Pin: "IN", Kind: simulate.Button, ActiveLow: tt.activeLow}}, simulate.Options{})
			p := gpioreg.ByName("IN")
			require.NoError(t, p.In(tt.pull, gpio.BothEdges))
			require.Equal(t, tt.idle, p.Read())

			require.NoError(t, s.Set("IN", true))
			require.True(t, p.WaitForEdge(time.Second))
			require.Equal(t, tt.active, p.Read())

			require.NoError(t, p.In(tt.pull, gpio.BothEdges))
			require.Equal(t, tt.active, p.Read(), "In changed the level of an active input")

			require.NoError(t, s.Set("IN", true))
			require.False(t, p.WaitForEdge(10*time.Millisecond), "an edge without a change")

			require.NoError(t, s.Set("IN", false))
			require.True(t, p.WaitForEdge(time.Second))
			require.Equal(t, tt.idle, p.Read())
		})
	}
}

func TestBounce(t *testing.T) {
	s := newSim(t, []simulate.Input{{Pin: "DOOR", Kind: simulate.DoorContact}}, simulate.Options{})
	p := gpioreg.ByName("DOOR")
	require.NoError(t, p.In(gpio.PullUp, gpio.BothEdges))

	require.NoError(t, s.Bounce("DOOR", true, 2))
	var levels []gpio.Level
	for p.WaitForEdge(10 * time.Millisecond) {
		levels = append(levels, p.Read())
	}
	require.Equal(t, []gpio.Level{gpio.High, gpio.Low, gpio.High, gpio.Low, gpio.High}, levels)

	require.ErrorContains(t, s.Set("NOWHERE", true), `"NOWHERE"`)
}

func TestUnreadPinKeepsItsLevel(t *testing.T) {
	// Nobody reads the pin, so its edge queue overflows; the level must
	// still be the input's state once the queue is read.
	s := newSim(t, []simulate.Input{{Pin: "DOOR", Kind: simulate.DoorContact}}, simulate.Options{})
	p := gpioreg.ByName("DOOR")
	for i := range 25 {
		require.NoError(t, s.Set("DOOR", i%2 == 0))
	}
	for p.WaitForEdge(10 * time.Millisecond) {
	}
	require.Equal(t, gpio.High, p.Read())
}
