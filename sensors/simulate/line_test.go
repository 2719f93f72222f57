package simulate_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

func TestLineLevels(t *testing.T) {
	const series = 4700.0 // Ω
	loop := map[simulate.LineState]float64{
		simulate.LineShortCircuit: 0,
		simulate.LineTamper:       1500,
		simulate.LineNormal:       4700,
		simulate.LineActive:       9400,
		simulate.LineOpenCircuit:  math.Inf(1),
	}
	levels := simulate.LineLevels()
	require.Len(t, levels, len(loop))
	require.Equal(t, physic.ElectricPotential(math.MinInt64), levels[0].Min)
	require.Equal(t, physic.ElectricPotential(math.MaxInt64), levels[len(levels)-1].Max)
	for i, l := range levels {
		if i > 0 {
			require.Equal(t, levels[i-1].Max, l.Min, "bands of %s and %s", levels[i-1].State, l.State)
		}
		require.True(t, l.Min <= l.Nominal && l.Nominal < l.Max, "%s: nominal outside its band", l.State)
		require.Equal(t, l.State, simulate.LineStateAt(l.Nominal))
		require.Equal(t, l.State, simulate.LineStateAt(l.Min))
		v, ok := l.State.Voltage()
		require.True(t, ok)
		require.Equal(t, l.Nominal, v)

		// The nominal voltage is the divider's: 5 V · R / (4.7 kΩ + R).
		r := loop[l.State]
		want := 5.0
		if !math.IsInf(r, 1) {
			want = 5 * r / (series + r)
		}
		require.InDelta(t, want, float64(l.Nominal)/float64(physic.Volt), 0.01, "%s", l.State)
	}
	_, ok := simulate.LineState("frayed").Voltage()
	require.False(t, ok)
	require.Equal(t, simulate.LineOpenCircuit, simulate.LineStateAt(math.MaxInt64))
}
