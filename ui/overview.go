package ui

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"wingnode/appliance/config"
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
	Lock lockState
	Call *alarmBadge
	// Anomalies are the door's active door-anomaly alarms: forced, held
	// open, opened at night or in lockdown.
	Anomalies []anomalyBadge
}

// historyPath is the event log of this door.
func (t doorTile) historyPath() string { return historyPath(t.ID) }

// historyPath is the event log of one door, alarm point or sensor.
func historyPath(subject string) string { return "/events?subject=" + url.QueryEscape(subject) }

// forced reports whether the door has an active door-forced alarm.
func (t doorTile) forced() bool {
	return slices.ContainsFunc(t.Anomalies, func(a anomalyBadge) bool { return a.Kind == wing.DoorForced })
}

// anomalyKinds lists the door's active anomalies, for data-anomaly.
func (t doorTile) anomalyKinds() string {
	var kinds []string
	for _, a := range t.Anomalies {
		kinds = append(kinds, a.Kind)
	}
	return strings.Join(kinds, " ")
}

// alarmBadge is on a tile whose cell-call point has an active alarm.
type alarmBadge struct {
	Acknowledged bool
}

// anomalyBadge is a door anomaly's mark on the door's tile.
type anomalyBadge struct {
	Kind         string
	Acknowledged bool
}

func (a anomalyBadge) label() string {
	if a.Acknowledged {
		return anomalyMark(a.Kind) + " · ack"
	}
	return anomalyMark(a.Kind)
}

// doorGroup is a landing's cells, or the wing's other doors.
type doorGroup struct {
	Title string
	Doors []doorTile
}

type overviewPage struct {
	Header      header
	Panel       alarmPanel
	Environment environmentPanel
	Groups      []doorGroup
}

// anomalyOrder is the order of a door's anomalies on its tile.
var anomalyOrder = []string{wing.DoorForced, wing.DoorOpenedInLockdown, wing.DoorOpenedAtNight, wing.DoorHeldOpen}

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
	for _, kind := range anomalyOrder {
		if a, ok := v.state.ActiveAlarmOf(d.ID, kind); ok {
			t.Anomalies = append(t.Anomalies, anomalyBadge{Kind: kind, Acknowledged: a.Acknowledged != nil})
		}
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

func (s *Server) overview(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	h := s.header(v)
	h.Live = liveOverview
	h.Alarms.Overview = true
	s.render(w, r, http.StatusOK, overview(overviewPage{Header: h, Panel: v.panel(), Environment: v.environment(), Groups: v.groups()}))
}
