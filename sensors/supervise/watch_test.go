package supervise

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors"
	"wingnode/sensors/adc"
)

var _ Reader = (*adc.ADS1115)(nil)

const ms = time.Millisecond

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// Line voltages on the default bands and 3.3 V supply.
const (
	closed  = 1650 * mV // contact closed: Reol
	opened  = 2200 * mV // contact open: Reol+Ra
	cut     = 3300 * mV
	shorted = 0
	bridged = 1000 * mV // between short and normal
)

// fakeADC is an ADC whose channels read what the test sets.
type fakeADC struct {
	mu    sync.Mutex
	volts map[int]physic.ElectricPotential
	errs  map[int]error
}

func (a *fakeADC) set(channel int, v physic.ElectricPotential) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.volts == nil {
		a.volts, a.errs = make(map[int]physic.ElectricPotential), make(map[int]error)
	}
	a.volts[channel], a.errs[channel] = v, nil
}

func (a *fakeADC) fail(channel int, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.errs[channel] = err
}

func (a *fakeADC) Read(channel int) (physic.ElectricPotential, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.volts[channel], a.errs[channel]
}

// harness runs WatchLines on a fake clock, on an unbuffered channel so
// that each Reading is taken by the test before its line reads again.
type harness struct {
	t     *testing.T
	clock *clockwork.FakeClock
	lines int
	out   chan sensors.Reading
	stop  func()
}

func watchLines(t *testing.T, lines []Line) *harness {
	t.Helper()
	h := &harness{t: t, clock: clockwork.NewFakeClockAt(t0), lines: len(lines), out: make(chan sensors.Reading)}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- WatchLines(ctx, lines, LineOptions{Clock: h.clock}, h.out) }()
	h.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(2 * time.Second):
			require.FailNow(t, "WatchLines did not stop")
		}
	})
	t.Cleanup(h.stop)
	return h
}

// settle takes the Readings sent until every line is asleep until its next
// poll, sorted by line. Each line sleeps on one timer, removed when it
// fires, so the clock has one waiter per sleeping line.
func (h *harness) settle() []sensors.Reading {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.t.Context(), 2*time.Second)
	defer cancel()
	asleep := make(chan error, 1)
	go func() { asleep <- h.clock.BlockUntilContext(ctx, h.lines) }()
	var got []sensors.Reading
	for {
		select {
		case r := <-h.out:
			got = append(got, r)
		case err := <-asleep:
			require.NoError(h.t, err, "the lines did not go back to sleep")
			slices.SortFunc(got, func(a, b sensors.Reading) int { return strings.Compare(a.Point, b.Point) })
			return got
		}
	}
}

// run lets the lines poll for d from now, returning what they sent.
func (h *harness) run(d time.Duration) []sensors.Reading {
	h.t.Helper()
	got := h.settle()
	for range d / (20 * ms) {
		h.clock.Advance(20 * ms)
		got = append(got, h.settle()...)
	}
	return got
}

func TestWatchLinesStartAndDebouncedChange(t *testing.T) {
	var adc fakeADC
	adc.set(0, closed)
	adc.set(1, opened)
	h := watchLines(t, []Line{{ID: "A1-01", ADC: &adc, Channel: 0}, {ID: "A1-02", ADC: &adc, Channel: 1}})

	require.Empty(t, h.run(40*ms), "the starting state must hold for the debounce")
	require.Equal(t, []sensors.Reading{
		{Point: "A1-01", Active: false, At: t0},
		{Point: "A1-02", Active: true, At: t0},
	}, h.run(20*ms))

	adc.set(0, opened) // read at 80 ms, and at 100, 120 and 140
	require.Empty(t, h.run(60*ms))
	require.Equal(t, []sensors.Reading{{Point: "A1-01", Active: true, At: t0.Add(80 * ms)}}, h.run(20*ms))

	// A bounce of one read, then a change that holds.
	adc.set(0, closed) // read at 160 ms
	h.run(20 * ms)
	adc.set(0, opened)
	require.Empty(t, h.run(200*ms))
	adc.set(0, closed) // read at 380 ms
	require.Empty(t, h.run(60*ms))
	require.Equal(t, []sensors.Reading{{Point: "A1-01", Active: false, At: t0.Add(380 * ms)}}, h.run(20*ms))
}

func TestWatchLinesOwnDebounce(t *testing.T) {
	var adc fakeADC
	adc.set(0, opened)
	h := watchLines(t, []Line{{ID: "A1-ALARM", ADC: &adc, Debounce: 100 * ms}})
	require.Empty(t, h.run(80*ms))
	require.Equal(t, []sensors.Reading{{Point: "A1-ALARM", Active: true, At: t0}}, h.run(20*ms))
}

func TestWatchLinesFaultAndRecovery(t *testing.T) {
	tests := []struct {
		v      physic.ElectricPotential
		fault  string
		detail string
	}{
		{cut, FaultOpenCircuit, "Line A1-01 reads 3.30 V, 100% of its 3.30 V supply: the cable is cut"},
		{shorted, FaultShortCircuit, "Line A1-01 reads 0.00 V, 0% of its 3.30 V supply: the cable is shorted"},
		{bridged, FaultTamper, "Line A1-01 reads 1.00 V, 30% of its 3.30 V supply, outside the normal (40–57%) and active (60–77%) bands"},
		{1900 * mV, FaultTamper, "Line A1-01 reads 1.90 V, 58% of its 3.30 V supply, outside"},
	}
	for _, tt := range tests {
		t.Run(tt.fault, func(t *testing.T) {
			var adc fakeADC
			adc.set(0, closed)
			h := watchLines(t, []Line{{ID: "A1-01", ADC: &adc}})
			require.Equal(t, []sensors.Reading{{Point: "A1-01", At: t0}}, h.run(60*ms))

			adc.set(0, tt.v) // read at 80 ms, and at 100, 120 and 140
			require.Empty(t, h.run(60*ms))
			got := h.run(20 * ms)
			require.Len(t, got, 1)
			require.Equal(t, tt.fault, got[0].Fault)
			require.False(t, got[0].Active)
			require.Equal(t, t0.Add(80*ms), got[0].At)
			require.Contains(t, got[0].Detail, tt.detail)

			require.Empty(t, h.run(time.Second), "a fault is reported once")

			adc.set(0, closed) // read at 1.16 s
			require.Empty(t, h.run(60*ms))
			require.Equal(t, []sensors.Reading{{Point: "A1-01", At: t0.Add(1160 * ms)}}, h.run(20*ms))
		})
	}
}

func TestWatchLinesOpenCircuitAtStart(t *testing.T) {
	var adc fakeADC
	adc.set(3, cut)
	h := watchLines(t, []Line{{ID: "A1-01", ADC: &adc, Channel: 3}})
	got := h.run(60 * ms)
	require.Len(t, got, 1)
	require.Equal(t, FaultOpenCircuit, got[0].Fault, "a faulted line never reports a normal state")
}

func TestWatchLinesADCError(t *testing.T) {
	var adc fakeADC
	adc.set(0, closed)
	h := watchLines(t, []Line{{ID: "A1-01", ADC: &adc}})
	require.Equal(t, []sensors.Reading{{Point: "A1-01", At: t0}}, h.run(60*ms))

	// Two failures are not enough, and do not change the state.
	adc.fail(0, errors.New("i2c: no acknowledge")) // reads at 80 and 100 ms
	h.run(40 * ms)
	adc.set(0, closed)
	require.Empty(t, h.run(200*ms))

	adc.fail(0, errors.New("i2c: no acknowledge")) // reads at 320, 340, 360 ms
	require.Empty(t, h.run(40*ms))
	got := h.run(20 * ms)
	require.Len(t, got, 1)
	require.Equal(t, FaultADC, got[0].Fault)
	require.Equal(t, t0.Add(360*ms), got[0].At)
	require.Equal(t, "Line A1-01 could not be read 3 times in a row (i2c: no acknowledge): check the ADC's wiring, address and power.", got[0].Detail)
	require.Empty(t, h.run(time.Second), "the fault is reported once")

	// The next good read ends it at once, even in a new state.
	adc.set(0, opened) // read at 1.38 s
	require.Equal(t, []sensors.Reading{{Point: "A1-01", Active: true, At: t0.Add(1380 * ms)}}, h.run(20*ms))
	require.Empty(t, h.run(time.Second))
}

func TestWatchLinesStopsOnCancel(t *testing.T) {
	var adc fakeADC
	adc.set(0, closed)
	adc.set(1, closed)
	h := watchLines(t, []Line{{ID: "A1-01", ADC: &adc, Channel: 0}, {ID: "A1-02", ADC: &adc, Channel: 1, Debounce: time.Second}})
	h.settle()
	h.clock.Advance(60 * ms)
	// A1-01 now waits to send its starting state, which nobody takes;
	// A1-02 sleeps until its next poll, which never comes.
	h.stop()
	select {
	case r := <-h.out:
		require.FailNow(t, "sent after stopping", "%+v", r)
	default:
	}
}

func TestWatchLinesInvalid(t *testing.T) {
	var adc fakeADC
	tests := []struct {
		lines []Line
		want  string
	}{
		{[]Line{{ADC: &adc, Channel: 2}}, "supervise: line 0 (channel 2) has no id"},
		{[]Line{{ID: "A1-01", ADC: &adc}, {ID: "A1-01", ADC: &adc, Channel: 1}}, `supervise: line id "A1-01" is used twice`},
		{[]Line{{ID: "A1-01"}}, `supervise: line "A1-01" has no ADC`},
		{[]Line{{ID: "A1-01", ADC: &adc, Channel: -1}}, `supervise: line "A1-01" has a negative channel -1`},
		{[]Line{{ID: "A1-01", ADC: &adc, Debounce: -ms}}, `supervise: line "A1-01" has a negative debounce -1ms`},
		{[]Line{{ID: "A1-01", ADC: &adc, Bands: Bands{Short: 0.5, Open: 0.4}}}, `supervise: line "A1-01": bands: short 0.5, normal 0 to 0, active 0 to 0, open 0.4 do not ascend from 0 to 1`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := WatchLines(t.Context(), tt.lines, LineOptions{}, make(chan sensors.Reading))
			require.EqualError(t, err, tt.want)
		})
	}
}
