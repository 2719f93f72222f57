package scenario_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
	"wingnode/sensors/scenario"
	"wingnode/sensors/simulate"
)

var _ scenario.Target = (*simulate.Wiring)(nil)

// builtIn is the built-in simulated wing's hardware as the default
// scenario expects it: the doors and alarm points on pins, but A2-11 on a
// supervised line, and an environment sensor per landing.
type builtIn struct {
	*simulate.Wiring
	adc     *simulate.ADS1115
	sensors map[string]*simulate.SHT3x
	regimes []string // set by the scenario, in order
	shift   []string // the officers' checks, counts and signed rolls, in order
	cells   []string
}

func newBuiltIn(t *testing.T, clock clockwork.Clock) *builtIn {
	t.Helper()
	w, err := config.Simulated("A")
	require.NoError(t, err)
	var inputs []simulate.Input
	pins := map[string]string{}
	for _, d := range w.Doors {
		if d.ID != "A2-11" {
			inputs = append(inputs, simulate.Input{Pin: d.Input.Pin, Kind: simulate.DoorContact, ActiveLow: d.Input.ActiveLow})
			pins[d.ID] = d.Input.Pin
		}
		if d.Lock != nil {
			inputs = append(inputs, simulate.Input{Pin: d.Lock.Pin, Kind: simulate.DoorContact, ActiveLow: d.Lock.ActiveLow})
			pins[d.ID+wing.LockSuffix] = d.Lock.Pin
		}
	}
	for _, p := range w.AlarmPoints {
		inputs = append(inputs, simulate.Input{Pin: p.Input.Pin, Kind: simulate.Button, ActiveLow: p.Input.ActiveLow})
		pins[p.ID] = p.Input.Pin
		if p.Reset != nil {
			inputs = append(inputs, simulate.Input{Pin: p.Reset.Pin, Kind: simulate.Button, ActiveLow: p.Reset.ActiveLow})
			pins[p.ID+wing.ResetSuffix] = p.Reset.Pin
		}
	}
	sim, err := simulate.New(inputs, simulate.Options{Clock: clock})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sim.Close()) })

	b := &builtIn{Wiring: simulate.NewWiring(sim), adc: simulate.NewADS1115(nil), sensors: map[string]*simulate.SHT3x{}}
	for _, d := range w.Cells("") {
		b.cells = append(b.cells, d.ID)
	}
	for _, in := range inputs {
		for id, pin := range pins {
			if pin == in.Pin {
				require.NoError(t, b.Input(id, pin))
			}
		}
	}
	require.NoError(t, b.Line("A2-11", b.adc, 0))
	for _, id := range []string{"ENV-A1", "ENV-A2", "ENV-A3"} {
		b.sensors[id] = simulate.NewSHT3x(nil)
		require.NoError(t, b.Sensor(id, b.sensors[id]))
	}
	return b
}

// SetRegime takes the scenario's regime steps, as the appliance's
// simulated supervisor would.
func (b *builtIn) SetRegime(regime string) error {
	b.regimes = append(b.regimes, regime)
	return nil
}

// The officers' steps, as the appliance's simulated officers would take
// them.
func (b *builtIn) Cells() []string    { return b.cells }
func (b *builtIn) Landings() []string { return []string{"1", "2", "3"} }
func (b *builtIn) Check(cell, outcome string) error {
	b.shift = append(b.shift, "check "+cell+" "+outcome)
	return nil
}
func (b *builtIn) Count(landing string, n int) error {
	b.shift = append(b.shift, fmt.Sprintf("count %s %d", landing, n))
	return nil
}
func (b *builtIn) SignRoll() error {
	b.shift = append(b.shift, "sign roll")
	return nil
}

// celsius reads a sensor's temperature as a driver would.
func celsius(t *testing.T, s *simulate.SHT3x) float64 {
	t.Helper()
	r := make([]byte, 6)
	require.NoError(t, s.Tx([]byte{0x24, 0x00}, r))
	return -45 + 175*float64(uint16(r[0])<<8|uint16(r[1]))/65535
}

// TestDefaultOnTheBuiltInWing plays the default scenario through the
// simulated hardware, checking a few moments of it on the way.
func TestDefaultOnTheBuiltInWing(t *testing.T) {
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	b := newBuiltIn(t, clock)
	s := scenario.Default()
	require.Equal(t, scenario.DefaultName, s.Name())

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Play(ctx, b, clock) }()

	door := gpioreg.ByName("DOOR_A1_09") // held open from 00:16 for 7 minutes
	line := func() simulate.LineState { return simulate.LineStateAt(b.adc.Voltage(0)) }
	checks := map[time.Duration]func(){
		10 * time.Second: func() {
			require.Equal(t, gpio.Low, door.Read())
			require.Equal(t, simulate.LineNormal, line())
			require.InDelta(t, 22.0, celsius(t, b.sensors["ENV-A3"]), 0.01)
		},
		5 * time.Minute: func() {
			require.Equal(t, gpio.High, door.Read())
			require.Equal(t, simulate.LineOpenCircuit, line())
		},
		6*time.Minute + 40*time.Second: func() {
			require.Equal(t, simulate.LineNormal, line(), "repaired, and the door shut again")
			require.InDelta(t, 32.5, celsius(t, b.sensors["ENV-A3"]), 0.01)
		},
		7*time.Minute + 30*time.Second: func() {
			require.Equal(t, gpio.Low, door.Read())
			err := b.sensors["ENV-A2"].Tx([]byte{0x24, 0x00}, nil)
			require.ErrorIs(t, err, simulate.ErrNACK, "ENV-A2 is silent")
		},
		9 * time.Minute: func() {
			require.Equal(t, []string{"unlock", "night"}, b.regimes, "a supervisor sets the night regime")
			require.Equal(t, []string{"check A1-07 spoke", "check A3-03 seen-moving", "check A2-16 spoke", "check A3-03 spoke",
				"check A1-07 seen-moving", "check A3-03 seen", "check A1-07 sign-of-life"}, b.shift, "the day's checks, and the night's first at the door")
			require.Equal(t, gpio.High, gpioreg.ByName("LOCK_A1_04").Read(), "A1-04 unlocked again after it was forced (the bolt contact is active low)")
		},
		9*time.Minute + 45*time.Second: func() {
			require.Equal(t, []string{"check A3-03 spoke", "count 1 18", "count 2 20", "count 2 21", "count 3 18", "sign roll"},
				b.shift[7:], "the night's checks, the roll counted, one landing short at first, and signed")
		},
		9*time.Minute + 55*time.Second: func() {
			require.Equal(t, "check A2-16 sign-of-life", b.shift[len(b.shift)-1], "the night's last check")
		},
		10*time.Minute + 10*time.Second: func() { // the second round
			require.InDelta(t, 22.0, celsius(t, b.sensors["ENV-A3"]), 0.01)
			require.NoError(t, b.sensors["ENV-A2"].Tx([]byte{0x24, 0x00}, nil))
		},
	}
	for elapsed := time.Duration(0); elapsed <= 10*time.Minute+10*time.Second; elapsed += time.Second {
		// Play, and nothing else, waits on the clock once it has made the
		// changes due.
		require.NoError(t, clock.BlockUntilContext(ctx, 1))
		if check := checks[elapsed]; check != nil {
			check()
		}
		clock.Advance(time.Second)
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
}

func TestDefaultNamesOnlyTheBuiltInWing(t *testing.T) {
	w, err := config.Simulated("A")
	require.NoError(t, err)
	var p scenario.Points
	for _, d := range w.Doors {
		p.Inputs = append(p.Inputs, d.ID, d.ID+wing.LockSuffix)
	}
	for _, a := range w.AlarmPoints {
		p.Inputs = append(p.Inputs, a.ID, a.ID+wing.ResetSuffix)
	}
	p.Regimes, p.Shift, p.Landings = true, true, w.Landings
	for _, d := range w.Cells("") {
		p.Cells = append(p.Cells, d.ID)
	}
	require.ErrorContains(t, scenario.Default().Check(p), "no supervised line A2-11")
	p.Lines = []string{"A2-11"}
	p.Sensors = []string{"ENV-A1", "ENV-A2", "ENV-A3"}
	require.NoError(t, scenario.Default().Check(p))
}

// TestDocumentedExamplesParse keeps the examples in the package
// documentation and in docs/scenarios.md valid.
func TestDocumentedExamplesParse(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	var example strings.Builder
	for line := range strings.Lines(string(doc)) {
		if after, ok := strings.CutPrefix(line, "//\t"); ok {
			example.WriteString(after)
		}
	}
	_, err = scenario.Parse("doc.go", strings.NewReader(example.String()))
	require.NoError(t, err)

	md, err := os.ReadFile("../../docs/scenarios.md")
	require.NoError(t, err)
	blocks := strings.Split(string(md), "```scenario\n")
	require.Greater(t, len(blocks), 1, "no scenario example in docs/scenarios.md")
	for _, b := range blocks[1:] {
		block, _, _ := strings.Cut(b, "```")
		_, err := scenario.Parse("docs/scenarios.md", strings.NewReader(block))
		require.NoError(t, err)
	}
}

// pointsOfSimulated lists what the built-in simulated wing id offers a
// scenario.
func pointsOfSimulated(t *testing.T, id string) scenario.Points {
	t.Helper()
	w, err := config.Simulated(id)
	require.NoError(t, err)
	var p scenario.Points
	for _, d := range w.Doors {
		p.Inputs = append(p.Inputs, d.ID)
		if d.Input.ADC != nil {
			p.Lines = append(p.Lines, d.ID) // a supervised line is also a door
		}
		if d.Lock != nil {
			p.Inputs = append(p.Inputs, d.ID+wing.LockSuffix)
		}
	}
	for _, a := range w.AlarmPoints {
		p.Inputs = append(p.Inputs, a.ID)
		if a.Reset != nil {
			p.Inputs = append(p.Inputs, a.ID+wing.ResetSuffix)
		}
	}
	p.Regimes, p.Shift, p.Landings = true, true, w.Landings
	for _, d := range w.Cells("") {
		p.Cells = append(p.Cells, d.ID)
	}
	for _, s := range w.Sensors {
		p.Sensors = append(p.Sensors, s.ID)
	}
	return p
}

// TestDefaultForEachWing: every simulated wing of a site plays the day
// with its own names, and only those.
func TestDefaultForEachWing(t *testing.T) {
	for _, id := range []string{"A", "B", "C", "D12"} {
		require.NoError(t, scenario.DefaultFor(id).Check(pointsOfSimulated(t, id)), "wing %s", id)
	}
	require.Error(t, scenario.DefaultFor("B").Check(pointsOfSimulated(t, "A")), "wing B's day names none of wing A's points")
	require.NoError(t, scenario.Default().Check(pointsOfSimulated(t, "A")))
}
