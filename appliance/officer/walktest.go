package officer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// Walk tests last at most MaxWalkTest, and end by themselves.
const (
	DefaultWalkTest = 30 * time.Minute
	MaxWalkTest     = wing.MaxWalkTest
)

// StartWalkTest starts a walk test run by a supervisor for d
// (DefaultWalkTest when zero) over the chosen points. While it runs, every
// chosen input seen to work is recorded as proven; chosen cell calls are
// proven without raising alarms; a cell call outside the choice, a staff
// alarm and a door anomaly raise as always.
func (p *Panel) StartWalkTest(ctx context.Context, by roster.Actor, d time.Duration, choose wing.WalkTestPoints) error {
	if err := allow(by, roster.Supervisor, "running a walk test"); err != nil {
		return err
	}
	if d == 0 {
		d = DefaultWalkTest
	}
	if d < time.Minute || d > MaxWalkTest {
		return fmt.Errorf("officer: a walk test lasts from 1 minute to %s, not %s: %w", MaxWalkTest, d, ErrBadInput)
	}
	points, err := p.walkTestPoints(choose)
	if err != nil {
		return err
	}
	data := map[string]string{"until": p.cfg.Clock.Now().Add(d).UTC().Format(time.RFC3339)}
	maps.Copy(data, wing.PointsData(points))
	if choose.Landing != "" {
		data["landing"] = choose.Landing
	}
	_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.WalkTestStarted, Subject: p.cfg.Wing.ID, Actor: by.ID, Data: data})
	return err
}

// walkTestPoints returns the inputs a choice names, checked against the
// wing's layout; none for the whole wing.
func (p *Panel) walkTestPoints(choose wing.WalkTestPoints) ([]string, error) {
	w := p.cfg.Wing
	var all []string
	for _, d := range w.Doors {
		if choose.Landing == "" || d.Landing == choose.Landing {
			all = append(all, d.ID)
		}
	}
	for _, a := range w.AlarmPoints {
		if choose.Landing == "" || a.Landing == choose.Landing {
			all = append(all, a.ID)
		}
	}
	switch {
	case choose.Landing != "" && len(choose.Points) > 0:
		return nil, fmt.Errorf("officer: choose a landing or a list of points, not both: %w", ErrBadInput)
	case choose.Landing != "":
		if !slices.Contains(w.Landings, choose.Landing) {
			return nil, fmt.Errorf("officer: wing %s has no landing %q (it has %s): %w", w.ID, choose.Landing, strings.Join(w.Landings, ", "), ErrBadInput)
		}
		return all, nil
	}
	for _, pt := range choose.Points {
		if !slices.Contains(all, pt) {
			return nil, fmt.Errorf("officer: wing %s has no door or alarm point %q: %w", w.ID, pt, ErrBadInput)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(choose.Points))), nil
}

// EndWalkTest ends a running walk test; with none running it does nothing.
func (p *Panel) EndWalkTest(ctx context.Context, by roster.Actor) error {
	if err := allow(by, roster.Supervisor, "ending a walk test"); err != nil {
		return err
	}
	running := false
	p.cfg.Read(func(s *wing.State) {
		w, ok := s.WalkTests[p.cfg.Wing.ID]
		running = ok && w.Running(p.cfg.Clock.Now())
	})
	if !running {
		return nil
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: p.cfg.Wing.ID, Actor: by.ID})
	return err
}
