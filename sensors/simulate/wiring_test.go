package simulate_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

func TestWiring(t *testing.T) {
	s := newSim(t, []simulate.Input{{Pin: "DOOR_A1_01", Kind: simulate.DoorContact}}, simulate.Options{})
	adc := simulate.NewADS1115(nil)
	sht := simulate.NewSHT3x(nil)
	w := simulate.NewWiring(s)
	require.NoError(t, w.Input("A1-01", "DOOR_A1_01"))
	require.NoError(t, w.Line("A1-02", adc, 2))
	require.NoError(t, w.Sensor("ENV-A1", sht))

	require.ErrorContains(t, w.Input("A1-03", "NOWHERE"), `"NOWHERE"`)
	require.ErrorContains(t, w.Line("A1-01", adc, 1), "twice")
	require.ErrorContains(t, w.Sensor("A1-02", sht), "twice")
	require.Error(t, w.Line("A1-04", adc, 4))
	require.Error(t, w.Line("A1-04", nil, 0))
	require.Equal(t, []string{"A1-01", "A1-02"}, w.Inputs())
	require.Equal(t, []string{"A1-02"}, w.Lines())
	require.Equal(t, []string{"ENV-A1"}, w.Sensors())

	// A pin.
	p := gpioreg.ByName("DOOR_A1_01")
	require.NoError(t, p.In(gpio.PullUp, gpio.BothEdges))
	require.NoError(t, w.Bounce("A1-01", true, 1))
	var levels []gpio.Level
	for p.WaitForEdge(10 * time.Millisecond) {
		levels = append(levels, p.Read())
	}
	require.Equal(t, []gpio.Level{gpio.High, gpio.Low, gpio.High}, levels)

	// A supervised line: the contact, and faults over it.
	line := func() simulate.LineState {
		return simulate.LineStateAt(adc.Voltage(2))
	}
	require.Equal(t, simulate.LineNormal, line(), "wired lines start normal")
	require.NoError(t, w.SetInput("A1-02", true))
	require.Equal(t, simulate.LineActive, line())
	require.NoError(t, w.SetLine("A1-02", simulate.LineOpenCircuit))
	require.Equal(t, simulate.LineOpenCircuit, line())
	require.NoError(t, w.Bounce("A1-02", false, 3))
	require.Equal(t, simulate.LineOpenCircuit, line(), "a cut cable does not show the contact")
	require.NoError(t, w.SetLine("A1-02", simulate.LineNormal))
	require.Equal(t, simulate.LineNormal, line(), "repaired: the contact again")
	for _, fault := range []simulate.LineState{simulate.LineShortCircuit, simulate.LineTamper} {
		require.NoError(t, w.SetLine("A1-02", fault))
		require.Equal(t, fault, line())
	}
	require.ErrorContains(t, w.SetLine("A1-02", simulate.LineActive), "not a fault")
	require.ErrorContains(t, w.SetLine("A1-01", simulate.LineTamper), "no supervised line A1-01")
	require.ErrorContains(t, w.SetInput("A9-99", true), "A9-99")

	// An environment sensor.
	require.NoError(t, w.SetClimate("ENV-A1", physic.ZeroCelsius+25*physic.Celsius, 50*physic.PercentRH))
	r := make([]byte, 6)
	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, r))
	require.Equal(t, []byte{0x66, 0x66, 0x93, 0x80, 0x00, 0xa2}, r)
	require.NoError(t, w.SetSilent("ENV-A1", true))
	require.ErrorIs(t, sht.Tx([]byte{0x24, 0x00}, r), simulate.ErrNACK)
	require.NoError(t, w.SetSilent("ENV-A1", false))
	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, r))
	require.ErrorContains(t, w.SetClimate("ENV-B1", 0, 0), "ENV-B1")
	require.ErrorContains(t, w.SetSilent("A1-01", true), "A1-01")
}
