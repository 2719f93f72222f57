package supervise

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"
)

const mV = physic.MilliVolt

// On the default 3.3 V supply the default bands' edges fall on whole
// millivolts: short ≤ 495, normal 1320 to 1881, active 1980 to 2541,
// open ≥ 2970.
var classifyTests = []struct {
	name  string
	v     physic.ElectricPotential
	bands Bands
	want  LineState
}{
	{"below ground", -100 * mV, Bands{}, ShortCircuit},
	{"ground", 0, Bands{}, ShortCircuit},
	{"short edge", 495 * mV, Bands{}, ShortCircuit},
	{"above short", 496 * mV, Bands{}, Tamper},
	{"below normal", 1319 * mV, Bands{}, Tamper},
	{"normal low edge", 1320 * mV, Bands{}, Normal},
	{"normal nominal", 1650 * mV, Bands{}, Normal},
	{"normal high edge", 1881 * mV, Bands{}, Normal},
	{"above normal", 1882 * mV, Bands{}, Tamper},
	{"below active", 1979 * mV, Bands{}, Tamper},
	{"active low edge", 1980 * mV, Bands{}, Active},
	{"active nominal", 2200 * mV, Bands{}, Active},
	{"active high edge", 2541 * mV, Bands{}, Active},
	{"above active", 2542 * mV, Bands{}, Tamper},
	{"below open", 2969 * mV, Bands{}, Tamper},
	{"open edge", 2970 * mV, Bands{}, OpenCircuit},
	{"supply", 3300 * mV, Bands{}, OpenCircuit},
	{"above supply", 4000 * mV, Bands{}, OpenCircuit},
	{"5 V supply, default fractions: normal", 2500 * mV, Bands{Supply: 5 * physic.Volt}, Normal},
	{"5 V supply, default fractions: active", 3333 * mV, Bands{Supply: 5 * physic.Volt}, Active},
	{"5 V supply, default fractions: 3.3 V is active", 3300 * mV, Bands{Supply: 5 * physic.Volt}, Active},
	{"own fractions: normal", 300 * mV, Bands{Supply: physic.Volt, Short: 0.1, NormalLow: 0.2, NormalHigh: 0.4, ActiveLow: 0.6, ActiveHigh: 0.8, Open: 0.95}, Normal},
	{"own fractions: tamper", 500 * mV, Bands{Supply: physic.Volt, Short: 0.1, NormalLow: 0.2, NormalHigh: 0.4, ActiveLow: 0.6, ActiveHigh: 0.8, Open: 0.95}, Tamper},
	{"own fractions on the default supply", 1650 * mV, Bands{Short: 0.1, NormalLow: 0.2, NormalHigh: 0.4, ActiveLow: 0.45, ActiveHigh: 0.8, Open: 0.95}, Active},
}

func TestClassify(t *testing.T) {
	for _, tt := range classifyTests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Classify(tt.v, tt.bands))
		})
	}
}

func TestBandsCheck(t *testing.T) {
	require.NoError(t, Bands{}.withDefaults().check())
	tests := []struct {
		name  string
		bands Bands
	}{
		{"negative supply", Bands{Supply: -physic.Volt}},
		{"negative short", Bands{Short: -0.1, NormalLow: 0.4, NormalHigh: 0.5, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 0.9}},
		{"short meets normal", Bands{Short: 0.4, NormalLow: 0.4, NormalHigh: 0.5, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 0.9}},
		{"normal upside down", Bands{Short: 0.1, NormalLow: 0.5, NormalHigh: 0.4, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 0.9}},
		{"normal overlaps active", Bands{Short: 0.1, NormalLow: 0.4, NormalHigh: 0.6, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 0.9}},
		{"open above the supply", Bands{Short: 0.1, NormalLow: 0.4, NormalHigh: 0.5, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 1.1}},
		{"NaN", Bands{Short: 0.1, NormalLow: math.NaN(), NormalHigh: 0.5, ActiveLow: 0.6, ActiveHigh: 0.7, Open: 0.9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorContains(t, tt.bands.withDefaults().check(), "bands: ")
		})
	}
}

// rank orders the states from ground to supply; a tamper ranks by the gap
// it falls in.
func rank(s LineState, f float64, b Bands) int {
	switch s {
	case ShortCircuit:
		return 0
	case Normal:
		return 2
	case Active:
		return 4
	case OpenCircuit:
		return 6
	}
	switch {
	case f < b.NormalLow:
		return 1
	case f < b.ActiveLow:
		return 3
	default:
		return 5
	}
}

// FuzzClassify checks that Classify never panics, and that with bands that
// ascend a higher voltage never gives a state nearer ground.
func FuzzClassify(f *testing.F) {
	for _, tt := range classifyTests {
		b := tt.bands
		f.Add(int64(tt.v), int64(tt.v+10*mV), int64(b.Supply), b.Short, b.NormalLow, b.NormalHigh, b.ActiveLow, b.ActiveHigh, b.Open)
	}
	f.Fuzz(func(t *testing.T, v1, v2, supply int64, short, normalLow, normalHigh, activeLow, activeHigh, open float64) {
		b := Bands{
			Supply: physic.ElectricPotential(supply),
			Short:  short, NormalLow: normalLow, NormalHigh: normalHigh,
			ActiveLow: activeLow, ActiveHigh: activeHigh, Open: open,
		}
		lo, hi := physic.ElectricPotential(min(v1, v2)), physic.ElectricPotential(max(v1, v2))
		s1, s2 := Classify(lo, b), Classify(hi, b)
		b = b.withDefaults()
		if b.check() != nil {
			return
		}
		if r1, r2 := rank(s1, b.fraction(lo), b), rank(s2, b.fraction(hi), b); r1 > r2 {
			t.Fatalf("%s classifies as %s but the higher %s as %s with %+v", lo, s1, hi, s2, b)
		}
	})
}
