package ui

import (
	"context"
	"errors"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// Wing is what the screens and the API need from the appliance. The
// appliance package implements it; tests may use a real appliance or a
// small in-memory one.
type Wing interface {
	// Officers are the sign-in room and the roster (signin.go).
	Officers
	// Shift is the officer's shift: checks, the roll, handovers (shift.go).
	Shift
	// Layout is the wing's configuration: doors and alarm points, by landing.
	Layout() config.Wing
	// State is a snapshot of the folded picture, safe to read.
	State() *wing.State
	// Query reads recorded events, newest first. A cursor that is not one
	// of its own for the same filters gives an error wrapping
	// event.ErrBadCursor.
	Query(ctx context.Context, q event.Query) (event.Page, error)
	// Tail reads events in store order after the position after.
	Tail(ctx context.Context, after uint64, limit int) ([]event.Record, error)
	// Acknowledge records that the officer acknowledged the alarm. It
	// returns an error wrapping wing.ErrNoSuchAlarm, wing.ErrNotRaised or
	// wing.ErrAlarmResolved when the alarm cannot be acknowledged.
	Acknowledge(ctx context.Context, alarm event.ID, by roster.Actor) error
	// Attend records that the officer, at the panel, attends the alarm (a
	// staff alarm or a door anomaly); a cell call is attended only at its
	// cell door (wing.ErrAttendAtSource).
	Attend(ctx context.Context, alarm event.ID, by roster.Actor) error
	// Resolve records that the officer resolved the alarm with an outcome
	// from the wing's list (Layout().Outcomes) and an optional note. The
	// alarm must be acknowledged (wing.ErrNotAcknowledged) and a cell call
	// attended at its door (wing.ErrNotAttended).
	Resolve(ctx context.Context, alarm event.ID, by roster.Actor, outcome, note string) error
	// CloseRemotely records that a supervisor closed the alarm without it
	// being attended at its source, with a reason: an exception.
	CloseRemotely(ctx context.Context, alarm event.ID, by roster.Actor, reason string) error
	// StartWalkTest starts a walk test run by a supervisor for d (zero: 30
	// minutes; at most 2 hours) over the points chosen (all when none).
	// While it runs, inputs seen to work are recorded as proven and the
	// cell calls it covers are proven without raising alarms.
	StartWalkTest(ctx context.Context, by roster.Actor, d time.Duration, points wing.WalkTestPoints) error
	// EndWalkTest ends the running walk test, if any.
	EndWalkTest(ctx context.Context, by roster.Actor) error
	// SetRegime puts the wing in a regime (unlock, lockup, night) until
	// its next scheduled change.
	SetRegime(ctx context.Context, by roster.Actor, regime wing.Regime) error
	// Reading returns what an input (a door or lock contact, an alarm
	// button, a reset key switch) reads now: active (open, locked,
	// pressed, turned), and known once read since the appliance started
	// and while it is not faulted. Not every reading is an event (a
	// button's release is not), so a latched alarm's card asks here
	// whether its button is back to normal. It must answer from memory.
	Reading(input string) (active, known bool)
	// Climate returns the latest reading of each environment sensor, in
	// configuration order. Readings are not events: they are not stored.
	Climate() []ClimateReading
	// Recording is nil while the store accepts events, and otherwise says
	// what fails and since when: every screen then says that recording has
	// stopped, and /healthz answers 503.
	Recording() error
	// Subscribe delivers every event after it becomes durable and has been
	// folded into State. The channel is closed when the subscriber falls
	// behind or the appliance stops; a screen then reloads. cancel must be
	// called when the subscriber is done. The events are shared with the
	// other subscribers: read them, never change them.
	Subscribe() (events <-chan *event.Event, cancel func())
	// Site is this wing's view of the site: the other wings, their links
	// and data age, and whether this wing is isolated. Every open screen
	// calls it every 2 s, and every page calls it once, so it must answer
	// from memory, never waiting on the network.
	Site() SiteStatus
	// SetLockdown declares (active) or ends a site-wide lockdown on behalf of
	// a supervisor. It is agreed through the site, so it fails with a clear error
	// when this wing cannot reach a majority of the site: one wrapping
	// ErrSiteUnreachable. ctx carries a deadline (10 s from the screen and
	// the API), which it must respect. The text of any other error is shown
	// to the officer, so it should say what failed in words. Once it returns
	// nil, Site reports the new lockdown.
	SetLockdown(ctx context.Context, by roster.Actor, active bool, reason string) error
}

// ClimateReading is an environment sensor's latest reading.
type ClimateReading struct {
	Sensor       string    `json:"sensor"`
	TemperatureC float64   `json:"temperature_c"`
	HumidityPct  float64   `json:"humidity_pct"`
	At           time.Time `json:"at"` // zero before the first good reading
}

// ErrBadInput is wrapped by an error of Wing for an action whose input
// the appliance refuses (a walk test's points or duration, an unknown
// cell, a plan out of its limits, a note that breaks the rule for text):
// the rest of its text says why, in words for the officer.
var ErrBadInput = errors.New("not done")
