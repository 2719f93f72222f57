package ui

import (
	"cmp"
	"net/http"
	"net/url"
	"strconv"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// doorTile is one door on the overview.
type doorTile struct {
	ID    string
	Name  string
	State doorState
	Since since
	Fault string // the fault's name when State is doorFault
	// Lock is what the lock contact reads: lockLocked, lockUnlocked or
	// lockUnknown; empty when no lock contact is fitted or it is faulted.
	Lock   lockState
	Call   *alarmBadge
	Forced *alarmBadge // the door's active door-forced alarm
}

// historyPath is the event log of this door.
func (t doorTile) historyPath() string { return "/events?subject=" + url.QueryEscape(t.ID) }

// alarmBadge is on a tile whose door has an active door-forced alarm, or
// whose cell-call point has an active alarm.
type alarmBadge struct {
	Acknowledged bool
}

// doorGroup is a landing's cells, or the wing's other doors.
type doorGroup struct {
	Title string
	Doors []doorTile
}

// alarmRow is one active alarm.
type alarmRow struct {
	ID       event.ID
	Point    string // the point's name, or its id when it is not in the layout
	Kind     string
	Priority int
	Raised   since
	AckBy    string // empty while unacknowledged
	AckAt    since
}

func (a alarmRow) testID() string {
	return "alarm-" + a.ID.Wing + "-" + strconv.FormatUint(a.ID.Seq, 10)
}

func (a alarmRow) actionPath(action alarmActionKind) string {
	return "/alarms/" + a.ID.String() + "/" + string(action)
}

// pointFault is an alarm point whose input cannot be read: it cannot raise
// alarms until it is repaired.
type pointFault struct {
	ID    string
	Name  string
	Fault string
	Since since
}

// alarmPanel is the top of the overview.
type alarmPanel struct {
	Alarms []alarmRow
	Faults []pointFault
}

type overviewPage struct {
	Header      header
	Panel       alarmPanel
	Environment environmentPanel
	Groups      []doorGroup
}

func (v view) door(d config.Door) doorTile {
	state, at, fault := v.doorStatus(d.ID)
	t := doorTile{ID: d.ID, Name: cmp.Or(d.Name, d.ID), State: state, Since: sinceOf(at, v.now), Fault: fault}
	// A lock contact that cannot be read makes the door's picture
	// untrustworthy too: a forced door could not be told.
	switch lock, lockAt, lockFaultName := v.lockStatus(d); {
	case lock == lockFault && state != doorFault:
		t.State, t.Since, t.Fault = doorFault, sinceOf(lockAt, v.now), "lock "+cmp.Or(lockFaultName, "fault")
	case lock != lockFault:
		t.Lock = lock
	}
	if a, ok := v.state.ActiveAlarmOn(d.ID); ok && a.PointKind == wing.DoorForced {
		t.Forced = &alarmBadge{Acknowledged: a.Acknowledged != nil}
	}
	if d.Kind == config.CellDoor {
		for _, p := range v.layout.AlarmPoints {
			if p.Kind != config.CellCall || p.Cell != d.ID {
				continue
			}
			if a, ok := v.state.ActiveAlarmOn(p.ID); ok {
				t.Call = &alarmBadge{Acknowledged: a.Acknowledged != nil}
				break
			}
		}
	}
	return t
}

// groups lists the cells landing by landing in configuration order, then
// every other door (gates, offices, exits, cells on no known landing).
func (v view) groups() []doorGroup {
	var out []doorGroup
	placed := map[string]bool{}
	for _, landing := range v.layout.Landings {
		g := doorGroup{Title: "Landing " + landing}
		for _, d := range v.layout.Doors {
			if d.Kind == config.CellDoor && d.Landing == landing && !placed[d.ID] {
				g.Doors = append(g.Doors, v.door(d))
				placed[d.ID] = true
			}
		}
		if len(g.Doors) > 0 {
			out = append(out, g)
		}
	}
	other := doorGroup{Title: "Other doors"}
	for _, d := range v.layout.Doors {
		if !placed[d.ID] {
			other.Doors = append(other.Doors, v.door(d))
		}
	}
	if len(other.Doors) > 0 {
		out = append(out, other)
	}
	return out
}

func (v view) panel() alarmPanel {
	var p alarmPanel
	for _, a := range v.ownAlarms() {
		row := alarmRow{
			ID: a.ID, Point: a.Point, Kind: pointKindLabel(a.PointKind),
			Priority: a.Priority, Raised: sinceOf(a.RaisedAt, v.now),
		}
		if pt, ok := v.pointByID(a.Point); ok {
			row.Point = cmp.Or(pt.Name, pt.ID)
		} else if d, ok := v.doorByID(a.Point); ok && a.PointKind == wing.DoorForced {
			row.Point = cmp.Or(d.Name, d.ID)
		}
		if a.Acknowledged != nil {
			row.AckBy, row.AckAt = a.Acknowledged.By, sinceOf(a.Acknowledged.At, v.now)
		}
		p.Alarms = append(p.Alarms, row)
	}
	for _, pt := range v.layout.AlarmPoints {
		if in, ok := v.state.Inputs[pt.ID]; ok && in.Faulted {
			p.Faults = append(p.Faults, pointFault{
				ID: pt.ID, Name: cmp.Or(pt.Name, pt.ID), Fault: in.Fault, Since: sinceOf(in.Since, v.now),
			})
		}
	}
	return p
}

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	h := s.header(v)
	h.Live = liveOverview
	s.render(w, r, http.StatusOK, overview(overviewPage{Header: h, Panel: v.panel(), Environment: v.environment(), Groups: v.groups()}))
}
