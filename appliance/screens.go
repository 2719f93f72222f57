package appliance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"periph.io/x/conn/v3/physic"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/officer"
	"wingnode/appliance/roster"
	"wingnode/appliance/shift"
	"wingnode/appliance/signin"
	"wingnode/appliance/wing"
	"wingnode/sync/site"
	"wingnode/ui"
)

// screens is what the appliance gives the screens (ui.Wing): each method
// hands on to the room that does the job.
type screens struct{ a *Appliance }

var _ ui.Wing = screens{}

func (s screens) Layout() config.Wing { return s.a.layout }

func (s screens) State() *wing.State { return s.a.picture.State() }

func (s screens) Query(_ context.Context, q event.Query) (event.Page, error) {
	return s.a.store.Query(q)
}

func (s screens) Tail(_ context.Context, after uint64, limit int) ([]event.Record, error) {
	return s.a.store.Tail(after, limit)
}

func (s screens) Subscribe() (<-chan *event.Event, func()) { return s.a.picture.Subscribe() }

func (s screens) Recording() error { return s.a.recording.Recording() }

func (s screens) Reading(input string) (active, known bool) { return s.a.recording.Reading(input) }

func (s screens) Acknowledge(ctx context.Context, id event.ID, by roster.Actor) error {
	return s.a.panel.Acknowledge(ctx, id, by)
}

func (s screens) Attend(ctx context.Context, id event.ID, by roster.Actor) error {
	return s.a.panel.Attend(ctx, id, by)
}

func (s screens) Resolve(ctx context.Context, id event.ID, by roster.Actor, outcome, note string) error {
	return s.a.panel.Resolve(ctx, id, by, outcome, note)
}

func (s screens) CloseRemotely(ctx context.Context, id event.ID, by roster.Actor, reason string) error {
	return s.a.panel.CloseRemotely(ctx, id, by, reason)
}

func (s screens) StartWalkTest(ctx context.Context, by roster.Actor, d time.Duration, points wing.WalkTestPoints) error {
	return badInput(s.a.panel.StartWalkTest(ctx, by, d, points))
}

// badInput is an officer's action refused for its input, in the screens'
// terms (ui.ErrBadInput, saying what was wrong without the room's
// prefix), still wrapping the room's error.
func badInput(err error) error {
	if !errors.Is(err, officer.ErrBadInput) {
		return err
	}
	why := strings.TrimSuffix(strings.TrimPrefix(err.Error(), "officer: "), ": "+officer.ErrBadInput.Error())
	return badInputError{why: why, err: err}
}

type badInputError struct {
	why string
	err error
}

func (e badInputError) Error() string   { return ui.ErrBadInput.Error() + ": " + e.why }
func (e badInputError) Unwrap() []error { return []error{ui.ErrBadInput, e.err} }

func (s screens) EndWalkTest(ctx context.Context, by roster.Actor) error {
	return s.a.panel.EndWalkTest(ctx, by)
}

func (s screens) SetRegime(ctx context.Context, by roster.Actor, regime wing.Regime) error {
	return s.a.panel.SetRegime(ctx, by, regime)
}

func (s screens) SetLockdown(ctx context.Context, by roster.Actor, active bool, reason string) error {
	err := s.a.panel.SetLockdown(ctx, by, active, reason)
	if errors.Is(err, site.ErrNoSite) {
		return fmt.Errorf("%w: %w", ui.ErrSiteUnreachable, err)
	}
	return err
}

// Climate gives each sensor's latest reading in the screens' units.
func (s screens) Climate() []ui.ClimateReading {
	var out []ui.ClimateReading
	for _, r := range s.a.hardware.Climate() {
		out = append(out, ui.ClimateReading{Sensor: r.Sensor, At: r.At,
			TemperatureC: r.Temperature.Celsius(), HumidityPct: float64(r.Humidity) / float64(physic.PercentRH)})
	}
	return out
}

// Site is this wing's view of its site, with each wing's data age from
// the folded state; a wing with no site yet shows itself alone.
func (s screens) Site() ui.SiteStatus {
	lastEvent := map[string]time.Time{}
	s.a.picture.Read(func(st *wing.State) {
		for w, c := range st.Wings {
			lastEvent[w] = c.LastEvent
		}
	})
	id := s.a.layout.ID
	m := s.a.member.Load()
	if m == nil {
		local := ui.WingLink{Wing: id, Link: ui.LinkLocal, Voter: true, LastEvent: lastEvent[id]}
		return ui.SiteStatus{Wing: id, Leader: id, Wings: []ui.WingLink{local}}
	}
	st := m.Status()
	out := ui.SiteStatus{
		Site: m.Site(), Wing: st.Wing, Leader: st.Leader, Isolated: st.Isolated, IsolatedSince: st.IsolatedSince, Waiting: st.Waiting,
		Lockdown: st.Agreed.Lockdown, Rollout: st.Agreed.Rollout,
	}
	for _, r := range st.Agreed.Refused {
		out.Refused = append(out.Refused, ui.RefusedCommand{Index: r.Index, Op: r.Op, From: r.From, By: r.By, Reason: r.Reason, At: r.At})
	}
	for _, w := range st.Wings {
		out.Wings = append(out.Wings, ui.WingLink{Wing: w.Wing, Voter: w.Voter, Committed: w.Committed, LastEvent: lastEvent[w.Wing], Link: ui.Link(w.Link)})
	}
	return out
}

// SignIn hands on to the sign-in room, in the screens' errors.
func (s screens) SignIn(ctx context.Context, id, pin string) (roster.Actor, error) {
	a, err := s.a.signin.SignIn(ctx, id, pin)
	var locked *signin.LockedOutError
	switch {
	case errors.Is(err, signin.ErrRefused):
		return a, fmt.Errorf("%w: %w", ui.ErrSignInRefused, err)
	case errors.As(err, &locked):
		return a, &ui.LockedOutError{Officer: locked.Officer, Until: locked.Until}
	}
	return a, err
}

func (s screens) SignOut(ctx context.Context, a roster.Actor, reason string) error {
	return s.a.signin.SignOut(ctx, a, reason)
}

// Roster is the roster the wing holds, without the PIN hashes; none while
// the wing has no site membership.
func (s screens) Roster() []roster.Actor {
	m := s.a.member.Load()
	if m == nil {
		return nil
	}
	return site.Roster(m.Roster()).Actors()
}

func (s screens) AddOfficer(ctx context.Context, by roster.Actor, id string, role roster.Role, pin string) error {
	return rosterError(s.a.signin.AddOfficer(ctx, by, id, role, pin))
}

func (s screens) RemoveOfficer(ctx context.Context, by roster.Actor, id string) error {
	return rosterError(s.a.signin.RemoveOfficer(ctx, by, id))
}

func (s screens) ResetPIN(ctx context.Context, by roster.Actor, id, pin string) error {
	return rosterError(s.a.signin.ResetPIN(ctx, by, id, pin))
}

func (s screens) SetRole(ctx context.Context, by roster.Actor, id string, role roster.Role) error {
	return rosterError(s.a.signin.SetRole(ctx, by, id, role))
}

// rosterError is a roster change's error in the screens' terms.
func rosterError(err error) error {
	var refused *signin.NotAllowedError
	switch {
	case errors.As(err, &refused):
		return fmt.Errorf("%w: %s", ui.ErrNotAllowed, refused.Reason)
	case errors.Is(err, signin.ErrNoSite):
		return fmt.Errorf("%w: %w", ui.ErrSiteUnreachable, err)
	}
	return err
}

// The officer's shift (ui.Shift): the panel records, the shift room
// drafts; the panel's refusals reach the screens as *ui.Refusal, with the
// sentence to show.

func (s screens) SetPlan(ctx context.Context, by roster.Actor, cell string, plan wing.Plan, note string) error {
	return shiftError(s.a.panel.SetPlan(ctx, by, cell, plan, note))
}

func (s screens) EndPlan(ctx context.Context, by roster.Actor, cell, reason string) error {
	return shiftError(s.a.panel.EndPlan(ctx, by, cell, reason))
}

func (s screens) RecordCheck(ctx context.Context, by roster.Actor, c wing.CheckEntry) (wing.Check, error) {
	check, err := s.a.panel.RecordCheck(ctx, by, c)
	return check, shiftError(err)
}

func (s screens) SetExpectedRoll(ctx context.Context, by roster.Actor, rolls map[string]wing.CellRoll) error {
	return shiftError(s.a.panel.SetExpectedRoll(ctx, by, rolls))
}

func (s screens) CountLanding(ctx context.Context, by roster.Actor, landing string, counted int) (wing.Count, error) {
	c, err := s.a.panel.CountLanding(ctx, by, landing, counted)
	return c, shiftError(err)
}

func (s screens) SignRoll(ctx context.Context, by roster.Actor) (wing.RollSign, error) {
	r, err := s.a.panel.SignRoll(ctx, by)
	return r, shiftError(err)
}

func (s screens) SignHandover(ctx context.Context, by roster.Actor, h wing.HandoverEntry) (event.ID, error) {
	id, err := s.a.panel.SignHandover(ctx, by, h)
	return id, shiftError(err)
}

func (s screens) ReadHandover(ctx context.Context, by roster.Actor, id event.ID) error {
	return shiftError(s.a.panel.ReadHandover(ctx, by, id))
}

func (s screens) Correct(ctx context.Context, by roster.Actor, id event.ID, reason string) error {
	return shiftError(s.a.panel.Correct(ctx, by, id, reason))
}

func (s screens) HandoverDraft(ctx context.Context, from, to time.Time) (shift.Draft, error) {
	return s.a.shift.Draft(ctx, from, to)
}

func (s screens) Figures(ctx context.Context, wingID string, from, to time.Time) (shift.Figures, error) {
	return s.a.shift.Figures(ctx, wingID, from, to)
}

func (s screens) Timeline(ctx context.Context, req shift.TimelineRequest) (shift.Timeline, error) {
	return s.a.shift.Timeline(ctx, req)
}

func (s screens) CheckHistory(ctx context.Context, cell string, limit int) ([]shift.CheckItem, error) {
	return s.a.shift.CheckHistory(ctx, cell, limit)
}

// shiftError is a panel's refusal as the screens take it: the sentence
// without the package's prefix and the sentinel's suffix, wrapping
// ui.ErrNotAllowed or ui.ErrBadInput for the panel's own two, and the
// panel's error (and so the wing's sentinels) in any case. A store's
// failure is passed on as it is.
func shiftError(err error) error {
	if err == nil {
		return nil
	}
	var kind error
	switch {
	case errors.Is(err, officer.ErrNotAllowed):
		kind = ui.ErrNotAllowed
	case errors.Is(err, officer.ErrBadInput):
		kind = ui.ErrBadInput
	case !isShiftRefusal(err):
		return err
	}
	text := strings.TrimPrefix(err.Error(), "officer: ")
	for _, sentinel := range []error{officer.ErrNotAllowed, officer.ErrBadInput} {
		text = strings.ReplaceAll(text, ": "+sentinel.Error(), "")
	}
	return &ui.Refusal{Kind: kind, Sentence: text, Err: err}
}

// isShiftRefusal reports whether err is the panel refusing a record on
// the wing's rules, rather than failing to record it.
func isShiftRefusal(err error) bool {
	for _, e := range []error{wing.ErrNoSignOfLife, wing.ErrCheckAtDoor, wing.ErrNoPresence, wing.ErrNoExpectedRoll,
		wing.ErrRollNotReconciled, wing.ErrNoSuchHandover, wing.ErrOwnHandover, wing.ErrNoSuchRecord, wing.ErrNotCorrectable,
		wing.ErrAlreadyStruck} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
