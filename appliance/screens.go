package appliance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"periph.io/x/conn/v3/physic"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
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

func (s screens) Subscribe() (<-chan event.Event, func()) { return s.a.picture.Subscribe() }

func (s screens) Recording() error { return s.a.recording.Recording() }

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
	return s.a.panel.StartWalkTest(ctx, by, d, points)
}

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
	for _, w := range st.Wings {
		out.Wings = append(out.Wings, ui.WingLink{Wing: w.Wing, Voter: w.Voter, Committed: w.Committed, LastEvent: lastEvent[w.Wing], Link: ui.Link(w.Link)})
	}
	return out
}
