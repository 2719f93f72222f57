package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// The officer's shift on the screens: observation checks (/checks), the
// roll (/roll), the handover (/handover), incident timelines (/timeline)
// and the response figures (/figures), their JSON API under /api/v1, and
// a live stream of their own (/live/shift) for the parts that follow the
// wing as it changes: presences at cell doors, the checks due, the roll.

// Shift is what the shift's screens need of the wing (part of Wing): the
// officers' records of the shift, each recorded as the officer given and
// checked against that officer's role, and the reports drafted from the
// store. An action the officer's role does not allow returns an error
// wrapping ErrNotAllowed, one whose input is wrong ErrBadInput; the
// domain's refusals wrap their wing errors (wing.ErrNoSignOfLife,
// wing.ErrCheckAtDoor, wing.ErrNoPresence, wing.ErrNoExpectedRoll,
// wing.ErrRollNotReconciled, wing.ErrNoSuchHandover, wing.ErrOwnHandover,
// wing.ErrNoSuchRecord, wing.ErrNotCorrectable, wing.ErrAlreadyStruck).
// A *Refusal carries the sentence to show.
type Shift interface {
	// SetPlan puts a cell on an observation plan, or changes its plan (a
	// supervisor), with an optional note; EndPlan takes it off (a cell on
	// no plan records nothing).
	SetPlan(ctx context.Context, by roster.Actor, cell string, plan wing.Plan, note string) error
	EndPlan(ctx context.Context, by roster.Actor, cell, reason string) error
	// RecordCheck records an officer's check of a cell, proven at the door
	// when a presence at the cell door waits for it, and returns it. No
	// response raises a priority-1 alarm at once.
	RecordCheck(ctx context.Context, by roster.Actor, c wing.CheckEntry) (wing.Check, error)
	// SetExpectedRoll sets cells' expected roll (a supervisor);
	// CountLanding records an officer's count of a landing, reconciled
	// with it; SignRoll signs the wing's roll as correct (the officer in
	// charge: a supervisor).
	SetExpectedRoll(ctx context.Context, by roster.Actor, rolls map[string]wing.CellRoll) error
	CountLanding(ctx context.Context, by roster.Actor, landing string, counted int) (wing.Count, error)
	SignRoll(ctx context.Context, by roster.Actor) (wing.RollSign, error)
	// SignHandover records the outgoing officer's signing of a shift's
	// handover; ReadHandover the incoming officer's signing it as read.
	SignHandover(ctx context.Context, by roster.Actor, h wing.HandoverEntry) (event.ID, error)
	ReadHandover(ctx context.Context, by roster.Actor, handover event.ID) error
	// Correct strikes an earlier record of this wing with a reason (its
	// own officer or a supervisor): nothing is erased.
	Correct(ctx context.Context, by roster.Actor, record event.ID, reason string) error
	// HandoverDraft drafts the wing's handover of the shift from..to;
	// Figures are a wing's response figures (this wing or another of the
	// site) for a shift; Timeline is every door, alarm, check and roll
	// event around an alarm or of a place across the site; CheckHistory
	// a cell's latest checks, newest first (limit 0: 100), struck ones
	// marked.
	HandoverDraft(ctx context.Context, from, to time.Time) (shift.Draft, error)
	Figures(ctx context.Context, wing string, from, to time.Time) (shift.Figures, error)
	Timeline(ctx context.Context, req shift.TimelineRequest) (shift.Timeline, error)
	CheckHistory(ctx context.Context, cell string, limit int) ([]shift.CheckItem, error)
}

// Refusal is the error of a shift action the wing refused, with the
// sentence that says why. It wraps Kind (ErrNotAllowed, ErrBadInput, or
// nil) and Err, the wing's own error (which may wrap a wing.Err...).
type Refusal struct {
	Kind     error
	Sentence string
	Err      error
}

func (r *Refusal) Error() string { return r.Sentence }

func (r *Refusal) Unwrap() []error {
	var out []error
	for _, e := range []error{r.Kind, r.Err} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

// shiftRoutes adds the shift's pages, forms, live stream and API.
func (s *Server) shiftRoutes() {
	s.mux.HandleFunc("GET /checks", s.checksScreen)
	s.mux.HandleFunc("GET /checks/{cell}", s.cellScreen)
	s.mux.HandleFunc("POST /checks/{cell}", s.needs(roster.Officer, s.checkAction))
	s.mux.HandleFunc("POST /checks/{cell}/plan", s.needs(roster.Supervisor, s.planAction(true)))
	s.mux.HandleFunc("POST /checks/{cell}/plan/end", s.needs(roster.Supervisor, s.planAction(false)))
	s.mux.HandleFunc("GET /roll", s.rollScreen)
	s.mux.HandleFunc("GET /roll/count/{landing}", s.countScreen)
	s.mux.HandleFunc("POST /roll/count/{landing}", s.needs(roster.Officer, s.countAction))
	s.mux.HandleFunc("GET /roll/expected", s.signedInAs(roster.Supervisor, s.expectedScreen))
	s.mux.HandleFunc("POST /roll/expected", s.needs(roster.Supervisor, s.expectedAction))
	s.mux.HandleFunc("POST /roll/sign", s.needs(roster.Supervisor, s.signRollAction))
	s.mux.HandleFunc("GET /handover", s.handoverScreen)
	s.mux.HandleFunc("POST /handover/sign", s.needs(roster.Officer, s.signHandoverAction))
	s.mux.HandleFunc("POST /handovers/{wing}/{seq}/read", s.needs(roster.Officer, s.readHandoverAction))
	s.mux.HandleFunc("GET /records/{wing}/{seq}/correct", s.signedInAs(roster.Officer, s.correctScreen))
	s.mux.HandleFunc("POST /records/{wing}/{seq}/correct", s.needs(roster.Officer, s.correctAction))
	s.mux.HandleFunc("GET /timeline", s.timelineScreen)
	s.mux.HandleFunc("GET /timeline.ndjson", s.timelineNDJSON)
	s.mux.HandleFunc("GET /figures", s.figuresScreen)
	s.mux.HandleFunc("GET /live/shift", s.shiftLive)

	s.mux.HandleFunc("GET /api/v1/checks", s.apiChecks)
	s.mux.HandleFunc("POST /api/v1/checks", s.needs(roster.Officer, s.apiRecordCheck))
	s.mux.HandleFunc("GET /api/v1/checks/{cell}", s.apiCellChecks)
	s.mux.HandleFunc("GET /api/v1/plans", s.apiPlans)
	s.mux.HandleFunc("POST /api/v1/plans/{cell}", s.needs(roster.Supervisor, s.apiSetPlan))
	s.mux.HandleFunc("POST /api/v1/plans/{cell}/end", s.needs(roster.Supervisor, s.apiEndPlan))
	s.mux.HandleFunc("GET /api/v1/roll", s.apiRoll)
	s.mux.HandleFunc("POST /api/v1/roll/expected", s.needs(roster.Supervisor, s.apiSetExpected))
	s.mux.HandleFunc("POST /api/v1/roll/counts", s.needs(roster.Officer, s.apiCount))
	s.mux.HandleFunc("POST /api/v1/roll/sign", s.needs(roster.Supervisor, s.apiSignRoll))
	s.mux.HandleFunc("GET /api/v1/handover", s.apiHandoverDraft)
	s.mux.HandleFunc("GET /api/v1/handovers", s.apiHandovers)
	s.mux.HandleFunc("POST /api/v1/handovers", s.needs(roster.Officer, s.apiSignHandover))
	s.mux.HandleFunc("POST /api/v1/handovers/{wing}/{seq}/read", s.needs(roster.Officer, s.apiReadHandover))
	s.mux.HandleFunc("POST /api/v1/records/{wing}/{seq}/correct", s.needs(roster.Officer, s.apiCorrect))
	s.mux.HandleFunc("GET /api/v1/timeline", s.apiTimeline)
	s.mux.HandleFunc("GET /api/v1/timeline.ndjson", s.timelineNDJSON)
	s.mux.HandleFunc("GET /api/v1/figures", s.apiFigures)
}

// shiftTimeout bounds one shift action or report.
const shiftTimeout = 10 * time.Second

// shiftProblem turns a shift action's error into a status and a sentence
// for the officer: nothing was recorded.
func shiftProblem(err error) (int, string) {
	sentence := refusalSentence(err)
	switch {
	case errors.Is(err, ErrNotAllowed):
		return http.StatusForbidden, "Not recorded: " + sentence + "."
	case errors.Is(err, wing.ErrNoSignOfLife):
		return http.StatusConflict, "Not recorded: at night a check needs a sign of life. Choose Spoke, Seen moving or Sign of life, or No response if there is none."
	case errors.Is(err, wing.ErrCheckAtDoor):
		return http.StatusConflict, "Not recorded: at night this cell is checked at its door. Turn its reset key at the door, then record the outcome here."
	case errors.Is(err, wing.ErrNoPresence):
		return http.StatusConflict, "Not recorded: no turn of the cell's reset key waits for a check (it waits 15 minutes). Turn the key at the door again, or record the check at the panel."
	case errors.Is(err, wing.ErrNoSuchHandover), errors.Is(err, wing.ErrNoSuchRecord):
		return http.StatusNotFound, "Not recorded: " + sentence + "."
	case errors.Is(err, ErrBadInput):
		return http.StatusBadRequest, "Not recorded: " + sentence + "."
	case errors.Is(err, wing.ErrNoExpectedRoll), errors.Is(err, wing.ErrRollNotReconciled), errors.Is(err, wing.ErrOwnHandover),
		errors.Is(err, wing.ErrNotCorrectable), errors.Is(err, wing.ErrAlreadyStruck):
		return http.StatusConflict, "Not recorded: " + sentence + "."
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "Not recorded: the wing did not answer in time. Look at the screen before trying again."
	}
	return http.StatusInternalServerError, "Not recorded: the wing could not record it. Try again; if it keeps failing, write it on paper as the wing's manual procedure says, and report the fault."
}

// refusalSentence is the sentence of a refusal, or the error's text
// without the package prefixes.
func refusalSentence(err error) string {
	var r *Refusal
	if errors.As(err, &r) && r.Sentence != "" {
		return strings.TrimSuffix(r.Sentence, ".")
	}
	text := err.Error()
	for _, p := range []string{"officer: ", "shift: ", ErrBadInput.Error() + ": ", ErrNotAllowed.Error() + ": "} {
		text = strings.TrimPrefix(text, p)
	}
	return strings.TrimSuffix(text, ".")
}

// shiftTab is one of the shift's pages, in the tab bar of each.
type shiftTab string

const (
	tabChecks   shiftTab = "checks"
	tabRoll     shiftTab = "roll"
	tabHandover shiftTab = "handover"
	tabTimeline shiftTab = "timeline"
	tabFigures  shiftTab = "figures"
)

// shiftTabs are the tab bar's pages, with their words and addresses.
func shiftTabs() []tabLink {
	return []tabLink{
		{tabChecks, "Checks", "/checks"},
		{tabRoll, "Roll", "/roll"},
		{tabHandover, "Handover", "/handover"},
		{tabTimeline, "Timeline", "/timeline"},
		{tabFigures, "Figures", "/figures"},
	}
}

type tabLink struct {
	Tab         shiftTab
	Label, Href string
}

// backQuery carries the page to return to after a correction.
func backQuery(back string) string { return url.Values{"back": {safeNext(back)}}.Encode() }

// shiftRange is the shift the handover and the figures cover by default:
// from the wing's latest handover, or the start of the wing's day (local
// midnight), to now; never longer than the room drafts (shift.MaxRange).
// clipped says the start was moved up to fit.
func (v view) shiftRange() (from, to time.Time, clipped bool) {
	to = v.now.Truncate(time.Second)
	y, m, d := to.In(time.Local).Date()
	from = time.Date(y, m, d, 0, 0, 0, 0, time.Local)
	if h, ok := v.state.LatestHandover(v.layout.ID); ok && !h.To.IsZero() && h.To.Before(to) {
		from = h.To
	}
	if earliest := to.Add(-shift.MaxRange + time.Minute); from.Before(earliest) {
		from, clipped = earliest, true
	}
	if !from.Before(to) {
		from = to.Add(-time.Minute)
	}
	return from, to, clipped
}

// checksBadge is the compact count of this wing's checks for every page's
// alarm bar: overdue ones, those due within checksSoon, and the presences
// at cell doors waiting for their outcome. The bar shows it with
// checksBadgeView, linking to /checks.
type checksBadge struct {
	Overdue   int
	Soon      int
	Presences int
}

// checksSoon is how near a check's due time counts as due soon.
const checksSoon = 15 * time.Minute

// checksBadge counts the wing's checks for the alarm bar.
func (v view) checksBadge() checksBadge {
	var b checksBadge
	for _, c := range v.state.ChecksDue(v.layout.ID, v.now) {
		switch {
		case c.Overdue:
			b.Overdue++
		case c.At.Sub(v.now) <= checksSoon:
			b.Soon++
		}
	}
	b.Presences = len(v.presences())
	return b
}

// presence is a presence at a cell door that waits for its check's
// outcome.
type presence struct {
	Cell string
	Name string
	At   since
	When string // clock time with seconds
}

// presences lists this wing's presences waiting for an outcome, the
// earliest first.
func (v view) presences() []presence {
	var out []presence
	for _, d := range v.layout.Cells("") {
		if p, ok := v.state.PendingPresence(d.ID, v.now); ok {
			out = append(out, presence{Cell: d.ID, Name: doorName(d.Name, d.ID), At: sinceOf(p.At, v.now), When: clockSeconds(p.At)})
		}
	}
	slices.SortStableFunc(out, func(a, b presence) int { return a.At.At.Compare(b.At.At) })
	return out
}

// night reports whether the wing is in its night regime now.
func (v view) night() bool {
	return v.state.RegimeAt(v.layout.ID, v.layout.Schedule, v.now) == wing.Night
}

func doorName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// clockSeconds is a time of day with seconds, in the appliance's local time.
func clockSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.Local).Format("15:04:05")
}

// dateTime is a date and time of day for reports.
func dateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.Local).Format("2 Jan 15:04")
}

// took writes a response time: "35 s", "2 min 10 s", "1 h 05 min".
func took(d time.Duration) string {
	d = max(d, 0).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d/time.Second))
	case d < time.Hour:
		if s := int(d/time.Second) % 60; s != 0 {
			return fmt.Sprintf("%d min %d s", int(d/time.Minute), s)
		}
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
	return fmt.Sprintf("%d h %02d min", int(d/time.Hour), int(d/time.Minute)%60)
}

// outcomeLabel is a check's outcome in words.
func outcomeLabel(o wing.CheckOutcome) string {
	switch o {
	case wing.Spoke:
		return "Spoke"
	case wing.SeenMoving:
		return "Seen moving"
	case wing.SignOfLife:
		return "Sign of life"
	case wing.Seen:
		return "Seen"
	case wing.NoResponse:
		return "NO RESPONSE"
	}
	return string(o)
}

// flagLabel is a plausibility flag in words.
func flagLabel(c wing.Check, flag string) string {
	switch flag {
	case wing.FlagTooFast:
		if c.Needs > 0 {
			return "too fast: " + took(c.Took) + " after the previous check, walking needs " + took(c.Needs)
		}
		return "too fast after the officer's previous check"
	case wing.FlagOtherLanding:
		return "recorded on another landing's screen (" + c.Screen + ")"
	}
	return flag
}

// howLabel says how a check was made.
func howLabel(c wing.Check) string {
	if c.How == wing.CheckedAtDoor {
		return "at the door"
	}
	return "at the panel"
}

// kindLabel is an event's kind in words, for reports.
func eventLabel(k event.Kind) string {
	switch k {
	case event.DoorOpened:
		return "door opened"
	case event.DoorClosed:
		return "door closed"
	case event.DoorLocked:
		return "locked"
	case event.DoorUnlocked:
		return "unlocked"
	case event.AlarmRaised:
		return "ALARM raised"
	case event.AlarmAcknowledged:
		return "acknowledged"
	case event.AlarmAttended:
		return "attended"
	case event.AlarmResolved, event.AlarmCleared:
		return "resolved"
	case event.AlarmClosedRemotely:
		return "closed remotely"
	case event.AlarmEscalated:
		return "ESCALATED"
	case event.ObservationPlanSet:
		return "observation plan set"
	case event.ObservationPlanEnded:
		return "observation plan ended"
	case event.ObservationChecked:
		return "checked"
	case event.ObservationPresence:
		return "officer at the door"
	case event.RollExpectedSet:
		return "expected roll set"
	case event.RollCounted:
		return "landing counted"
	case event.RollSigned:
		return "roll signed"
	case event.HandoverSigned:
		return "handover signed"
	case event.HandoverRead:
		return "handover read"
	case event.RecordCorrected:
		return "record struck"
	}
	return string(k)
}

// printStamp heads a printed page: the wing, when and by whom.
func printStamp(ctx context.Context, wingName string) string {
	s := wingName + " · printed " + time.Now().In(time.Local).Format("2 Jan 2006 15:04")
	if v := visitOf(ctx); v.signedIn {
		s += " by " + v.actor.ID
	}
	return s
}

// contextFor bounds a shift action or report.
func contextFor(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), shiftTimeout)
}

// recordID reads a record's id from the {wing} and {seq} path segments.
func recordID(r *http.Request) (event.ID, error) { return alarmID(r) }
