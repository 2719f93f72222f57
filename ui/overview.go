package ui

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// doorState is what a door tile says, and its data-state for tests.
type doorState string

// The door states. A faulted input is never shown as closed: its last
// reading cannot be trusted.
const (
	doorOpen    doorState = "open"
	doorClosed  doorState = "closed"
	doorUnknown doorState = "unknown" // no reading recorded yet
	doorFault   doorState = "fault"
)

// label is the word on the tile.
func (d doorState) label() string {
	switch d {
	case doorOpen:
		return "OPEN"
	case doorClosed:
		return "closed"
	case doorFault:
		return "FAULT"
	}
	return "no reading"
}

// header is what every page shows at the top.
type header struct {
	WingName       string
	Version        string
	Officer        string
	ClockUntrusted bool
	Walk           walkBanner
	Due            int      // inputs whose proof is overdue or missing
	Live           livePage // the page follows /live?page=Live; empty: it does not
	Recording      string   // what stops events being recorded; empty while they are
	Site           siteFrame
}

// since is a moment with its age as rendered by the server; the browser
// counts it up. The zero value shows nothing.
type since struct {
	At   time.Time
	Text string
}

func sinceOf(at, now time.Time) since {
	// A wall time before the trust floor comes from an unset clock: its age
	// would be decades of nonsense.
	if at.IsZero() || at.Before(event.TrustFloor) {
		return since{}
	}
	return since{At: at, Text: formatAge(now.Sub(at))}
}

// formatAge writes a duration as the screen shows it: "45 s", "3 min",
// "1 h 05", "2 d 03 h". static/app.js has the same rules.
func formatAge(d time.Duration) string {
	d = max(d, 0)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h %02d", int(d/time.Hour), int(d/time.Minute)%60)
	}
	return fmt.Sprintf("%d d %02d h", int(d/(24*time.Hour)), int(d/time.Hour)%24)
}

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

// lockState is what a door's lock contact reads, as the tile and the API say it.
type lockState string

// The lock states.
const (
	lockLocked   lockState = "locked"
	lockUnlocked lockState = "unlocked"
	lockUnknown  lockState = "unknown" // fitted, no reading yet
	lockFault    lockState = "fault"   // the API's word; the tile shows FAULT
)

// label is the small word on the tile.
func (l lockState) label() string {
	if l == lockUnknown {
		return "lock: no reading"
	}
	return string(l)
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

func pointKindLabel(kind string) string {
	switch config.AlarmPointKind(kind) {
	case config.CellCall:
		return "Cell call"
	case config.StaffAlarm:
		return "Staff alarm"
	case wing.DoorForced:
		return "DOOR FORCED"
	case "":
		return "Alarm"
	}
	return kind
}

func (s *Server) header(v view) header {
	clock, ok := v.state.Wings[v.layout.ID]
	return header{
		WingName:       cmp.Or(v.layout.Name, v.layout.ID),
		Version:        s.opt.Version,
		Officer:        s.opt.Officer,
		ClockUntrusted: ok && !clock.ClockTrusted,
		Walk:           v.walkBanner(),
		Due:            v.proofSummary().due(),
		Recording:      recordingProblem(s.wing.Recording()),
		Site:           v.siteFrame(),
	}
}

func recordingProblem(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// view renders the wing's picture from one State snapshot.
type view struct {
	layout  config.Wing
	state   *wing.State
	climate map[string]ClimateReading // by sensor id
	site    SiteStatus
	now     time.Time
}

func (s *Server) view() view {
	v := view{layout: s.wing.Layout(), state: s.wing.State(), site: s.wing.Site(), now: s.opt.Now()}
	if len(v.layout.Sensors) > 0 {
		v.climate = map[string]ClimateReading{}
		for _, r := range s.wing.Climate() {
			v.climate[r.Sensor] = r
		}
	}
	return v
}

// doorStatus returns what is known of a door: its state, since when (zero
// when unknown) and, when its input is faulted, the fault.
func (v view) doorStatus(id string) (state doorState, at time.Time, fault string) {
	if in, ok := v.state.Inputs[id]; ok && in.Faulted {
		return doorFault, in.Since, in.Fault
	}
	d, ok := v.state.Doors[id]
	switch {
	case !ok:
		return doorUnknown, time.Time{}, ""
	case d.Open:
		return doorOpen, d.Since, ""
	}
	return doorClosed, d.Since, ""
}

// lockStatus returns what a door's lock contact reads, and since when;
// empty when no lock contact is fitted.
func (v view) lockStatus(d config.Door) (state lockState, at time.Time, fault string) {
	if d.Lock == nil {
		return "", time.Time{}, ""
	}
	if in, ok := v.state.Inputs[d.ID+wing.LockSuffix]; ok && in.Faulted {
		return lockFault, in.Since, in.Fault
	}
	l, ok := v.state.Locks[d.ID]
	switch {
	case !ok:
		return lockUnknown, time.Time{}, ""
	case l.Locked:
		return lockLocked, l.Since, ""
	}
	return lockUnlocked, l.Since, ""
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

// doorByID finds a door of the layout.
func (v view) doorByID(id string) (config.Door, bool) {
	i := slices.IndexFunc(v.layout.Doors, func(d config.Door) bool { return d.ID == id })
	if i < 0 {
		return config.Door{}, false
	}
	return v.layout.Doors[i], true
}

// pointByID finds an alarm point of the layout.
func (v view) pointByID(id string) (config.AlarmPoint, bool) {
	i := slices.IndexFunc(v.layout.AlarmPoints, func(p config.AlarmPoint) bool { return p.ID == id })
	if i < 0 {
		return config.AlarmPoint{}, false
	}
	return v.layout.AlarmPoints[i], true
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

// ownAlarms returns this wing's active alarms in the order officers deal
// with them. Alarms of other wings of the site are theirs to handle.
func (v view) ownAlarms() []wing.Alarm {
	return slices.DeleteFunc(v.state.ActiveAlarms(), func(a wing.Alarm) bool { return a.ID.Wing != v.layout.ID })
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
