package officer

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// maxCount bounds a landing's count.
const maxCount = 9999

// CountLanding records an officer's count of a landing and returns it,
// reconciled with the landing's expected roll (wing.ErrNoExpectedRoll
// while none is set) and its cell doors: a door open now, or moved within
// wing.CountWindow, is flagged. A count that differs from the expected
// roll raises a priority-1 roll-discrepancy alarm on the landing, unless
// one is active already.
func (p *Panel) CountLanding(ctx context.Context, by roster.Actor, landing string, counted int) (wing.Count, error) {
	if err := allow(by, roster.Officer, "counting a landing"); err != nil {
		return wing.Count{}, err
	}
	cells := p.cfg.Wing.Cells(landing)
	if landing == "" || len(cells) == 0 {
		return wing.Count{}, fmt.Errorf("officer: wing %s has no landing %q with cells (it has %s): %w", p.cfg.Wing.ID, landing, strings.Join(p.cfg.Wing.Landings, ", "), ErrBadInput)
	}
	if counted < 0 || counted > maxCount {
		return wing.Count{}, fmt.Errorf("officer: a count from 0 to %d, not %d: %w", maxCount, counted, ErrBadInput)
	}
	ids := make([]string, len(cells))
	for i, c := range cells {
		ids[i] = c.ID
	}
	now := p.cfg.Clock.Now()
	point := wing.LandingID(p.cfg.Wing.ID, landing)
	var (
		expected int
		unset    []string
		open     []string
		alarmed  bool
	)
	p.cfg.Read(func(s *wing.State) {
		expected, unset = s.ExpectedOn(ids)
		for _, id := range ids {
			if d, ok := s.Doors[id]; ok && (d.Open || now.Sub(d.Since) < wing.CountWindow) {
				open = append(open, id)
			}
		}
		_, alarmed = s.ActiveAlarmOf(point, wing.RollDiscrepancy)
	})
	if len(unset) == len(ids) {
		return wing.Count{}, fmt.Errorf("officer: landing %s: %w: a supervisor sets it first", landing, wing.ErrNoExpectedRoll)
	}
	data := map[string]string{"landing": landing, "counted": strconv.Itoa(counted), "expected": strconv.Itoa(expected)}
	if d := counted - expected; d != 0 {
		data["discrepancy"] = strconv.Itoa(d)
	}
	if len(open) > 0 {
		data["open_doors"], data["open_cells"] = strconv.Itoa(len(open)), fitList(open, event.MaxNote)
	}
	rec, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.RollCounted, Subject: point, Actor: by.ID, Data: data})
	if err != nil {
		return wing.Count{}, err
	}
	count := wing.CountFromEvent(rec.Event)
	if !count.Reconciled() && !alarmed {
		_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.AlarmRaised, Subject: point, Actor: by.ID, Data: map[string]string{
			"point_kind": wing.RollDiscrepancy, "priority": "1", "count": count.ID.String(), "landing": landing,
			"counted": strconv.Itoa(counted), "expected": strconv.Itoa(expected)}})
		if err != nil {
			return count, fmt.Errorf("officer: the count is recorded but its alarm is not: raise the alarm by hand: %w", err)
		}
	}
	return count, nil
}

// fitList joins ids with commas, as many as fit in n bytes.
func fitList(ids []string, n int) string {
	var b strings.Builder
	for _, id := range ids {
		if b.Len()+len(id)+1 > n {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	return b.String()
}

// SignRoll records that the officer in charge (a supervisor) signs the
// wing's roll as correct, and returns it. Every landing with an expected
// roll must have been counted within wing.RollWindow, its latest count
// agreeing with it (wing.ErrRollNotReconciled, naming the landings).
func (p *Panel) SignRoll(ctx context.Context, by roster.Actor) (wing.RollSign, error) {
	if err := allow(by, roster.Supervisor, "signing the roll"); err != nil {
		return wing.RollSign{}, err
	}
	now := p.cfg.Clock.Now()
	var problems, counts []string
	counted, expected := 0, 0
	p.cfg.Read(func(s *wing.State) {
		for _, l := range p.cfg.Wing.Landings {
			cells := p.cfg.Wing.Cells(l)
			ids := make([]string, len(cells))
			for i, c := range cells {
				ids[i] = c.ID
			}
			want, unset := s.ExpectedOn(ids)
			if len(unset) == len(ids) {
				continue // no roll on this landing
			}
			c, ok := s.LastCount(p.cfg.Wing.ID, l)
			switch {
			case !ok || now.Sub(c.At) > wing.RollWindow:
				problems = append(problems, fmt.Sprintf("landing %s is not counted within %s", l, wing.RollWindow))
			case c.Expected != want:
				problems = append(problems, fmt.Sprintf("landing %s's expected roll changed since its count: count it again", l))
			case !c.Reconciled():
				problems = append(problems, fmt.Sprintf("landing %s counted %d of %d", l, c.Counted, c.Expected))
			default:
				counts = append(counts, c.ID.String())
				counted += c.Counted
				expected += c.Expected
			}
		}
	})
	if len(problems) > 0 {
		return wing.RollSign{}, fmt.Errorf("officer: %w: %s", wing.ErrRollNotReconciled, strings.Join(problems, "; "))
	}
	if len(counts) == 0 {
		return wing.RollSign{}, fmt.Errorf("officer: wing %s: %w: a supervisor sets it first", p.cfg.Wing.ID, wing.ErrNoExpectedRoll)
	}
	rec, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.RollSigned, Subject: p.cfg.Wing.ID, Actor: by.ID, Data: map[string]string{
		"counted": strconv.Itoa(counted), "expected": strconv.Itoa(expected), "counts": strings.Join(counts, ",")}})
	if err != nil {
		return wing.RollSign{}, err
	}
	sign := wing.RollSign{ID: rec.Event.ID(), Wing: p.cfg.Wing.ID, By: by.ID, At: rec.Event.Wall, Counted: counted, Expected: expected, Key: rec.Event.Key()}
	for _, c := range counts {
		id, _ := event.ParseID(c)
		sign.Counts = append(sign.Counts, id)
	}
	return sign, nil
}
