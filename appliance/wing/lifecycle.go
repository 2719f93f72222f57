package wing

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// Action is an officer's step in an alarm's lifecycle.
type Action struct {
	By  string    `json:"by"`
	At  time.Time `json:"at"`
	Key event.Key `json:"key"`
}

// How an alarm was attended.
const (
	// AttendedAtReset: the cell door's reset key switch was turned, so an
	// officer stood at the cell. The only way a cell call is attended.
	AttendedAtReset = "reset"
	// AttendedFromPanel: an officer reported at the panel that they are
	// attending (staff alarms and door anomalies).
	AttendedFromPanel = "panel"
)

// Attendance is who attended an alarm, when, where and how.
type Attendance struct {
	Action
	How   string `json:"how"`   // AttendedAtReset or AttendedFromPanel
	Where string `json:"where"` // the cell door, or the panel's wing
}

// Resolution is how an alarm ended: resolved with an outcome, or closed
// remotely by a supervisor with a reason (an exception).
type Resolution struct {
	Action
	Outcome string `json:"outcome,omitempty"`
	Note    string `json:"note,omitempty"`
	Remote  bool   `json:"remote,omitempty"`
	Reason  string `json:"reason,omitempty"` // why it was closed remotely
}

// The reasons an alarm escalates.
const (
	EscalatedUnacknowledged = "unacknowledged"
	EscalatedUnattended     = "unattended"
)

// Escalation is an alarm going on too long without a response.
type Escalation struct {
	Reason string    `json:"reason"`
	After  string    `json:"after"` // the limit it passed, e.g. "1m0s"
	At     time.Time `json:"at"`
	Key    event.Key `json:"key"`
}

// foldAlarmStep folds a later step of an alarm's lifecycle: each step's
// earliest record wins.
func (s *State) foldAlarmStep(e event.Event, k event.Key) {
	id, err := event.ParseID(e.Data["alarm"])
	if err != nil {
		return
	}
	a := s.Alarms[id]
	a.ID = id
	if a.Point == "" {
		a.Point = e.Subject
	}
	step := Action{By: e.Actor, At: e.Wall, Key: k}
	switch e.Kind {
	case event.AlarmAcknowledged:
		if a.Acknowledged == nil || k.Compare(a.Acknowledged.Key) < 0 {
			a.Acknowledged = &step
		}
	case event.AlarmAttended:
		if a.Attended == nil || k.Compare(a.Attended.Key) < 0 {
			a.Attended = &Attendance{Action: step, How: e.Data["how"], Where: e.Data["where"]}
		}
	case event.AlarmResolved, event.AlarmCleared, event.AlarmClosedRemotely:
		if a.Resolved == nil || k.Compare(a.Resolved.Key) < 0 {
			r := &Resolution{Action: step, Outcome: e.Data["outcome"], Note: e.Data["note"]}
			if e.Kind == event.AlarmClosedRemotely {
				r.Remote, r.Reason = true, e.Data["reason"]
			}
			a.Resolved = r
		}
	case event.AlarmEscalated:
		esc := Escalation{Reason: e.Data["reason"], After: e.Data["after"], At: e.Wall, Key: k}
		i := slices.IndexFunc(a.Escalations, func(x Escalation) bool { return x.Reason == esc.Reason })
		switch {
		case i < 0:
			a.Escalations = append(slices.Clone(a.Escalations), esc)
			slices.SortFunc(a.Escalations, func(x, y Escalation) int { return strings.Compare(x.Reason, y.Reason) })
		case k.Compare(a.Escalations[i].Key) < 0:
			a.Escalations = slices.Clone(a.Escalations)
			a.Escalations[i] = esc
		}
	}
	s.setAlarm(a)
}

// setAlarm keeps a, and the index of active alarms in step with it.
func (s *State) setAlarm(a Alarm) {
	old, had := s.Alarms[a.ID]
	s.Alarms[a.ID] = a
	if s.active == nil {
		s.active = activeIndex(s.Alarms)
		return
	}
	if had && old.Point != a.Point {
		s.unindex(old.Point, a.ID)
	}
	ids := s.active[a.Point]
	switch i, found := slices.BinarySearchFunc(ids, a.ID, compareIDs); {
	case a.Active() && !found:
		// In order, so that the state is the same whatever the order the
		// events were folded in.
		s.active[a.Point] = slices.Insert(slices.Clone(ids), i, a.ID)
	case !a.Active() && found:
		s.unindex(a.Point, a.ID)
	}
}

func compareIDs(x, y event.ID) int {
	return cmp.Or(strings.Compare(x.Wing, y.Wing), cmp.Compare(x.Seq, y.Seq))
}

func (s *State) unindex(point string, id event.ID) {
	ids := slices.DeleteFunc(slices.Clone(s.active[point]), func(x event.ID) bool { return x == id })
	if len(ids) == 0 {
		delete(s.active, point)
		return
	}
	s.active[point] = ids
}

// activeIndex is the index of the active alarms of alarms by point.
func activeIndex(alarms map[event.ID]Alarm) map[string][]event.ID {
	idx := map[string][]event.ID{}
	for id, a := range alarms {
		if a.Active() {
			idx[a.Point] = append(idx[a.Point], id)
		}
	}
	for _, ids := range idx {
		slices.SortFunc(ids, compareIDs)
	}
	return idx
}

// activeAlarms calls f with each active alarm, of point alone when point
// is not empty.
func (s *State) activeAlarms(point string, f func(Alarm)) {
	if s.active == nil {
		for _, a := range s.Alarms {
			if a.Active() && (point == "" || a.Point == point) {
				f(a)
			}
		}
		return
	}
	each := func(ids []event.ID) {
		for _, id := range ids {
			f(s.Alarms[id])
		}
	}
	if point != "" {
		each(s.active[point])
		return
	}
	for _, ids := range s.active {
		each(ids)
	}
}

// ActiveAlarms returns the alarms raised and not resolved, in the order an
// officer must deal with them: unacknowledged before acknowledged, then by
// priority (1 first), then oldest first.
func (s *State) ActiveAlarms() []Alarm {
	var out []Alarm
	s.activeAlarms("", func(a Alarm) { out = append(out, a) })
	slices.SortFunc(out, func(a, b Alarm) int {
		if (a.Acknowledged == nil) != (b.Acknowledged == nil) {
			if a.Acknowledged == nil {
				return -1
			}
			return 1
		}
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return a.RaisedKey.Compare(b.RaisedKey)
	})
	return out
}

// ActiveAlarmOn returns the oldest active alarm on a point (alarm point
// or door), of any kind, if there is one.
func (s *State) ActiveAlarmOn(point string) (Alarm, bool) { return s.ActiveAlarmOf(point, "") }

// ActiveAlarmOf returns the oldest active alarm of kind (any kind when
// empty) on a point, if there is one: a door may have a forced alarm and a
// held-open alarm at once.
func (s *State) ActiveAlarmOf(point, kind string) (Alarm, bool) {
	var found Alarm
	ok := false
	s.activeAlarms(point, func(a Alarm) {
		if (kind == "" || a.PointKind == kind) && (!ok || a.RaisedKey.Compare(found.RaisedKey) < 0) {
			found, ok = a, true
		}
	})
	return found, ok
}

// Errors returned when an officer's action does not fit the alarm's
// lifecycle.
var (
	ErrNoSuchAlarm     = errors.New("no such alarm")
	ErrAlarmResolved   = errors.New("alarm already resolved")
	ErrNotRaised       = errors.New("alarm not yet raised")
	ErrNotAcknowledged = errors.New("alarm not acknowledged yet")
	// ErrAttendAtSource: a cell call is attended only at the cell door,
	// by its reset key switch, never from the panel or the landing.
	ErrAttendAtSource = errors.New("a cell call is attended at the cell door")
	// ErrNotAttended: a cell call is resolved only once attended at the
	// cell door; a supervisor may close it remotely instead, with a reason.
	ErrNotAttended = errors.New("cell call not attended at the cell door")
)

// Actionable returns the alarm id if it is raised and not yet resolved,
// and otherwise why not: ErrNoSuchAlarm, ErrNotRaised or ErrAlarmResolved.
func (s *State) Actionable(id event.ID) (Alarm, error) {
	a, ok := s.Alarms[id]
	switch {
	case !ok:
		return Alarm{}, fmt.Errorf("alarm %s: %w", id, ErrNoSuchAlarm)
	case !a.Raised:
		return a, fmt.Errorf("alarm %s: %w", id, ErrNotRaised)
	case a.Resolved != nil:
		return a, fmt.Errorf("alarm %s: %w (by %s)", id, ErrAlarmResolved, a.Resolved.By)
	}
	return a, nil
}

// CellCall is the point kind of a cell's call button.
const CellCall = "cell-call"

// CanAttendFromPanel says why an officer at the panel may not report
// attending the alarm, or nil.
func (a Alarm) CanAttendFromPanel() error {
	if a.PointKind == CellCall {
		return fmt.Errorf("alarm %s: %w: turn its reset key switch there", a.ID, ErrAttendAtSource)
	}
	return nil
}

// CanResolve says why the alarm may not be resolved now, or nil: it must
// be acknowledged first, and a cell call attended at the cell door.
func (a Alarm) CanResolve() error {
	if a.Acknowledged == nil {
		return fmt.Errorf("alarm %s: %w: acknowledge it first", a.ID, ErrNotAcknowledged)
	}
	if a.PointKind == CellCall && (a.Attended == nil || a.Attended.How != AttendedAtReset) {
		return fmt.Errorf("alarm %s: %w", a.ID, ErrNotAttended)
	}
	return nil
}
