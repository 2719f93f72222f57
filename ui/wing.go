package ui

import (
	"context"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Wing is what the screens and the API need from the appliance. The
// appliance package implements it; tests may use a real appliance or a
// small in-memory one.
type Wing interface {
	// Officers are the sign-in room and the roster (signin.go).
	Officers
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
	// Acknowledge records that officer acknowledged the alarm. It returns
	// an error wrapping wing.ErrNoSuchAlarm, wing.ErrNotRaised or
	// wing.ErrAlarmCleared when the alarm cannot be acknowledged.
	Acknowledge(ctx context.Context, alarm event.ID, officer string) error
	// Clear records that officer resolved the alarm, with an optional note.
	Clear(ctx context.Context, alarm event.ID, officer, note string) error
	// StartWalkTest starts a walk test run by officer for d (zero: 30
	// minutes; at most 2 hours). While it runs, inputs seen to work are
	// recorded as proven and cell calls are proven without raising alarms.
	StartWalkTest(ctx context.Context, officer string, d time.Duration) error
	// EndWalkTest ends the running walk test, if any.
	EndWalkTest(ctx context.Context, officer string) error
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
	// called when the subscriber is done.
	Subscribe() (events <-chan event.Event, cancel func())
	// Site is this wing's view of the site: the other wings, their links
	// and data age, and whether this wing is isolated. Every open screen
	// calls it every 2 s, and every page calls it once, so it must answer
	// from memory, never waiting on the network.
	Site() SiteStatus
	// SetLockdown declares (active) or ends a site-wide lockdown on behalf of
	// officer. It is agreed through the site, so it fails with a clear error
	// when this wing cannot reach a majority of the site: one wrapping
	// ErrSiteUnreachable. ctx carries a deadline (10 s from the screen and
	// the API), which it must respect. The text of any other error is shown
	// to the officer, so it should say what failed in words. Once it returns
	// nil, Site reports the new lockdown.
	SetLockdown(ctx context.Context, officer string, active bool, reason string) error
}

// ClimateReading is an environment sensor's latest reading.
type ClimateReading struct {
	Sensor       string    `json:"sensor"`
	TemperatureC float64   `json:"temperature_c"`
	HumidityPct  float64   `json:"humidity_pct"`
	At           time.Time `json:"at"` // zero before the first good reading
}
