package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/sync/site"
)

// Site is the wing's site membership as roster changes use it
// (*member.Member).
type Site interface {
	// Propose has the site commit a command; the error wraps
	// site.ErrNoSite when this wing cannot reach a majority of the site.
	Propose(ctx context.Context, c site.Command) error
	// Roster is the roster this wing holds, with the PIN hashes.
	Roster() []roster.Entry
	// Changed is closed the next time the wing applies the site's log.
	Changed() <-chan struct{}
}

// ErrNotAllowed is the error (a *NotAllowedError) of a roster change that
// the officer asking for it may not make.
var ErrNotAllowed = errors.New("signin: not allowed")

// NotAllowedError says why an officer may not make a roster change.
// errors.Is finds ErrNotAllowed in it.
type NotAllowedError struct{ Reason string }

func (e *NotAllowedError) Error() string { return ErrNotAllowed.Error() + ": " + e.Reason }

// Is reports whether target is ErrNotAllowed.
func (e *NotAllowedError) Is(target error) bool { return target == ErrNotAllowed }

// ErrNoSite is wrapped by the error of a roster change while the wing has
// no site membership yet, or cannot reach enough of the site to agree it
// (then it wraps site.ErrNoSite too).
var ErrNoSite = errors.New("signin: the site cannot agree the change now")

// The changes of roster.changed's "change".
const (
	ChangeAdded       = "added"
	ChangeRemoved     = "removed"
	ChangePINReset    = "pin-reset"
	ChangeRoleChanged = "role-changed"
)

func notAllowed(format string, args ...any) error {
	return &NotAllowedError{Reason: fmt.Sprintf(format, args...)}
}

// AddOfficer adds officer id to the site's roster with role and an
// initial PIN, for by: a supervisor or site IT, adding a role up to their
// own.
func (r *Room) AddOfficer(ctx context.Context, by roster.Actor, id string, role roster.Role, pin string) error {
	if !by.Role.Allows(roster.Supervisor) {
		return notAllowed("only a supervisor or site IT adds officers")
	}
	if !by.Role.Allows(role) {
		return notAllowed("a %s adds officers of a role up to their own", by.Role)
	}
	e := roster.Entry{ID: id, Role: role}
	if err := e.Check(); err != nil {
		return err
	}
	if _, ok := r.officer(id); ok {
		return fmt.Errorf("officer %s is already on the roster: reset their PIN or change their role instead", id)
	}
	hash, err := roster.HashPIN(pin)
	if err != nil {
		return fmt.Errorf("the initial PIN: %w", err)
	}
	e.PINHash = hash
	return r.change(ctx, by, site.Command{Op: site.OpOfficerSet, Officer: &e}, e.Actor(), ChangeAdded,
		func(held []roster.Entry) bool { return slices.Contains(held, e) })
}

// RemoveOfficer removes officer id from the site's roster, for by: a
// supervisor or site IT, removing an officer of a role up to their own,
// never themselves.
func (r *Room) RemoveOfficer(ctx context.Context, by roster.Actor, id string) error {
	if !by.Role.Allows(roster.Supervisor) {
		return notAllowed("only a supervisor or site IT removes officers")
	}
	if id == by.ID {
		return notAllowed("an officer cannot remove themselves: ask another supervisor")
	}
	e, ok := r.officer(id)
	if !ok {
		return fmt.Errorf("officer %.70q is not on the roster", id)
	}
	if !by.Role.Allows(e.Role) {
		return notAllowed("a %s cannot remove a %s", by.Role, e.Role)
	}
	return r.change(ctx, by, site.Command{Op: site.OpOfficerRemove, Officer: &roster.Entry{ID: id}}, e.Actor(), ChangeRemoved,
		func(held []roster.Entry) bool {
			return !slices.ContainsFunc(held, func(h roster.Entry) bool { return h.ID == id })
		})
}

// ResetPIN gives officer id a new PIN, for by: a supervisor or site IT,
// for an officer of a role up to their own.
func (r *Room) ResetPIN(ctx context.Context, by roster.Actor, id, pin string) error {
	if !by.Role.Allows(roster.Supervisor) {
		return notAllowed("only a supervisor or site IT resets PINs")
	}
	e, ok := r.officer(id)
	if !ok {
		return fmt.Errorf("officer %.70q is not on the roster", id)
	}
	if !by.Role.Allows(e.Role) {
		return notAllowed("a %s cannot reset the PIN of a %s", by.Role, e.Role)
	}
	hash, err := roster.HashPIN(pin)
	if err != nil {
		return fmt.Errorf("the new PIN: %w", err)
	}
	err = r.change(ctx, by, site.Command{Op: site.OpOfficerPIN, Officer: &roster.Entry{ID: id, PINHash: hash}}, e.Actor(), ChangePINReset,
		func(held []roster.Entry) bool {
			return slices.ContainsFunc(held, func(h roster.Entry) bool { return h.ID == id && h.PINHash == hash })
		})
	if err == nil {
		r.mu.Lock()
		delete(r.failures, id) // a new PIN ends a lock-out
		r.mu.Unlock()
	}
	return err
}

// SetRole changes officer id's role, for by: site IT only.
func (r *Room) SetRole(ctx context.Context, by roster.Actor, id string, role roster.Role) error {
	if by.Role != roster.SiteIT {
		return notAllowed("only site IT changes roles")
	}
	e, ok := r.officer(id)
	if !ok {
		return fmt.Errorf("officer %.70q is not on the roster", id)
	}
	if _, err := roster.ParseRole(string(role)); err != nil {
		return err
	}
	if e.Role == role {
		return nil
	}
	want := roster.Entry{ID: id, Role: role}
	return r.change(ctx, by, site.Command{Op: site.OpOfficerSet, Officer: &want}, want.Actor(), ChangeRoleChanged,
		func(held []roster.Entry) bool {
			return slices.ContainsFunc(held, func(h roster.Entry) bool { return h.ID == id && h.Role == role })
		})
}

// change has the site agree c, waits until this wing holds the result
// (applied says when), and records who changed what. Nothing is recorded
// when the site did not agree.
func (r *Room) change(ctx context.Context, by roster.Actor, c site.Command, officer roster.Actor, what string, applied func([]roster.Entry) bool) error {
	m := r.cfg.Site()
	if m == nil {
		return fmt.Errorf("%w: the site is not running yet on this wing", ErrNoSite)
	}
	c.By = by.ID // the site checks their role again when it applies c
	if err := m.Propose(ctx, c); err != nil {
		if errors.Is(err, site.ErrNoSite) {
			return fmt.Errorf("%w: %w", ErrNoSite, err)
		}
		return fmt.Errorf("the site did not agree the change: %w", err)
	}
	for {
		changed := m.Changed()
		if applied(m.Roster()) {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("the site agreed the change, but this wing has not applied it yet: %w", ctx.Err())
		}
	}
	_, err := r.cfg.Store.Append(ctx, event.Draft{Kind: event.RosterChanged, Subject: officer.ID, Actor: by.ID,
		Data: map[string]string{"officer": officer.ID, "role": string(officer.Role), "change": what}})
	if err != nil {
		return fmt.Errorf("the site agreed the change, but it could not be recorded in this wing's events: %w", err)
	}
	return nil
}
