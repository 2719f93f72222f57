package shift

import (
	"context"
	"slices"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Step is one step of an alarm's life: who, when, and how long after the
// raise.
type Step struct {
	By    string        `json:"by"`
	At    time.Time     `json:"at"`
	After time.Duration `json:"after"`
	How   string        `json:"how,omitempty"`   // attended: reset (at the cell door) or panel
	Where string        `json:"where,omitempty"` // attended: the cell door, or the panel
}

// AlarmItem is an alarm with its response times.
type AlarmItem struct {
	ID           event.ID  `json:"id"`
	Point        string    `json:"point"`
	PointKind    string    `json:"point_kind"`
	Priority     int       `json:"priority"`
	Raised       time.Time `json:"raised"`
	Acknowledged *Step     `json:"acknowledged,omitempty"`
	Attended     *Step     `json:"attended,omitempty"`
	Resolved     *Step     `json:"resolved,omitempty"`
	Outcome      string    `json:"outcome,omitempty"`
	Note         string    `json:"note,omitempty"`
	// Remote is a supervisor's close without attending at the source
	// (an exception), with its Reason.
	Remote      bool     `json:"remote,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Escalations []string `json:"escalations,omitempty"` // the reasons it escalated for
}

func alarmItem(a wing.Alarm) AlarmItem {
	step := func(x wing.Action) *Step {
		return &Step{By: x.By, At: x.At.UTC(), After: x.At.Sub(a.RaisedAt)}
	}
	it := AlarmItem{ID: a.ID, Point: a.Point, PointKind: a.PointKind, Priority: a.Priority, Raised: a.RaisedAt.UTC()}
	if a.Acknowledged != nil {
		it.Acknowledged = step(*a.Acknowledged)
	}
	if a.Attended != nil {
		it.Attended = step(a.Attended.Action)
		it.Attended.How, it.Attended.Where = a.Attended.How, a.Attended.Where
	}
	if r := a.Resolved; r != nil {
		it.Resolved = step(r.Action)
		it.Outcome, it.Note, it.Remote, it.Reason = r.Outcome, r.Note, r.Remote, r.Reason
	}
	for _, e := range a.Escalations {
		it.Escalations = append(it.Escalations, e.Reason)
	}
	return it
}

// Response is how long alarms waited for one step: of those that had it,
// the median and the worst wait; those still waiting at the end, and the
// longest of their waits, which the worst includes.
type Response struct {
	Done    int           `json:"done"`
	Median  time.Duration `json:"median"`
	Worst   time.Duration `json:"worst"`
	Waiting int           `json:"waiting"`
	// WorstWaiting: the worst wait is an alarm still waiting.
	WorstWaiting bool `json:"worst_waiting,omitempty"`
}

func response(done, waiting []time.Duration) Response {
	r := Response{Done: len(done), Waiting: len(waiting)}
	if len(done) > 0 {
		s := slices.Sorted(slices.Values(done))
		r.Median, r.Worst = s[len(s)/2], s[len(s)-1]
		if len(s)%2 == 0 {
			r.Median = (s[len(s)/2-1] + s[len(s)/2]) / 2
		}
	}
	for _, w := range waiting {
		if w > r.Worst {
			r.Worst, r.WorstWaiting = w, true
		}
	}
	return r
}

// AttendWithin is the time within which a cell call should be attended
// at its door, for the figures.
const AttendWithin = 5 * time.Minute

// Figures are a wing's response figures for a shift: of the alarms
// raised in it, raise to acknowledge and raise to attend, the share of
// cell calls attended at the door within AttendWithin, remote closes, and
// the checks that went overdue or were recorded late.
type Figures struct {
	Wing        string    `json:"wing"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Alarms      int       `json:"alarms"`
	Acknowledge Response  `json:"acknowledge"`
	Attend      Response  `json:"attend"`
	CellCalls   int       `json:"cell_calls"`
	// CellCallsInTime is how many of the cell calls were attended at the
	// door within AttendWithin, and InTimeShare that as a share (0 to 1;
	// 1 when there were none).
	CellCallsInTime int     `json:"cell_calls_in_time"`
	InTimeShare     float64 `json:"in_time_share"`
	RemoteCloses    int     `json:"remote_closes"`
	OverdueChecks   int     `json:"overdue_checks"`
	LateChecks      int     `json:"late_checks"`
}

// Figures returns the response figures of wingID (this wing or another
// of the site) for the shift from..to, as they stand now.
func (r *Room) Figures(ctx context.Context, wingID string, from, to time.Time) (Figures, error) {
	from, to, end, err := r.checkRange(from, to)
	if err != nil {
		return Figures{}, err
	}
	evs, err := r.events(ctx, event.Query{Wing: wingID, From: from, To: to,
		Kinds: []event.Kind{event.AlarmRaised, event.ObservationChecked}})
	if err != nil {
		return Figures{}, err
	}
	var items []AlarmItem
	var checks []wing.Check
	r.cfg.Read(func(s *wing.State) {
		for _, e := range evs {
			switch e.Kind {
			case event.AlarmRaised:
				items = append(items, alarmItem(s.Alarms[e.ID()]))
			case event.ObservationChecked:
				if _, gone := s.Struck[e.ID()]; !gone {
					checks = append(checks, wing.CheckFromEvent(e))
				}
			}
		}
	})
	return figures(wingID, from, to, end, items, checks), nil
}

// figures works the figures out of a shift's alarms and checks, as they
// stood at end: a step after it has not happened yet.
func figures(wingID string, from, to, end time.Time, alarms []AlarmItem, checks []wing.Check) Figures {
	f := Figures{Wing: wingID, From: from, To: to, InTimeShare: 1}
	var acked, ackWait, attended, attendWait []time.Duration
	for _, a := range alarms {
		if a.PointKind == wing.CheckOverdue {
			f.OverdueChecks++
			continue // an overdue check is counted as such, not as a response to an alarm
		}
		f.Alarms++
		open := func(s *Step) bool { return s == nil || s.At.After(end) }
		if open(a.Acknowledged) {
			ackWait = append(ackWait, end.Sub(a.Raised))
		} else {
			acked = append(acked, a.Acknowledged.After)
		}
		if a.Remote {
			f.RemoteCloses++
		}
		switch {
		case !open(a.Attended):
			attended = append(attended, a.Attended.After)
		case a.Resolved == nil || a.Resolved.At.After(end):
			attendWait = append(attendWait, end.Sub(a.Raised))
		}
		if a.PointKind == wing.CellCall {
			f.CellCalls++
			if a.Attended != nil && a.Attended.How == wing.AttendedAtReset && a.Attended.After <= AttendWithin {
				f.CellCallsInTime++
			}
		}
	}
	if f.CellCalls > 0 {
		f.InTimeShare = float64(f.CellCallsInTime) / float64(f.CellCalls)
	}
	f.Acknowledge, f.Attend = response(acked, ackWait), response(attended, attendWait)
	for _, c := range checks {
		if c.Late {
			f.LateChecks++
		}
	}
	return f
}
