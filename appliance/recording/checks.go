package recording

import (
	"context"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// overdueChecks raises an alarm for each of this wing's cells whose check
// has passed its due time (it escalates as any alarm does), and resolves
// each such alarm once its check is recorded or the cell's plan ends.
func (r *rules) overdueChecks(ctx context.Context, now time.Time) {
	type resolution struct {
		alarm   wing.Alarm
		outcome string
		check   event.ID
	}
	var due []wing.CheckDue
	var done []resolution
	r.rec.cfg.Read(func(s *wing.State) {
		for _, c := range s.ChecksDue(r.wing.ID, now) {
			if !c.Overdue {
				break // soonest first
			}
			if _, ok := s.ActiveAlarmOf(c.Cell, wing.CheckOverdue); !ok {
				due = append(due, c)
			}
		}
		for _, a := range s.ActiveAlarms() {
			if a.ID.Wing != r.wing.ID || a.PointKind != wing.CheckOverdue || r.resolved[a.ID] {
				continue
			}
			if s.Observations[a.Point].Plan == nil {
				done = append(done, resolution{alarm: a, outcome: wing.OutcomePlanEnded})
			} else if c, ok := s.LastCheck(a.Point); ok && c.Key.Compare(a.RaisedKey) > 0 {
				done = append(done, resolution{alarm: a, outcome: wing.OutcomeCheckRecorded, check: c.ID})
			}
		}
	})
	for _, c := range due {
		r.raiseWith(ctx, c.Cell, wing.CheckOverdue, 2, map[string]string{"due": c.At.UTC().Format(time.RFC3339)})
	}
	for _, d := range done {
		r.resolved[d.alarm.ID] = true
		data := map[string]string{"alarm": d.alarm.ID.String(), "outcome": d.outcome}
		if d.check != (event.ID{}) {
			data["check"] = d.check.String()
		}
		r.submit(ctx, event.Draft{Kind: event.AlarmResolved, Subject: d.alarm.Point, Data: data})
	}
	if len(r.resolved) > 1000 { // forget what has long been folded
		clear(r.resolved)
	}
}
