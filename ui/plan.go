package ui

import (
	"cmp"
	"net/http"
	"slices"

	"wingnode/appliance/config"
)

// The wing plan (/plan) is a schematic of each landing, generated from
// the configuration: the cells along the landing in their order in the
// file, alternately on either side of the landing's walkway, each cell
// door with its call point; the gates, staff alarms and other points on
// the walkway in their order. Each door and point shows its live state
// and opens its history. Detention control panels are built around such
// plans.

// planDoor is a door on the plan.
type planDoor struct {
	ID        string
	Name      string
	State     doorState
	Lock      lockState
	Fault     string
	Anomalies []anomalyBadge
	Call      bool // its cell call has an active alarm
}

func (d planDoor) elementID() string { return "plan-door-" + d.ID }

// The states of an alarm point on the plan.
const (
	pointQuiet   = "quiet"
	pointAlarm   = "alarm" // an active alarm, not acknowledged
	pointAcked   = "acknowledged"
	pointFaulted = "fault"
)

// planPoint is an alarm point on the plan.
type planPoint struct {
	ID    string
	Name  string
	Kind  string // the point kind
	State string
}

func (p planPoint) elementID() string { return "plan-point-" + p.ID }

// short is the point's word on the plan.
func (p planPoint) short() string {
	switch config.AlarmPointKind(p.Kind) {
	case config.CellCall:
		return "CALL"
	case config.StaffAlarm:
		return "STAFF ALARM"
	}
	return "ALARM"
}

// stateWord is the point's state in words.
func (p planPoint) stateWord() string {
	switch p.State {
	case pointAlarm:
		return "ACTIVE"
	case pointAcked:
		return "active · ack"
	case pointFaulted:
		return "FAULT"
	}
	return "quiet"
}

// planCell is a cell on the plan: its door and its call points.
type planCell struct {
	Door   planDoor
	Points []planPoint
}

// planStop is something on a landing's walkway: a door that is not a
// cell's (a gate), or an alarm point of no cell (a staff alarm).
type planStop struct {
	Door  *planDoor
	Point *planPoint
}

// planLanding is one landing: cells on either side of the walkway.
type planLanding struct {
	Title   string
	Near    []planCell // first, third, ... cell in the file
	Far     []planCell // second, fourth, ...
	Walkway []planStop
}

type planPage struct {
	Header   header
	Landings []planLanding
}

func (v view) planDoor(d config.Door) planDoor {
	t := v.door(d)
	return planDoor{ID: d.ID, Name: t.Name, State: t.State, Lock: t.Lock, Fault: t.Fault, Anomalies: t.Anomalies, Call: t.Call != nil}
}

func (v view) planPoint(p config.AlarmPoint) planPoint {
	pp := planPoint{ID: p.ID, Name: cmp.Or(p.Name, p.ID), Kind: string(p.Kind), State: pointQuiet}
	if in, ok := v.state.Inputs[p.ID]; ok && in.Faulted {
		pp.State = pointFaulted
	}
	if a, ok := v.state.ActiveAlarmOn(p.ID); ok {
		pp.State = pointAlarm
		if a.Acknowledged != nil {
			pp.State = pointAcked
		}
	}
	return pp
}

// plan lays out every landing in configuration order, then the doors and
// points on no landing as one more.
func (v view) plan() []planLanding {
	var out []planLanding
	lay := func(title string, onLanding func(string) bool) {
		l := planLanding{Title: title}
		type item struct {
			line  int
			stop  planStop
			cell  *planCell
			isRow bool
		}
		var items []item
		for _, d := range v.layout.Doors {
			if !onLanding(d.Landing) {
				continue
			}
			pd := v.planDoor(d)
			if d.Kind != config.CellDoor {
				items = append(items, item{line: d.Line, stop: planStop{Door: &pd}})
				continue
			}
			c := planCell{Door: pd}
			for _, p := range v.layout.AlarmPoints {
				if p.Cell == d.ID {
					c.Points = append(c.Points, v.planPoint(p))
				}
			}
			items = append(items, item{line: d.Line, cell: &c, isRow: true})
		}
		for _, p := range v.layout.AlarmPoints {
			if onLanding(p.Landing) && (p.Cell == "" || !slices.ContainsFunc(v.layout.Doors, func(d config.Door) bool { return d.ID == p.Cell })) {
				pp := v.planPoint(p)
				items = append(items, item{line: p.Line, stop: planStop{Point: &pp}})
			}
		}
		slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.line, b.line) })
		for _, it := range items {
			switch {
			case it.isRow && len(l.Near) <= len(l.Far):
				l.Near = append(l.Near, *it.cell)
			case it.isRow:
				l.Far = append(l.Far, *it.cell)
			default:
				l.Walkway = append(l.Walkway, it.stop)
			}
		}
		if len(l.Near)+len(l.Walkway) > 0 {
			out = append(out, l)
		}
	}
	for _, landing := range v.layout.Landings {
		lay("Landing "+landing, func(l string) bool { return l == landing })
	}
	lay("Ground floor and other doors", func(l string) bool { return l == "" || !slices.Contains(v.layout.Landings, l) })
	return out
}

// planScreen is GET /plan.
func (s *Server) planScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	h := s.header(v)
	h.Live = livePlan
	s.render(w, r, http.StatusOK, planView(planPage{Header: h, Landings: v.plan()}))
}
