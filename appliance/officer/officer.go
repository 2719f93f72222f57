// Package officer is what officers do at the wing's panel: acknowledge,
// attend and resolve alarms, close a cell call remotely (a supervisor, with
// a reason), run walk tests, set the wing's regime, declare and end the
// site's lockdown; and the shift's work: observation plans and checks, the
// expected roll, landing counts and the signed roll, handovers signed and
// read, corrections. Each action is checked against the signed-in officer's
// role and the folded state, and recorded with the officer as its actor in
// the wing's chain; the lockdown is also agreed through the site.
package officer

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/sync/site"
)

// Store is the event store as officers' actions use it (*store.Store).
type Store interface {
	// Append records a draft and returns once it is on disk.
	Append(ctx context.Context, d event.Draft) (event.Record, error)
	// Get returns the event with the given id, or an error wrapping
	// store.ErrNotFound: the record a correction strikes.
	Get(id event.ID) (event.Record, error)
}

// Site is the wing's site membership as the lockdown uses it (sync/member).
type Site interface {
	// Site is the site's name.
	Site() string
	// Status is this wing's view of the site, with the agreed lockdown.
	Status() site.Status
	// Propose has the site commit a command.
	Propose(ctx context.Context, c site.Command) error
	// Changed is closed the next time the wing applies the site's log.
	Changed() <-chan struct{}
}

// ErrNotAllowed is wrapped by the error of an action the officer's role
// does not allow.
var ErrNotAllowed = errors.New("not allowed for this role")

// ErrBadInput is wrapped by the error of an action whose input is wrong:
// an unknown outcome, a missing reason, a note too long.
var ErrBadInput = errors.New("bad input")

// Config configures a wing's panel.
type Config struct {
	// Wing is the wing's layout: its id, its outcomes, its points.
	Wing config.Wing
	// Store records the actions.
	Store Store
	// Read runs f on the wing's folded state under its lock; f must not
	// keep the state.
	Read func(f func(*wing.State))
	// Site returns the wing's site membership, nil while it has none.
	Site func() Site
	// Clock times walk tests, lockdowns, checks and counts; default the
	// real clock.
	Clock clockwork.Clock
	// Rand draws the due times of checks; default a generator seeded from
	// the operating system's randomness, so no two wings and no restart
	// draw alike. Tests give a seeded one.
	Rand *rand.Rand
}

// Panel is the wing's officer actions.
type Panel struct {
	cfg Config

	mu   sync.Mutex // guards rand
	rand *rand.Rand
}

// New returns the officers' actions of a wing.
func New(cfg Config) *Panel {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Site == nil {
		cfg.Site = func() Site { return nil }
	}
	r := cfg.Rand
	if r == nil {
		var seed [32]byte
		crand.Read(seed[:])
		r = rand.New(rand.NewChaCha8(seed))
	}
	return &Panel{cfg: cfg, rand: r}
}

// allow checks that by is a signed-in officer whose role allows need.
func allow(by roster.Actor, need roster.Role, what string) error {
	if !roster.ValidID(by.ID) || !by.Role.Allows(need) {
		return fmt.Errorf("officer: %s needs a signed-in %s: %w", what, need, ErrNotAllowed)
	}
	return nil
}

// text checks an officer's note or reason against the one rule for text
// (event.CheckText); a required one may not be blank.
func text(what, s string, required bool) error {
	if required && strings.TrimSpace(s) == "" {
		return fmt.Errorf("officer: a %s is needed: %w", what, ErrBadInput)
	}
	if err := event.CheckText(what, s); err != nil {
		return fmt.Errorf("officer: %w: %w", ErrBadInput, err)
	}
	return nil
}

// alarm returns the alarm id if it can be acted on now.
func (p *Panel) alarm(id event.ID) (a wing.Alarm, err error) {
	p.cfg.Read(func(s *wing.State) { a, err = s.Actionable(id) })
	return a, err
}

func (p *Panel) record(ctx context.Context, kind event.Kind, a wing.Alarm, by string, data map[string]string) error {
	data["alarm"] = a.ID.String()
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: kind, Subject: a.Point, Actor: by, Data: data})
	return err
}

// Acknowledge records that the officer acknowledged the alarm. One already
// acknowledged records nothing and is not an error.
func (p *Panel) Acknowledge(ctx context.Context, id event.ID, by roster.Actor) error {
	if err := allow(by, roster.Officer, "acknowledging an alarm"); err != nil {
		return err
	}
	a, err := p.alarm(id)
	if err != nil || a.Acknowledged != nil {
		return err
	}
	return p.record(ctx, event.AlarmAcknowledged, a, by.ID, map[string]string{})
}

// Attend records that the officer, at the panel, is attending the alarm
// (a staff alarm or a door anomaly). A cell call is attended only at its
// cell door, by the reset key switch (wing.ErrAttendAtSource).
func (p *Panel) Attend(ctx context.Context, id event.ID, by roster.Actor) error {
	if err := allow(by, roster.Officer, "attending an alarm"); err != nil {
		return err
	}
	a, err := p.alarm(id)
	if err != nil {
		return err
	}
	if err := a.CanAttendFromPanel(); err != nil {
		return err
	}
	if a.Attended != nil {
		return nil
	}
	return p.record(ctx, event.AlarmAttended, a, by.ID, map[string]string{"how": wing.AttendedFromPanel, "where": "panel of wing " + p.cfg.Wing.ID})
}

// Resolve records that the officer resolved the alarm with an outcome of
// the wing's list and an optional note. The alarm must be acknowledged
// (wing.ErrNotAcknowledged), and a cell call attended at its door
// (wing.ErrNotAttended).
func (p *Panel) Resolve(ctx context.Context, id event.ID, by roster.Actor, outcome, note string) error {
	if err := allow(by, roster.Officer, "resolving an alarm"); err != nil {
		return err
	}
	if !slices.Contains(p.cfg.Wing.Outcomes, outcome) {
		return fmt.Errorf("officer: choose the outcome from the list (%s), not %q: %w", strings.Join(p.cfg.Wing.Outcomes, ", "), outcome, ErrBadInput)
	}
	if err := text("note", note, false); err != nil {
		return err
	}
	a, err := p.alarm(id)
	if err != nil {
		return err
	}
	if err := a.CanResolve(); err != nil {
		return err
	}
	data := map[string]string{"outcome": outcome}
	if note != "" {
		data["note"] = note
	}
	return p.record(ctx, event.AlarmResolved, a, by.ID, data)
}

// CloseRemotely records that a supervisor closed the alarm without it
// being attended at its source, with a reason: an exception, counted in
// the figures.
func (p *Panel) CloseRemotely(ctx context.Context, id event.ID, by roster.Actor, reason string) error {
	if err := allow(by, roster.Supervisor, "closing an alarm remotely"); err != nil {
		return err
	}
	if err := text("reason", reason, true); err != nil {
		return err
	}
	a, err := p.alarm(id)
	if err != nil {
		return err
	}
	return p.record(ctx, event.AlarmClosedRemotely, a, by.ID, map[string]string{"reason": reason})
}

// SetRegime puts the wing in regime until its next scheduled change.
func (p *Panel) SetRegime(ctx context.Context, by roster.Actor, regime wing.Regime) error {
	if err := allow(by, roster.Supervisor, "setting the wing's regime"); err != nil {
		return err
	}
	if _, err := wing.ParseRegime(string(regime)); err != nil {
		return fmt.Errorf("officer: %w: %w", ErrBadInput, err)
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.RegimeSet, Subject: p.cfg.Wing.ID, Actor: by.ID, Data: map[string]string{"regime": string(regime)}})
	return err
}

// SetLockdown declares (active) or ends the site-wide lockdown on behalf
// of a supervisor. It is agreed through the site: the error wraps
// site.ErrNoSite when this wing cannot reach a majority of the site. Once
// agreed, it is recorded in this wing's chain; once it returns nil, this
// wing has applied it.
func (p *Panel) SetLockdown(ctx context.Context, by roster.Actor, active bool, reason string) error {
	what := "declaring a lockdown"
	if !active {
		what = "ending the lockdown"
	}
	if err := allow(by, roster.Supervisor, what); err != nil {
		return err
	}
	if err := text("reason", reason, false); err != nil {
		return err
	}
	m := p.cfg.Site()
	if m == nil {
		return errors.New("officer: the site is not running yet")
	}
	l := wing.Lockdown{Active: active, Reason: reason, By: by.ID, Since: p.cfg.Clock.Now().UTC()}
	if err := m.Propose(ctx, site.Command{Op: site.OpLockdown, By: by.ID, Lockdown: &l}); err != nil {
		if errors.Is(err, site.ErrNoSite) {
			return err
		}
		return fmt.Errorf("the site did not agree to the change: %w", err)
	}
	kind, data := event.LockdownEnded, map[string]string{}
	if active {
		kind, data["reason"] = event.LockdownDeclared, reason
	}
	if _, err := p.cfg.Store.Append(ctx, event.Draft{Kind: kind, Subject: m.Site(), Actor: by.ID, Data: data}); err != nil {
		return fmt.Errorf("the site agreed, but this wing could not record it: %w", err)
	}
	// Committed by the site; wait until this wing has applied it, so the
	// screen that follows shows it.
	for {
		changed := m.Changed()
		if m.Status().Agreed.Lockdown.Since.Equal(l.Since) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}
