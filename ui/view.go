package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// view renders the wing's picture from one State snapshot.
type view struct {
	layout  config.Wing
	state   *wing.State
	climate map[string]ClimateReading // by sensor id
	site    SiteStatus
	now     time.Time
	// reading is Wing.Reading: what an input reads now.
	reading func(input string) (active, known bool)
	// faultData returns the data of the event that recorded an input's
	// fault, read from the store when asked.
	faultData func(input string, fault wing.Input) map[string]string
	// shared, for the view of a live stream, is what the streams sending
	// from it share (liveView); nil for a page's view.
	shared *sharedView
}

// view reads the wing once, for one page or one live update.
func (s *Server) view() view { return s.viewOf(s.wing.State(), s.wing.Site()) }

// viewOf is the view of a state and a site status already read.
func (s *Server) viewOf(st *wing.State, site SiteStatus) view {
	v := view{layout: s.wing.Layout(), state: st, site: site, now: s.opt.Now(), reading: s.wing.Reading, faultData: s.faultData}
	if len(v.layout.Sensors) > 0 {
		v.climate = map[string]ClimateReading{}
		for _, r := range s.wing.Climate() {
			v.climate[r.Sensor] = r
		}
	}
	return v
}

// faultData reads the data of the event that recorded an input's fault.
func (s *Server) faultData(input string, fault wing.Input) map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	page, err := s.wing.Query(ctx, event.Query{Subject: input, Kinds: []event.Kind{event.InputFault}, Limit: 1})
	if err != nil || len(page.Records) == 0 {
		return nil
	}
	return page.Records[0].Event.Data
}

// header is what every page shows at the top.
type header struct {
	WingName       string
	Version        string
	ClockUntrusted bool
	Walk           walkBanner
	Due            int      // inputs whose proof is overdue or missing
	Live           livePage // the page follows /live?page=Live
	LiveQuery      string   // more of the stream's query, for the event log's filter
	Recording      string   // what stops events being recorded; empty while they are
	Site           siteFrame
	Alarms         alarmBar         // this wing's alarms and faults, counted
	Checks         checksBadge      // this wing's checks due and overdue
	Escalations    escalationBanner // every wing's escalated alarms
	Regime         regimeChip
}

// header is the top of every page, from v.
func (s *Server) header(v view) header {
	clock, ok := v.state.Wings[v.layout.ID]
	return header{
		WingName:       cmp.Or(v.layout.Name, v.layout.ID),
		Version:        s.opt.Version,
		ClockUntrusted: ok && !clock.ClockTrusted,
		Walk:           v.walkBanner(),
		Due:            v.proofSummary().due(),
		Live:           liveFrame,
		Recording:      recordingProblem(s.wing.Recording()),
		Site:           v.siteFrame(),
		Alarms:         v.alarmBar(v.cards(), v.inputFaults()),
		Checks:         v.checksBadge(),
		Escalations:    v.escalations(),
		Regime:         v.regimeChip(),
	}
}

// recordingProblem is what the banner says while recording has stopped.
func recordingProblem(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// since is a moment with its age as rendered by the server; the browser
// counts it up. The zero value shows nothing.
type since struct {
	At   time.Time
	Text string
}

// sinceOf is at as of now.
func sinceOf(at, now time.Time) since {
	// A wall time before the trust floor comes from an unset clock: its age
	// would be decades of nonsense.
	if !event.Trusted(at) {
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

// pointKindLabel names an alarm point's kind for people, on every page
// that lists alarms.
func pointKindLabel(kind string) string {
	switch config.AlarmPointKind(kind) {
	case config.CellCall:
		return "Cell call"
	case config.StaffAlarm:
		return "Staff alarm"
	case wing.DoorForced:
		return "DOOR FORCED"
	case wing.DoorHeldOpen:
		return "DOOR HELD OPEN"
	case wing.DoorOpenedAtNight:
		return "DOOR OPENED AT NIGHT"
	case wing.DoorOpenedInLockdown:
		return "DOOR OPENED IN LOCKDOWN"
	case "":
		return "Alarm"
	}
	return kind
}

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

// ownAlarms returns this wing's active alarms in the order officers deal
// with them. Alarms of other wings of the site are theirs to handle.
func (v view) ownAlarms() []wing.Alarm {
	return slices.DeleteFunc(v.state.ActiveAlarms(), func(a wing.Alarm) bool { return a.ID.Wing != v.layout.ID })
}
