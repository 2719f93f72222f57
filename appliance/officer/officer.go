// Package officer is what an officer does at the wing's panel: acknowledge
// and resolve alarms, run walk tests, declare and end the site's lockdown.
// Each action is checked against the folded state and recorded with the
// officer as its actor, in the wing's chain or, for the lockdown, agreed
// through the site.
package officer

import (
	"context"
	"errors"
	"fmt"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sync/site"
)

// Store is the event store as officers' actions use it (*store.Store).
type Store interface {
	// Append records a draft and returns once it is on disk.
	Append(ctx context.Context, d event.Draft) (event.Record, error)
}

// Site is the wing's site membership as the lockdown uses it (sync/member).
type Site interface {
	// Status is this wing's view of the site, with the agreed lockdown.
	Status() site.Status
	// Propose has the site commit a command.
	Propose(ctx context.Context, c site.Command) error
	// Changed is closed the next time the wing applies the site's log.
	Changed() <-chan struct{}
}

// Config configures a wing's panel.
type Config struct {
	// Wing is the wing's id.
	Wing string
	// Store records the actions.
	Store Store
	// Read runs f on the wing's folded state under its lock; f must not
	// keep the state.
	Read func(f func(*wing.State))
	// Site returns the wing's site membership, nil while it has none.
	Site func() Site
	// Clock times walk tests and lockdowns; default the real clock.
	Clock clockwork.Clock
}

// Panel is the wing's officer actions.
type Panel struct{ cfg Config }

// New returns the officers' actions of a wing.
func New(cfg Config) *Panel {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Site == nil {
		cfg.Site = func() Site { return nil }
	}
	return &Panel{cfg: cfg}
}

// Acknowledge records that officer acknowledged the alarm. Acknowledging
// an alarm that is already acknowledged records nothing and is not an
// error.
func (p *Panel) Acknowledge(ctx context.Context, id event.ID, officer string) error {
	alarm, err := p.alarmFor(id, officer)
	if err != nil || alarm.Acknowledged != nil {
		return err
	}
	_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.AlarmAcknowledged, Subject: alarm.Point, Actor: officer,
		Data: map[string]string{"alarm": id.String()}})
	return err
}

// Clear records that officer resolved the alarm, with an optional note.
func (p *Panel) Clear(ctx context.Context, id event.ID, officer, note string) error {
	alarm, err := p.alarmFor(id, officer)
	if err != nil {
		return err
	}
	if len(note) > event.MaxNote {
		return fmt.Errorf("officer: the note is %d characters; at most %d", len(note), event.MaxNote)
	}
	data := map[string]string{"alarm": id.String()}
	if note != "" {
		data["note"] = note
	}
	_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.AlarmCleared, Subject: alarm.Point, Actor: officer, Data: data})
	return err
}

func (p *Panel) alarmFor(id event.ID, officer string) (alarm wing.Alarm, err error) {
	if officer == "" {
		return wing.Alarm{}, errors.New("officer: an officer must be named to act on an alarm")
	}
	p.cfg.Read(func(s *wing.State) { alarm, err = s.CanAct(id) })
	return alarm, err
}

// SetLockdown declares (active) or ends the site-wide lockdown on behalf
// of officer. It is agreed through the site: the error wraps
// site.ErrNoSite when this wing cannot reach a majority of the site. Once
// it returns nil, this wing has applied it.
func (p *Panel) SetLockdown(ctx context.Context, officer string, active bool, reason string) error {
	if officer == "" {
		return errors.New("officer: an officer must be named to change the lockdown")
	}
	if len(reason) > event.MaxNote {
		return fmt.Errorf("officer: the reason is %d characters; at most %d", len(reason), event.MaxNote)
	}
	m := p.cfg.Site()
	if m == nil {
		return errors.New("officer: the site is not running yet")
	}
	l := wing.Lockdown{Active: active, Reason: reason, By: officer, Since: p.cfg.Clock.Now().UTC()}
	if err := m.Propose(ctx, site.Command{Op: site.OpLockdown, Lockdown: &l}); err != nil {
		if errors.Is(err, site.ErrNoSite) {
			return err
		}
		return fmt.Errorf("the site did not agree to the change: %w", err)
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
