package simulate

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Run drives plausible activity on the clock until ctx is done:
//
//   - each landing is unlocked now and then: most of its cell doors open
//     over a few seconds, stay open for minutes, and close again; now and
//     then a door is left open for a quarter of an hour or so;
//   - gates and other doors that are not cells open briefly every few
//     seconds somewhere on the wing, and are rarely left open;
//   - a cell call button is pressed briefly every few minutes;
//   - a staff alarm button is pressed rarely, about once an hour.
//
// Contacts bounce a little on each change. With a fake clock, the changes
// each input goes through, and when they are due, depend only on
// Options.Seed and the clock's starting time, not on how the clock is
// advanced. Call Run once; Set can still be used meanwhile.
func (s *Sim) Run(ctx context.Context) {
	a := newActivity(s, s.clock.Now())
	for {
		now := s.clock.Now()
		a.runDue(now)
		next, ok := a.next()
		if !ok {
			<-ctx.Done()
			return
		}
		t := s.clock.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.Chan():
		}
	}
}

// activity is Run's schedule of what happens next on the wing.
type activity struct {
	sim      *Sim
	rand     *rand.Rand
	agenda   agenda
	busy     map[string]bool // pins with a change scheduled, left alone by new activity
	gates    []Input         // doors that are not cells
	calls    []Input         // cell call buttons
	alarms   []Input         // staff alarm buttons
	landings [][]Input       // cell doors, by landing in the order first seen
}

func newActivity(s *Sim, start time.Time) *activity {
	a := &activity{
		sim:  s,
		rand: rand.New(rand.NewPCG(uint64(s.seed), 0x3c6ef372fe94f82b)),
		busy: make(map[string]bool),
	}
	landing := make(map[string]int) // landing name → index in a.landings
	for _, in := range s.inputs {
		switch {
		case in.Kind == DoorContact && in.Cell:
			i, ok := landing[in.Landing]
			if !ok {
				i = len(a.landings)
				landing[in.Landing] = i
				a.landings = append(a.landings, nil)
			}
			a.landings[i] = append(a.landings[i], in)
		case in.Kind == DoorContact:
			a.gates = append(a.gates, in)
		case in.Cell:
			a.calls = append(a.calls, in)
		default:
			a.alarms = append(a.alarms, in)
		}
	}
	for _, cells := range a.landings {
		a.unlock(cells, start.Add(a.between(10*time.Second, 3*time.Minute)))
	}
	a.every(start, a.gates, 8*time.Second, func(at time.Time, in Input) {
		if a.chance(0.03) {
			a.hold(in, at, a.between(2*time.Minute, 6*time.Minute))
		} else {
			a.hold(in, at, a.between(4*time.Second, 20*time.Second))
		}
	})
	a.every(start, a.calls, 3*time.Minute, func(at time.Time, in Input) {
		a.hold(in, at, a.between(500*time.Millisecond, 3*time.Second))
	})
	a.every(start, a.alarms, time.Hour, func(at time.Time, in Input) {
		a.hold(in, at, a.between(time.Second, 5*time.Second))
	})
	return a
}

// unlock opens most cells of a landing at a time over 20 s, closes each a
// few minutes later, and schedules the next unlock.
func (a *activity) unlock(cells []Input, at time.Time) {
	a.agenda.add(at, func() {
		for _, in := range cells {
			if a.busy[in.Pin] || !a.chance(0.8) {
				continue
			}
			open := at.Add(a.between(0, 20*time.Second))
			if a.chance(0.05) {
				a.hold(in, open, a.between(10*time.Minute, 20*time.Minute))
			} else {
				a.hold(in, open, a.between(time.Minute, 4*time.Minute))
			}
		}
		a.unlock(cells, at.Add(5*time.Minute+a.around(5*time.Minute)))
	})
}

// every picks one of inputs that is not busy and calls fn with it, again
// and again, on average mean apart.
func (a *activity) every(from time.Time, inputs []Input, mean time.Duration, fn func(at time.Time, in Input)) {
	if len(inputs) == 0 {
		return
	}
	at := from.Add(a.around(mean))
	a.agenda.add(at, func() {
		if in := inputs[a.rand.IntN(len(inputs))]; !a.busy[in.Pin] {
			fn(at, in)
		}
		a.every(at, inputs, mean, fn)
	})
}

// hold makes in active at from and inactive again d later.
func (a *activity) hold(in Input, from time.Time, d time.Duration) {
	a.busy[in.Pin] = true
	a.agenda.add(from, func() { a.set(in, true) })
	a.agenda.add(from.Add(d), func() {
		a.set(in, false)
		delete(a.busy, in.Pin)
	})
}

// set changes in's state with up to two bounces.
func (a *activity) set(in Input, active bool) {
	a.sim.pins[in.Pin].set(active, a.rand.IntN(3))
}

// runDue runs, in order, the steps due by now.
func (a *activity) runDue(now time.Time) {
	for len(a.agenda) > 0 && !a.agenda[0].at.After(now) {
		s := a.agenda[0]
		a.agenda = a.agenda[1:]
		s.do()
	}
}

// next returns when the next step is due.
func (a *activity) next() (time.Time, bool) {
	if len(a.agenda) == 0 {
		return time.Time{}, false
	}
	return a.agenda[0].at, true
}

func (a *activity) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(a.rand.Int64N(int64(hi-lo)))
}

// around returns an exponentially distributed duration: the gap between
// events that happen independently, mean apart on average.
func (a *activity) around(mean time.Duration) time.Duration {
	return time.Duration(a.rand.ExpFloat64() * float64(mean))
}

func (a *activity) chance(p float64) bool {
	return a.rand.Float64() < p
}

// step is something scheduled to happen at a time.
type step struct {
	at time.Time
	do func()
}

// agenda is the steps to come in the order they are due; steps due at the
// same time are in the order they were added.
type agenda []step

func (g *agenda) add(at time.Time, do func()) {
	i := sort.Search(len(*g), func(i int) bool { return (*g)[i].at.After(at) })
	*g = slices.Insert(*g, i, step{at: at, do: do})
}
