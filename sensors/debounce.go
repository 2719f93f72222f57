package sensors

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Debouncer turns a pin's raw observations into settled levels. A new level
// settles once it has held for the period; a bounce shorter than the period
// produces nothing. The first level to hold for the period always settles,
// so the caller learns the starting state.
//
// A Debouncer is a pure state machine: it never reads a clock or a pin. The
// caller feeds it observations with Observe, calls Settle at the time
// Deadline names (or whenever it wakes), and must never feed it times that
// go backwards. It is not safe for concurrent use.
type Debouncer struct {
	period   time.Duration
	observed bool       // at least one observation
	raw      gpio.Level // the last level observed
	since    time.Time  // when raw was first observed, in its current run
	settled  bool       // a level has settled
	level    gpio.Level // the settled level
}

// NewDebouncer returns a Debouncer with the given settle period.
func NewDebouncer(period time.Duration) *Debouncer {
	return &Debouncer{period: period}
}

// Observe records that the pin read l at time at. If the level seen before
// had by then held for the period, it settles first: Observe returns it and
// when it began, with ok true. This keeps a change that held long enough
// even when the caller woke late and a newer edge came first.
func (d *Debouncer) Observe(l gpio.Level, at time.Time) (settled gpio.Level, since time.Time, ok bool) {
	settled, since, ok = d.Settle(at)
	if !d.observed || l != d.raw {
		d.observed, d.raw, d.since = true, l, at
	}
	return settled, since, ok
}

// Settle reports whether, as of now, a new level has held for the period.
// If so it returns the level and when it began, once; later calls return
// ok false until another level settles.
func (d *Debouncer) Settle(now time.Time) (settled gpio.Level, since time.Time, ok bool) {
	deadline, pending := d.Deadline()
	if !pending || now.Before(deadline) {
		return false, time.Time{}, false
	}
	d.settled, d.level = true, d.raw
	return d.raw, d.since, true
}

// Deadline returns when the level last observed will settle if it holds,
// with ok false when no new level is pending.
func (d *Debouncer) Deadline() (deadline time.Time, ok bool) {
	if !d.observed || (d.settled && d.raw == d.level) {
		return time.Time{}, false
	}
	return d.since.Add(d.period), true
}
