package sensors

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
)

const ms = time.Millisecond

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// observation is a raw pin level seen at an offset from t0.
type observation struct {
	at    time.Duration
	level gpio.Level
}

// settled is a Reading's state, with times as offsets from t0.
type settled struct {
	at     time.Duration // when Settle or Observe reported it
	since  time.Duration // Reading.At
	active bool
}

var debounceTests = []struct {
	name  string
	point Point
	obs   []observation
	until time.Duration
	want  []settled
}{{
	name:  "the starting level is reported once it has held",
	point: Point{},
	obs:   []observation{{0, gpio.Low}},
	until: 500 * ms,
	want:  []settled{{at: 20 * ms, since: 0, active: false}},
}, {
	name:  "a bounce shorter than the period is ignored",
	point: Point{},
	obs:   []observation{{0, gpio.Low}, {30 * ms, gpio.High}, {35 * ms, gpio.Low}, {40 * ms, gpio.High}, {45 * ms, gpio.Low}},
	until: 500 * ms,
	want:  []settled{{at: 20 * ms, since: 0, active: false}},
}, {
	name:  "a held change is reported once, one period after its edge",
	point: Point{},
	obs:   []observation{{0, gpio.Low}, {30 * ms, gpio.High}, {45 * ms, gpio.High}, {90 * ms, gpio.High}},
	until: 500 * ms,
	want:  []settled{{at: 20 * ms, since: 0, active: false}, {at: 50 * ms, since: 30 * ms, active: true}},
}, {
	name:  "a bouncy change settles one period after its last bounce",
	point: Point{},
	obs:   []observation{{0, gpio.Low}, {30 * ms, gpio.High}, {32 * ms, gpio.Low}, {34 * ms, gpio.High}},
	until: 500 * ms,
	want:  []settled{{at: 20 * ms, since: 0, active: false}, {at: 54 * ms, since: 34 * ms, active: true}},
}, {
	name:  "a bouncing start delays the starting level",
	point: Point{},
	obs:   []observation{{0, gpio.High}, {5 * ms, gpio.Low}, {10 * ms, gpio.High}},
	until: 500 * ms,
	want:  []settled{{at: 30 * ms, since: 10 * ms, active: true}},
}, {
	name:  "active low: a low pin is an active point",
	point: Point{ActiveLow: true},
	obs:   []observation{{0, gpio.High}, {100 * ms, gpio.Low}, {300 * ms, gpio.High}},
	until: 500 * ms,
	want: []settled{
		{at: 20 * ms, since: 0, active: false},
		{at: 120 * ms, since: 100 * ms, active: true},
		{at: 320 * ms, since: 300 * ms, active: false},
	},
}, {
	name:  "the point's own period is used",
	point: Point{Debounce: 50 * ms},
	obs:   []observation{{0, gpio.Low}, {100 * ms, gpio.High}, {140 * ms, gpio.Low}, {200 * ms, gpio.High}},
	until: 500 * ms,
	want:  []settled{{at: 50 * ms, since: 0, active: false}, {at: 250 * ms, since: 200 * ms, active: true}},
}}

// debounce feeds obs to a Debouncer as the watcher does, settling at each
// deadline that comes before the next observation, and returns what
// settled.
func debounce(t testing.TB, p Point, obs []observation, until time.Duration) []settled {
	d := NewDebouncer(p.debounce())
	var got []settled
	record := func(l gpio.Level, since time.Time, at time.Time) {
		got = append(got, settled{at: at.Sub(t0), since: since.Sub(t0), active: p.active(l)})
	}
	settleUntil := func(end time.Time) {
		for {
			deadline, ok := d.Deadline()
			if !ok || deadline.After(end) {
				return
			}
			_, _, early := d.Settle(deadline.Add(-time.Nanosecond))
			require.False(t, early, "settled before its deadline %s", deadline.Sub(t0))
			l, since, ok := d.Settle(deadline)
			require.True(t, ok, "nothing settled at deadline %s", deadline.Sub(t0))
			record(l, since, deadline)
		}
	}
	for _, o := range obs {
		at := t0.Add(o.at)
		settleUntil(at)
		if l, since, ok := d.Observe(o.level, at); ok {
			record(l, since, at)
		}
	}
	settleUntil(t0.Add(until))
	return got
}

func TestDebouncer(t *testing.T) {
	for _, tt := range debounceTests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, debounce(t, tt.point, tt.obs, tt.until))
		})
	}
}

func TestDebouncerLateWake(t *testing.T) {
	// The caller did not wake at 50 ms; the next edge, at 80 ms, must not
	// lose the High that held from 30 ms to 80 ms.
	d := NewDebouncer(20 * ms)
	d.Observe(gpio.Low, t0)
	_, _, ok := d.Settle(t0.Add(20 * ms))
	require.True(t, ok)
	d.Observe(gpio.High, t0.Add(30*ms))

	l, since, ok := d.Observe(gpio.Low, t0.Add(80*ms))
	require.True(t, ok)
	require.Equal(t, gpio.High, l)
	require.Equal(t, t0.Add(30*ms), since)

	deadline, ok := d.Deadline()
	require.True(t, ok)
	require.Equal(t, t0.Add(100*ms), deadline)
}

func TestDebouncerNothingObserved(t *testing.T) {
	d := NewDebouncer(20 * ms)
	_, ok := d.Deadline()
	require.False(t, ok)
	_, _, ok = d.Settle(t0)
	require.False(t, ok)
}

// FuzzDebouncer feeds random observations and wake-ups and checks the
// Debouncer against a direct model of "settled": a level is reported only
// after holding for the period, always with the time its run began, never
// twice in a row, and without fail once it has held.
//
// Each op is two bytes: milliseconds since the previous op, then flags:
// bit 0 the level, bit 1 "wake only" (Settle instead of Observe).
func FuzzDebouncer(f *testing.F) {
	for _, tt := range debounceTests {
		var ops []byte
		var prev time.Duration
		for _, o := range tt.obs {
			ops = append(ops, byte((o.at-prev)/ms), levelBit(o.level))
			prev = o.at
		}
		ops = append(ops, byte((tt.until-prev)/ms), 2)
		f.Add(uint8(tt.point.debounce()/ms), ops)
	}
	f.Fuzz(func(t *testing.T, periodMS uint8, ops []byte) {
		period := time.Duration(periodMS) * ms
		d := NewDebouncer(period)
		var (
			now       = t0
			observed  bool       // the model has seen a level
			raw       gpio.Level // the level last observed
			rawSince  time.Time  // when its run began
			anyReport bool
			lastLevel gpio.Level // the level last reported
		)
		check := func(l gpio.Level, since time.Time, ok bool) {
			held := observed && now.Sub(rawSince) >= period
			if !ok {
				// Liveness: a level that has held must have been reported.
				require.False(t, held && (!anyReport || lastLevel != raw),
					"%s held %s ≥ %s but was not reported", raw, now.Sub(rawSince), period)
				return
			}
			require.True(t, held, "reported %s after it held only %s", l, now.Sub(rawSince))
			require.Equal(t, raw, l, "reported a level that is not the one held")
			require.Equal(t, rawSince, since, "reported the wrong start of the run")
			require.False(t, anyReport && lastLevel == l, "reported %s twice in a row", l)
			anyReport, lastLevel = true, l
		}
		for i := 0; i+1 < len(ops); i += 2 {
			now = now.Add(time.Duration(ops[i]) * ms)
			level := gpio.Level(ops[i+1]&1 == 1)
			if ops[i+1]&2 != 0 {
				check(d.Settle(now))
			} else {
				check(d.Observe(level, now))
				if !observed || level != raw {
					observed, raw, rawSince = true, level, now
				}
			}
			deadline, ok := d.Deadline()
			pending := observed && (!anyReport || lastLevel != raw)
			require.Equal(t, pending, ok, "Deadline's ok")
			if ok {
				require.Equal(t, rawSince.Add(period), deadline)
			}
		}
	})
}

func levelBit(l gpio.Level) byte {
	if l {
		return 1
	}
	return 0
}
