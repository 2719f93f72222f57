package ui

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// An alarm's card on the overview shows its whole lifecycle so far and
// its next step: raised, acknowledged (by whom, when), attended (where,
// how, when), escalations, and whether its input is back to normal; then
// the buttons of what may be done now.

// The next step of an alarm, as its card's data-step says.
const (
	stepAcknowledge  = "acknowledge"    // nobody has acknowledged it
	stepAttendAtDoor = "attend-at-door" // a cell call: someone must go to the cell and turn its reset key
	stepResolve      = "resolve"        // it may be resolved
)

// stamp is when a step happened: the time of day to the second (every
// officer's action is logged to the second) and its age.
type stamp struct {
	Clock string // "10:41:07"; the date too when not today
	Age   since
}

func (v view) stamp(t time.Time) stamp {
	if !event.Trusted(t) {
		return stamp{}
	}
	lt, ln := t.In(time.Local), v.now.In(time.Local)
	clock := lt.Format("15:04:05")
	if y, m, d := lt.Date(); y != ln.Year() || m != ln.Month() || d != ln.Day() {
		clock = lt.Format("2 Jan 15:04:05")
	}
	return stamp{Clock: clock, Age: sinceOf(t, v.now)}
}

// escalationLine is one escalation of an alarm, in words.
type escalationLine struct {
	Reason string // unacknowledged, unattended
	Text   string // "not acknowledged within 1 min"
	At     stamp
}

// alarmCard is one active alarm of this wing on the overview.
type alarmCard struct {
	ID        event.ID
	Point     string // the point's (or door's) name
	PointID   string
	Kind      string // the kind in words
	PointKind string
	Priority  int
	Raised    stamp
	AckBy     string // empty while unacknowledged
	AckAt     stamp
	// Attended: by whom and how, in words, once attended.
	Attended   string
	AttendedAt stamp
	// AtDoor is the cell door of a cell call: where it is attended.
	AtDoor      string
	Escalations []escalationLine
	// Normal says, for a latched alarm whose input is back to normal,
	// what it reads now; empty otherwise.
	Normal string
	Step   string
	// What may be done now.
	CanAttend  bool // from the panel: staff alarms and door anomalies, not yet attended
	CanResolve bool
	CanClose   bool // a supervisor may close it remotely: a cell call not attended at its door
	// Version names what the card shows but its ages, which the browser
	// counts up itself: a card whose version has not changed is the same
	// card, and a screen keeps it as it is when the panel around it is
	// sent again (data-v).
	Version string
}

func (a alarmCard) testID() string {
	return "alarm-" + a.ID.Wing + "-" + strconv.FormatUint(a.ID.Seq, 10)
}

func (a alarmCard) actionPath(action alarmActionKind) string {
	return alarmPath(a.ID, action)
}

// alarmPath is the address of an action on an alarm.
func alarmPath(id event.ID, action alarmActionKind) string {
	return "/alarms/" + id.String() + "/" + string(action)
}

func (a alarmCard) escalated() bool { return len(a.Escalations) > 0 }

// isDoorAnomaly reports whether an alarm's point kind is one of a door's
// anomalies (the alarm's point is the door).
func isDoorAnomaly(kind string) bool {
	switch kind {
	case wing.DoorForced, wing.DoorHeldOpen, wing.DoorOpenedAtNight, wing.DoorOpenedInLockdown:
		return true
	}
	return false
}

// anomalyMark is a door anomaly's word on the door's tile and plan.
func anomalyMark(kind string) string {
	switch kind {
	case wing.DoorForced:
		return "FORCED"
	case wing.DoorHeldOpen:
		return "HELD OPEN"
	case wing.DoorOpenedAtNight:
		return "OPENED AT NIGHT"
	case wing.DoorOpenedInLockdown:
		return "OPENED IN LOCKDOWN"
	}
	return strings.ToUpper(kind)
}

// escalationText says what an escalation means.
func escalationText(e wing.Escalation) string {
	limit := e.After
	if d, err := time.ParseDuration(e.After); err == nil {
		limit = durationWords(d)
	}
	switch e.Reason {
	case wing.EscalatedUnacknowledged:
		return "not acknowledged in " + limit
	case wing.EscalatedUnattended:
		return "not attended at the cell door in " + limit
	}
	return e.Reason + " after " + limit
}

// durationWords writes a limit as people say it: "1 min", "90 s", "2 h".
func durationWords(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d%time.Minute == 0 && d >= time.Minute:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/time.Second)) + " s"
}

// pointName is the name of an alarm's point as this wing's layout gives
// it: the alarm point's name, or the door's for a door anomaly; the id
// for a point of another wing.
func (v view) pointName(a wing.Alarm) string {
	if pt, ok := v.pointByID(a.Point); ok {
		return cmp.Or(pt.Name, pt.ID)
	}
	if d, ok := v.doorByID(a.Point); ok {
		return cmp.Or(d.Name, d.ID)
	}
	return a.Point
}

// card is an alarm's card for an officer whose role is may.
func (v view) card(a wing.Alarm) alarmCard {
	c := alarmCard{
		ID: a.ID, Point: v.pointName(a), PointID: a.Point, Kind: pointKindLabel(a.PointKind), PointKind: a.PointKind,
		Priority: a.Priority, Raised: v.stamp(a.RaisedAt),
	}
	cellCall := a.PointKind == wing.CellCall
	if cellCall {
		if pt, ok := v.pointByID(a.Point); ok {
			c.AtDoor = pt.Cell
		}
	}
	if a.Acknowledged != nil {
		c.AckBy, c.AckAt = a.Acknowledged.By, v.stamp(a.Acknowledged.At)
	}
	attendedAtDoor := a.Attended != nil && a.Attended.How == wing.AttendedAtReset
	if at := a.Attended; at != nil {
		c.AttendedAt = v.stamp(at.At)
		switch at.How {
		case wing.AttendedAtReset:
			c.Attended = "Attended at the cell door " + cmp.Or(at.Where, c.AtDoor) + " (reset key turned)"
		default:
			c.Attended = "Attended by " + at.By + ", reported at the panel"
		}
	}
	for _, e := range a.Escalations {
		c.Escalations = append(c.Escalations, escalationLine{Reason: e.Reason, Text: escalationText(e), At: v.stamp(e.At)})
	}
	c.Normal = v.backToNormal(a)
	c.CanAttend = !cellCall && a.Attended == nil
	c.CanResolve = a.CanResolve() == nil
	c.CanClose = cellCall && !attendedAtDoor
	switch {
	case a.Acknowledged == nil:
		c.Step = stepAcknowledge
	case cellCall && !attendedAtDoor:
		c.Step = stepAttendAtDoor
	default:
		c.Step = stepResolve
	}
	c.Version = c.version()
	return c
}

// version is the card's Version: a digest of every field but the ages
// (TestAlarmCardVersionCoversEveryField keeps it so).
func (c alarmCard) version() string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	put := func(s string) {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(s)))])
		io.WriteString(h, s)
	}
	for _, s := range [...]string{c.ID.String(), c.Point, c.PointID, c.Kind, c.PointKind, strconv.Itoa(c.Priority),
		c.Raised.Clock, c.AckBy, c.AckAt.Clock, c.Attended, c.AttendedAt.Clock, c.AtDoor, c.Normal, c.Step,
		strconv.FormatBool(c.CanAttend), strconv.FormatBool(c.CanResolve), strconv.FormatBool(c.CanClose)} {
		put(s)
	}
	for _, e := range c.Escalations {
		put(e.Reason)
		put(e.Text)
		put(e.At.Clock)
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// backToNormal says what a latched alarm's input reads now when it is
// back to normal: the alarm stays until it is resolved.
func (v view) backToNormal(a wing.Alarm) string {
	if isDoorAnomaly(a.PointKind) {
		if state, _, _ := v.doorStatus(a.Point); state == doorClosed {
			return "The door is closed again: the alarm stays until it is resolved."
		}
		return ""
	}
	if _, ok := v.pointByID(a.Point); !ok || v.reading == nil {
		return ""
	}
	if active, known := v.reading(a.Point); known && !active {
		return "The button is back to normal: the alarm stays until it is resolved."
	}
	return ""
}

// inputFault is an input of this wing that cannot be read: an active
// problem, counted with the alarms.
type inputFault struct {
	ID    string
	Name  string // what it is, in words: "Cell A2-11 door contact"
	Fault string
	Since since
	// Alarms says that it is an alarm point, which cannot raise alarms
	// until it is repaired.
	Alarms bool
}

// inputFaults lists this wing's faulted inputs in configuration order:
// doors and their locks, alarm points and their reset keys, sensors.
func (v view) inputFaults() []inputFault {
	var out []inputFault
	add := func(id, name string, alarms bool) {
		if in, ok := v.state.Inputs[id]; ok && in.Faulted {
			out = append(out, inputFault{ID: id, Name: name, Fault: cmp.Or(in.Fault, "fault"), Since: sinceOf(in.Since, v.now), Alarms: alarms})
		}
	}
	for _, d := range v.layout.Doors {
		name := cmp.Or(d.Name, d.ID)
		add(d.ID, name+" door contact", false)
		if d.Lock != nil {
			add(d.ID+wing.LockSuffix, name+" lock contact", false)
		}
	}
	for _, p := range v.layout.AlarmPoints {
		name := cmp.Or(p.Name, p.ID)
		add(p.ID, name, true)
		if p.Reset != nil {
			add(p.ID+wing.ResetSuffix, name+": reset key switch", false)
		}
	}
	for _, sn := range v.layout.Sensors {
		add(sn.ID, cmp.Or(sn.Name, sn.ID)+" sensor", false)
	}
	return out
}

// alarmBar is the strip under the header of every page: this wing's
// active alarms and faulted inputs, counted.
type alarmBar struct {
	Count     int
	Unacked   int
	Escalated int
	Faults    int
	// First is the most urgent alarm, and FirstFault the first fault, in
	// words, for the pages that do not list them.
	First      string
	FirstFault string
	Overview   bool // the page lists them below: no link
}

func (b alarmBar) problems() int { return b.Count + b.Faults }

func (v view) alarmBar(cards []alarmCard, faults []inputFault) alarmBar {
	b := alarmBar{Count: len(cards), Faults: len(faults)}
	for _, c := range cards {
		if c.AckBy == "" {
			b.Unacked++
		}
		if c.escalated() {
			b.Escalated++
		}
	}
	if len(cards) > 0 {
		b.First = cards[0].Point + " (" + cards[0].Kind + ")"
	}
	if len(faults) > 0 {
		b.FirstFault = faults[0].Name + ": " + faults[0].Fault
	}
	return b
}

// alarmPanel is the overview's list of this wing's alarm cards, and the
// inputs that cannot be read.
type alarmPanel struct {
	Cards  []alarmCard
	Faults []inputFault
}

// cards returns this wing's active alarms' cards in the order officers
// deal with them.
func (v view) cards() []alarmCard {
	var out []alarmCard
	for _, a := range v.ownAlarms() {
		out = append(out, v.card(a))
	}
	return out
}

func (v view) panel() alarmPanel {
	return alarmPanel{Cards: v.cards(), Faults: v.inputFaults()}
}

// escalationRow is an escalated active alarm of any wing of the site.
type escalationRow struct {
	ID       event.ID
	Own      bool
	Point    string
	Kind     string
	Priority int
	Why      string // the escalations, in words
	Since    since  // since the first escalation
}

func (r escalationRow) testID() string {
	return "escalated-" + r.ID.Wing + "-" + strconv.FormatUint(r.ID.Seq, 10)
}

// escalationBanner is on every screen of every wing while any alarm of
// the site has escalated: the most urgent first, at most a few.
type escalationBanner struct {
	Rows []escalationRow
	More int
}

func (b escalationBanner) same(o escalationBanner) bool {
	return b.More == o.More && slices.EqualFunc(b.Rows, o.Rows, func(x, y escalationRow) bool {
		return x.ID == y.ID && x.Own == y.Own && x.Point == y.Point && x.Kind == y.Kind && x.Priority == y.Priority &&
			x.Why == y.Why && x.Since.At.Equal(y.Since.At)
	})
}

// escalationBannerRows is how many escalated alarms the banner lists.
const escalationBannerRows = 3

func (v view) escalations() escalationBanner {
	var alarms []wing.Alarm
	for _, a := range v.state.Alarms {
		if a.Active() && len(a.Escalations) > 0 {
			alarms = append(alarms, a)
		}
	}
	slices.SortFunc(alarms, func(a, b wing.Alarm) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), a.RaisedKey.Compare(b.RaisedKey),
			cmp.Compare(a.ID.Wing, b.ID.Wing), cmp.Compare(a.ID.Seq, b.ID.Seq))
	})
	var b escalationBanner
	for i, a := range alarms {
		if i == escalationBannerRows {
			b.More = len(alarms) - i
			break
		}
		var why []string
		first := a.Escalations[0].At
		for _, e := range a.Escalations {
			why = append(why, escalationText(e))
			if e.At.Before(first) {
				first = e.At
			}
		}
		b.Rows = append(b.Rows, escalationRow{
			ID: a.ID, Own: a.ID.Wing == v.layout.ID, Point: v.pointName(a), Kind: pointKindLabel(a.PointKind),
			Priority: a.Priority, Why: strings.Join(why, "; "), Since: sinceOf(first, v.now),
		})
	}
	return b
}

// outcomeChoice is one of the wing's outcomes on the Resolve page.
type outcomeChoice struct {
	ID    string
	Label string
}

func (v view) outcomes() []outcomeChoice {
	var out []outcomeChoice
	for _, o := range v.layout.Outcomes {
		out = append(out, outcomeChoice{ID: o, Label: config.OutcomeLabel(o)})
	}
	return out
}

// sameFrame reports whether two panels hold the same alarms in the same
// order and the same faulted inputs: what the panel shows around its
// cards. Between two panels of one frame only the cards that are not the
// same need to be sent.
func (p alarmPanel) sameFrame(o alarmPanel) bool {
	return slices.EqualFunc(p.Cards, o.Cards, func(a, b alarmCard) bool { return a.ID == b.ID }) &&
		slices.EqualFunc(p.Faults, o.Faults, func(a, b inputFault) bool {
			return a.ID == b.ID && a.Name == b.Name && a.Fault == b.Fault && a.Since.At.Equal(b.Since.At) && a.Alarms == b.Alarms
		})
}

// same reports whether two cards show the same, leaving out the ages.
func (c alarmCard) same(o alarmCard) bool { return c.ID == o.ID && c.Version == o.Version }
