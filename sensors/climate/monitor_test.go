package climate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"
)

// fakeDevice returns, from each Sense, the result a test gives it.
type fakeDevice struct {
	t       *testing.T
	results chan result
}

type result struct {
	r   Reading
	err error
}

func newFakeDevice(t *testing.T) *fakeDevice {
	return &fakeDevice{t: t, results: make(chan result)}
}

func (d *fakeDevice) Sense() (Reading, error) {
	select {
	case res := <-d.results:
		return res.r, res.err
	case <-d.t.Context().Done():
		return Reading{}, errors.New("test over")
	}
}

// answer waits for the Monitor to call Sense and makes it return r, err.
func (d *fakeDevice) answer(r Reading, err error) {
	d.t.Helper()
	select {
	case d.results <- result{r, err}:
	case <-time.After(2 * time.Second):
		d.t.Fatal("the Monitor did not read the sensor")
	}
}

// monitorRun is a Monitor running on a fake clock with an unbuffered
// output, so each event is taken by the test before the next poll.
type monitorRun struct {
	t     *testing.T
	clock *clockwork.FakeClock
	out   chan Event
	start time.Time
	polls int // polls started, the first one at start
}

func runMonitor(t *testing.T, m *Monitor) *monitorRun {
	t.Helper()
	clock := clockwork.NewFakeClock()
	m.Clock = clock
	r := &monitorRun{t: t, clock: clock, out: make(chan Event), start: clock.Now()}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, r.out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(2 * time.Second):
			t.Error("Run did not return")
		}
	})
	return r
}

// poll lets the next poll start, advancing the clock by interval unless
// it is the first, and returns when it is due.
func (r *monitorRun) poll(interval time.Duration) time.Time {
	if r.polls > 0 {
		r.clock.Advance(interval)
	}
	r.polls++
	return r.start.Add(time.Duration(r.polls-1) * interval)
}

// expect receives len(want) events and checks them. As the output is
// unbuffered and the next poll's first event is checked by the next call,
// a poll that sends more than expected fails the test there.
func (r *monitorRun) expect(want ...Event) {
	r.t.Helper()
	for i, w := range want {
		select {
		case got := <-r.out:
			require.Equal(r.t, w, got, "event %d", i)
		case <-time.After(2 * time.Second):
			r.t.Fatalf("event %d (%#v) not sent", i, w)
		}
	}
}

func reading(c float64, rh physic.RelativeHumidity) Reading {
	return Reading{Temperature: celsius(c), Humidity: rh}
}

func TestMonitorSamplesEachSensorEveryInterval(t *testing.T) {
	a, b := newFakeDevice(t), newFakeDevice(t)
	r := runMonitor(t, &Monitor{Sensors: []Sensor{{ID: "landing", Device: a}, {ID: "office", Device: b}}})
	for i := range 3 {
		at := r.poll(DefaultInterval)
		ra, rb := reading(20+float64(i), 40*physic.PercentRH), reading(22, 45*physic.PercentRH)
		a.answer(ra, nil)
		r.expect(Sample{Sensor: "landing", Reading: ra, At: at})
		b.answer(rb, nil)
		r.expect(Sample{Sensor: "office", Reading: rb, At: at})
	}
}

func TestMonitorWaitsTheInterval(t *testing.T) {
	dev := newFakeDevice(t)
	r := runMonitor(t, &Monitor{Sensors: []Sensor{{ID: "landing", Device: dev}}, Interval: time.Minute})
	ok := reading(20, 40*physic.PercentRH)
	dev.answer(ok, nil)
	r.expect(Sample{Sensor: "landing", Reading: ok, At: r.start})
	r.clock.Advance(59 * time.Second)
	select {
	case dev.results <- result{r: ok}:
		t.Fatal("polled before the interval")
	case <-time.After(20 * time.Millisecond):
	}
	r.clock.Advance(time.Second)
	dev.answer(ok, nil)
	r.expect(Sample{Sensor: "landing", Reading: ok, At: r.start.Add(time.Minute)})
}

// step is one poll of a single sensor: what it reads, and which
// conditions (Sensor and At filled in by the test) that should raise.
type step struct {
	r    Reading
	err  error
	want []Condition
}

// runSteps polls dev once per step and checks the events.
func runSteps(t *testing.T, r *monitorRun, dev *fakeDevice, interval time.Duration, steps []step) {
	t.Helper()
	for i, s := range steps {
		at := r.poll(interval)
		dev.answer(s.r, s.err)
		var want []Event
		if s.err == nil {
			want = append(want, Sample{Sensor: "cell-1", Reading: s.r, At: at})
		}
		for _, c := range s.want {
			c.Sensor, c.At = "cell-1", at
			want = append(want, c)
		}
		t.Logf("step %d: %s %s %v", i, s.r.Temperature, s.r.Humidity, s.err)
		r.expect(want...)
	}
}

func TestMonitorTooHotWithHysteresis(t *testing.T) {
	dev := newFakeDevice(t)
	r := runMonitor(t, &Monitor{Sensors: []Sensor{{ID: "cell-1", Device: dev, Limits: Limits{HotAbove: celsius(30)}}}})
	rh := 50 * physic.PercentRH
	runSteps(t, r, dev, DefaultInterval, []step{
		{r: reading(30, rh)}, // at the limit is not above it
		{r: reading(30.1, rh), want: []Condition{{Kind: ConditionTooHot, Active: true, Value: "30.100°C"}}},
		{r: reading(29.9, rh)}, // hovering: within the hysteresis
		{r: reading(30.2, rh)},
		{r: reading(29.6, rh)},
		{r: reading(29.5, rh), want: []Condition{{Kind: ConditionTooHot, Active: false, Value: "29.500°C"}}},
		{r: reading(29.9, rh)},
		{r: reading(31, rh), want: []Condition{{Kind: ConditionTooHot, Active: true, Value: "31°C"}}},
		{r: reading(31, rh)},
	})
}

func TestMonitorTooColdAndTooHumid(t *testing.T) {
	dev := newFakeDevice(t)
	r := runMonitor(t, &Monitor{
		Sensors: []Sensor{{ID: "cell-1", Device: dev, Limits: Limits{
			HotAbove: celsius(30), ColdBelow: celsius(15), HumidAbove: 70 * physic.PercentRH,
		}}},
		Interval:              time.Second,
		TemperatureHysteresis: 1 * physic.Celsius,
		HumidityHysteresis:    5 * physic.PercentRH,
	})
	runSteps(t, r, dev, time.Second, []step{
		// Both at once, in the documented order.
		{r: reading(14, 71*physic.PercentRH), want: []Condition{
			{Kind: ConditionTooCold, Active: true, Value: "14°C"},
			{Kind: ConditionTooHumid, Active: true, Value: "71%rH"},
		}},
		{r: reading(15.5, 66*physic.PercentRH)},
		{r: reading(16, 65*physic.PercentRH), want: []Condition{
			{Kind: ConditionTooCold, Active: false, Value: "16°C"},
			{Kind: ConditionTooHumid, Active: false, Value: "65%rH"},
		}},
		{r: reading(15, 70*physic.PercentRH)}, // at the limits is not beyond them
	})
}

func TestMonitorSilentAfterFailedReads(t *testing.T) {
	dev := newFakeDevice(t)
	r := runMonitor(t, &Monitor{Sensors: []Sensor{{ID: "cell-1", Device: dev, Limits: Limits{HotAbove: celsius(30)}}}})
	gone := errors.New("climate: SHT3x at 0x44 on /dev/i2c-1: start measurement: remote I/O error")
	rh := 50 * physic.PercentRH
	runSteps(t, r, dev, DefaultInterval, []step{
		{r: reading(35, rh), want: []Condition{{Kind: ConditionTooHot, Active: true, Value: "35°C"}}},
		{err: gone},
		{err: gone},
		{r: reading(35, rh)}, // a good read resets the count
		{err: gone},
		{err: gone},
		{err: gone, want: []Condition{{Kind: ConditionSilent, Active: true, Value: gone.Error()}}},
		{err: gone},
		// Too-hot stayed active while silent, and clears only now.
		{r: reading(20, rh), want: []Condition{
			{Kind: ConditionSilent, Active: false},
			{Kind: ConditionTooHot, Active: false, Value: "20°C"},
		}},
		{r: reading(20, rh)},
	})
}

func TestMonitorSilentAfterSetting(t *testing.T) {
	dev := newFakeDevice(t)
	r := runMonitor(t, &Monitor{Sensors: []Sensor{{ID: "cell-1", Device: dev}}, SilentAfter: 1})
	gone := errors.New("remote I/O error")
	runSteps(t, r, dev, DefaultInterval, []step{
		{err: gone, want: []Condition{{Kind: ConditionSilent, Active: true, Value: gone.Error()}}},
		{r: reading(20, 0), want: []Condition{{Kind: ConditionSilent, Active: false}}},
	})
}

func TestMonitorStopsWhileOutputIsNotRead(t *testing.T) {
	dev := newFakeDevice(t)
	m := &Monitor{Sensors: []Sensor{{ID: "cell-1", Device: dev}}, Clock: clockwork.NewFakeClock()}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, make(chan Event)) }()
	dev.answer(reading(20, 0), nil) // its Sample is never taken
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
}

func TestMonitorRejectsBadConfiguration(t *testing.T) {
	dev := newFakeDevice(t)
	for _, tc := range []struct {
		m    Monitor
		want string
	}{
		{Monitor{Sensors: []Sensor{{Device: dev}}}, "sensor 0 has no id"},
		{Monitor{Sensors: []Sensor{{ID: "a", Device: dev}, {ID: "a", Device: dev}}}, `"a" is used twice`},
		{Monitor{Sensors: []Sensor{{ID: "a"}}}, `"a" has no device`},
		{Monitor{Sensors: []Sensor{{ID: "a", Device: dev, Limits: Limits{HotAbove: 30 * physic.Celsius}}}}, "limits are absolute"},
		{Monitor{Sensors: []Sensor{{ID: "a", Device: dev, Limits: Limits{ColdBelow: 5 * physic.Celsius}}}}, "limits are absolute"},
		{Monitor{Sensors: []Sensor{{ID: "a", Device: dev, Limits: Limits{HotAbove: celsius(15), ColdBelow: celsius(15)}}}}, "is not above cold limit"},
		{Monitor{Sensors: []Sensor{{ID: "a", Device: dev, Limits: Limits{HumidAbove: 101 * physic.PercentRH}}}}, "outside 0–100%"},
		{Monitor{Interval: -time.Second}, "negative interval"},
		{Monitor{SilentAfter: -1}, "negative SilentAfter"},
		{Monitor{TemperatureHysteresis: -1}, "negative temperature hysteresis"},
		{Monitor{HumidityHysteresis: -1}, "negative humidity hysteresis"},
	} {
		err := tc.m.Run(t.Context(), nil)
		require.ErrorContains(t, err, tc.want)
	}
}
