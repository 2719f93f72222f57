package scenario

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
)

// Play drives t through the scenario on clock, the offsets counted from
// when Play is called. It first checks the scenario's ids against t's
// points, and plays nothing if one is wrong. It returns nil once a
// scenario without repeat has played, the first error of t (with the
// step's line), or ctx's error when ctx ends first.
//
// The changes, and the clock times at which they are made, depend only on
// the scenario and the time Play starts, not on how a fake clock is
// advanced: when the clock jumps past several changes, they are made at
// once, in order. Changes due at the same time are made in the order of
// the lines that cause them (a release due at 00:08 from a press on line 3
// comes before a press on line 4 at 00:08); a storm's inputs change in the
// order the target lists them.
func (s *Scenario) Play(ctx context.Context, t Target, clock clockwork.Clock) error {
	p := pointsOf(t)
	if err := s.Check(p); err != nil {
		return err
	}
	start := clock.Now()
	for round := start; ; round = round.Add(s.repeat) {
		if err := s.playRound(ctx, t, clock, round, p.Inputs); err != nil {
			return err
		}
		if s.repeat == 0 {
			return nil
		}
		if err := wait(ctx, clock, round.Add(s.repeat)); err != nil {
			return err
		}
	}
}

// playRound plays the steps once, from start: it merges the steps'
// changes, each step's in time order, by time and then line.
func (s *Scenario) playRound(ctx context.Context, t Target, clock clockwork.Clock, start time.Time, inputs []string) error {
	q := make(queue, 0, len(s.steps))
	for _, st := range s.steps {
		c := &changes{step: st, n: 1}
		switch {
		case st.verb == verbStorm:
			c.inputs = st.storm
			if st.point == allInputs {
				c.inputs = inputs
			} else if st.point != "" {
				c.inputs = []string{st.point}
			}
			c.n = len(c.inputs) * st.changes
		case st.hold > 0:
			c.n = 2
		}
		if c.n > 0 {
			q = append(q, c)
		}
	}
	heap.Init(&q)
	for len(q) > 0 {
		c := q[0]
		if err := wait(ctx, clock, start.Add(c.at(c.next))); err != nil {
			return err
		}
		if err := c.make(c.next, t); err != nil {
			return fmt.Errorf("%s:%d: %s: %w", s.name, c.step.line, c.step.verb, err)
		}
		if c.next++; c.next < c.n {
			heap.Fix(&q, 0)
		} else {
			heap.Pop(&q)
		}
	}
	return nil
}

// wait waits until the clock reaches due, or ctx ends.
func wait(ctx context.Context, clock clockwork.Clock, due time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := due.Sub(clock.Now())
	if d <= 0 {
		return nil
	}
	timer := clock.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.Chan():
		return nil
	}
}

// changes are the changes one step makes, in time order; next is the
// index of the next to make.
type changes struct {
	step   *step
	inputs []string // a storm's
	n      int
	next   int
}

// at returns when change i is due, as an offset from the start.
func (c *changes) at(i int) time.Duration {
	st := c.step
	switch {
	case st.verb == verbStorm:
		n := len(c.inputs)
		input, round := i%n, i/n
		stagger := time.Duration(int64(st.interval) * int64(input) / int64(n))
		return st.at + time.Duration(round)*st.interval + stagger
	case i == 1:
		return st.at + st.hold
	}
	return st.at
}

// make makes change i on t.
func (c *changes) make(i int, t Target) error {
	st := c.step
	switch st.verb {
	case verbStorm:
		n := len(c.inputs)
		return t.SetInput(c.inputs[i%n], (i/n)%2 == 0)
	case verbBounce:
		return t.Bounce(st.point, st.active, st.bounces)
	case verbFault:
		return t.SetLine(st.point, st.state)
	case verbClimate:
		return t.SetClimate(st.point, st.temp, st.rh)
	case verbSilent, verbAnswer:
		return t.SetSilent(st.point, st.silent)
	case verbRegime:
		return t.(RegimeTarget).SetRegime(st.point)
	case verbCheck:
		return t.(ShiftTarget).Check(st.point, st.outcome)
	case verbCount:
		return t.(ShiftTarget).Count(st.point, st.counted)
	case verbSign:
		return t.(ShiftTarget).SignRoll()
	}
	return t.SetInput(st.point, st.active && i == 0)
}

// queue is a heap of steps' changes, the next due first; at the same time,
// the earlier line's first.
type queue []*changes

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	a, b := q[i].at(q[i].next), q[j].at(q[j].next)
	if a != b {
		return a < b
	}
	return q[i].step.line < q[j].step.line
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*changes)) }
func (q *queue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}
