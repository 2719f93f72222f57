// Package observation decides when a cell's next check is due, from its
// observation plan, and whether a check could have been done as it was
// recorded. It is pure: time, the regime and randomness are given to it.
//
// A due time is drawn at random within the window the plan allows, never
// past its maximum gap and never on a rhythm a prisoner could learn: each
// interval is drawn afresh, and never close to the one before. The panel
// records the due time it drew in the check's event (next_due), so every
// wing, and the same wing after a restart, agrees on it.
package observation

import (
	"math/rand/v2"
	"time"

	"wingnode/appliance/wing"
)

// Draw is what the next due time is drawn from.
type Draw struct {
	Plan wing.Plan
	// From is when the cell was last observed: when the officer stood at
	// the cell at its latest check, or when the plan was set.
	From time.Time
	// Previous is the interval drawn at the check before (its due time
	// less its From); zero when there was none.
	Previous time.Duration
	// NotBefore, when set, is the soonest the check may be due (now, for
	// a check recorded after the officer stood at the cell); the window
	// opens no sooner, unless that is past its end.
	NotBefore time.Time
	// Conversations is how many conversations the cell has had today.
	Conversations int
	// Regime returns the wing's regime at a time (wing.State.RegimeAt
	// with the wing's schedule).
	Regime func(time.Time) wing.Regime
}

// The shape of the window: a check is due no sooner than earliest of the
// longest interval the plan allows, and an interval differs from the one
// before by at least apart of the window: enough that no interval repeats
// the one before, too little to tell anything of the next from the last
// (a wider band would: after a long interval, a short one).
const (
	earliest = 4  // the window opens after a quarter of the interval
	apart    = 30 // a thirtieth of the window
	probe    = time.Minute
)

// interval is the longest interval between observations in regime.
func (d Draw) interval(r wing.Regime) time.Duration {
	perHour := d.Plan.DayPerHour
	if r == wing.Night {
		perHour = d.Plan.NightPerHour
	}
	if perHour <= 0 {
		return d.Plan.MaxGap
	}
	return min(d.Plan.MaxGap, time.Duration(float64(time.Hour)/perHour))
}

// Window returns the earliest and latest times the next check may be due.
// The latest is never past From plus the plan's maximum gap; when the
// regime changes before it to one with more frequent observations (night
// falls), it is brought forward to that regime's interval after the
// change. It opens a quarter of the interval after From, or at NotBefore.
func (d Draw) Window() (lo, hi time.Time) {
	hi = d.From.Add(d.interval(d.Regime(d.From)))
	prev := d.Regime(d.From)
	for t := d.From.Add(probe); t.Before(hi); t = t.Add(probe) {
		if r := d.Regime(t); r != prev {
			prev = r
			if end := t.Add(d.interval(r)); end.Before(hi) {
				hi = end
			}
		}
	}
	lo = d.From.Add(hi.Sub(d.From) / earliest)
	if d.NotBefore.After(lo) {
		lo = clamp(d.NotBefore, lo, hi)
	}
	return lo, hi
}

// Next draws the next check's due time, to the second, within Window and
// not next to the previous interval, and whether it is to be a conversation:
// by day, while the day's conversations are not all had, with a chance
// that grows as the day's remaining checks run short.
func (d Draw) Next(rnd *rand.Rand) wing.Due {
	lo, hi := d.Window()
	span := hi.Sub(lo)
	gap := span / apart
	// The intervals allowed: [lo, hi] less (previous ± gap).
	a0, a1 := lo, hi
	b0, b1 := hi, hi
	if d.Previous > 0 {
		p := d.From.Add(d.Previous)
		a1 = clamp(p.Add(-gap), lo, hi)
		b0 = clamp(p.Add(gap), lo, hi)
	}
	la, lb := a1.Sub(a0), b1.Sub(b0)
	var at time.Time
	switch {
	case la+lb <= 0:
		at = lo.Add(time.Duration(rnd.Int64N(int64(span) + 1)))
	default:
		x := time.Duration(rnd.Int64N(int64(la+lb) + 1))
		if x <= la {
			at = a0.Add(x)
		} else {
			at = b0.Add(x - la)
		}
	}
	if t := at.Truncate(time.Second); !t.Before(lo) && t.After(d.From) {
		at = t // whole seconds, as the record keeps them
	} else if t = t.Add(time.Second); !t.After(hi) {
		at = t
	}
	return wing.Due{At: at, Conversation: d.conversation(at, rnd)}
}

func clamp(t, lo, hi time.Time) time.Time {
	switch {
	case t.Before(lo):
		return lo
	case t.After(hi):
		return hi
	}
	return t
}

// conversation decides whether the check due at at is to be a
// conversation.
func (d Draw) conversation(at time.Time, rnd *rand.Rand) bool {
	left := d.Plan.ConversationsPerDay - d.Conversations
	if left <= 0 || d.Regime(at) == wing.Night {
		return false
	}
	// The day's checks still to come, at the day's mean interval.
	y, m, day := at.Date()
	midnight := time.Date(y, m, day+1, 0, 0, 0, 0, at.Location())
	var daytime time.Duration
	for t := at; t.Before(midnight); t = t.Add(probe) {
		if d.Regime(t) != wing.Night {
			daytime += probe
		}
	}
	mean := d.interval(wing.Unlock) * (earliest + 1) / (2 * earliest)
	checks := 1 + float64(daytime)/float64(mean)
	return rnd.Float64() < float64(left)/checks
}
