package officer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/observation"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// cell returns the wing's cell door id.
func (p *Panel) cell(id string) (config.Door, error) {
	d, ok := p.cfg.Wing.Door(id)
	if !ok || d.Kind != config.CellDoor {
		return config.Door{}, fmt.Errorf("officer: wing %s has no cell %q: %w", p.cfg.Wing.ID, id, ErrBadInput)
	}
	return d, nil
}

// regimeAt returns the wing's regime at any time, as its schedule and the
// supervisor's latest setting make it.
func (p *Panel) regimeAt() func(time.Time) wing.Regime {
	st := wing.New()
	p.cfg.Read(func(s *wing.State) {
		if r, ok := s.Regimes[p.cfg.Wing.ID]; ok {
			st.Regimes[p.cfg.Wing.ID] = r
		}
	})
	return func(t time.Time) wing.Regime { return st.RegimeAt(p.cfg.Wing.ID, p.cfg.Wing.Schedule, t) }
}

// draw draws a cell's next due time.
func (p *Panel) draw(d observation.Draw) wing.Due {
	p.mu.Lock()
	defer p.mu.Unlock()
	return d.Next(p.rand)
}

// SetPlan puts a cell on an observation plan, or changes its plan, on
// behalf of a supervisor, with an optional note. The first check is due
// at random within the plan's window from the cell's latest check (from
// now when it has none, or none within the plan's maximum gap).
func (p *Panel) SetPlan(ctx context.Context, by roster.Actor, cell string, plan wing.Plan, note string) error {
	if err := allow(by, roster.Supervisor, "setting an observation plan"); err != nil {
		return err
	}
	if _, err := p.cell(cell); err != nil {
		return err
	}
	if err := plan.Validate(); err != nil {
		return fmt.Errorf("officer: %w: %w", ErrBadInput, err)
	}
	if err := text("note", note, false); err != nil {
		return err
	}
	now := p.cfg.Clock.Now()
	draw := observation.Draw{Plan: plan, From: now, NotBefore: now, Regime: p.regimeAt()}
	p.cfg.Read(func(s *wing.State) {
		if c, ok := s.LastCheck(cell); ok && now.Sub(c.AtCell()) < plan.MaxGap {
			draw.From = c.AtCell()
		}
		draw.Conversations = s.ConversationsOn(cell, now)
	})
	data := plan.Data()
	p.draw(draw).Data(data)
	if note != "" {
		data["note"] = note
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.ObservationPlanSet, Subject: cell, Actor: by.ID, Data: data})
	return err
}

// EndPlan takes a cell off its observation plan on behalf of a
// supervisor, with an optional reason; a cell on no plan records nothing.
func (p *Panel) EndPlan(ctx context.Context, by roster.Actor, cell, reason string) error {
	if err := allow(by, roster.Supervisor, "ending an observation plan"); err != nil {
		return err
	}
	if _, err := p.cell(cell); err != nil {
		return err
	}
	if err := text("reason", reason, false); err != nil {
		return err
	}
	onPlan := false
	p.cfg.Read(func(s *wing.State) { onPlan = s.Observations[cell].Plan != nil })
	if !onPlan {
		return nil
	}
	data := map[string]string{}
	if reason != "" {
		data["reason"] = reason
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.ObservationPlanEnded, Subject: cell, Actor: by.ID, Data: data})
	return err
}

// RecordCheck records an officer's check of a cell and returns it. When
// a presence at the cell door waits for it (its reset key switch was
// turned within wing.PresenceWindow), it is a check proven at the door.
// At night a check needs a sign of life (wing.ErrNoSignOfLife) and a cell
// with a reset key switch is checked at its door (wing.ErrCheckAtDoor);
// no response is recorded and alarmed wherever it is entered.
// A check recorded sooner after the officer's previous one than walking
// between the cells allows, or on another landing's screen, is flagged.
// For a cell on a plan, the next check's due time is drawn and recorded
// with it. No response raises a priority-1 alarm at once.
func (p *Panel) RecordCheck(ctx context.Context, by roster.Actor, c wing.CheckEntry) (wing.Check, error) {
	if err := allow(by, roster.Officer, "recording a check"); err != nil {
		return wing.Check{}, err
	}
	if _, err := p.cell(c.Cell); err != nil {
		return wing.Check{}, err
	}
	if _, err := wing.ParseCheckOutcome(string(c.Outcome)); err != nil {
		return wing.Check{}, fmt.Errorf("officer: %w: %w", ErrBadInput, err)
	}
	if err := text("note", c.Note, false); err != nil {
		return wing.Check{}, err
	}
	if c.Screen != "" && len(p.cfg.Wing.Cells(c.Screen)) == 0 {
		return wing.Check{}, fmt.Errorf("officer: wing %s has no landing %q with cells for the screen: %w", p.cfg.Wing.ID, c.Screen, ErrBadInput)
	}
	now := p.cfg.Clock.Now()
	regimeAt := p.regimeAt()
	regime := regimeAt(now)
	var (
		presence  wing.Presence
		atDoor    bool
		plan      *wing.PlanRecord
		due       wing.Due
		last      wing.Check
		hasLast   bool
		prev      *wing.CheckRef
		spoken    int
		answering bool
	)
	p.cfg.Read(func(s *wing.State) {
		presence, atDoor = s.PendingPresence(c.Cell, now)
		if pl := s.Observations[c.Cell].Plan; pl != nil {
			cp := *pl
			plan = &cp
			due, _ = s.NextDue(c.Cell)
		}
		last, hasLast = s.LastCheck(c.Cell)
		if r, ok := s.CheckedBy[by.ID]; ok {
			prev = &r
		}
		spoken = s.ConversationsOn(c.Cell, now)
		_, answering = s.ActiveAlarmOf(c.Cell, wing.CheckNoResponse)
	})
	call, ok := p.cfg.Wing.CellCall(c.Cell)
	hasReset := ok && call.Reset != nil
	switch {
	case regime == wing.Night && !c.Outcome.IsSignOfLife() && c.Outcome != wing.NoResponse:
		return wing.Check{}, fmt.Errorf("officer: cell %s: %w: record spoke, seen moving or sign of life, or no response if there is none", c.Cell, wing.ErrNoSignOfLife)
	case c.AtDoor && !atDoor:
		return wing.Check{}, fmt.Errorf("officer: cell %s: %w: turn its reset key at the door first", c.Cell, wing.ErrNoPresence)
	case regime == wing.Night && hasReset && !atDoor && c.Outcome != wing.NoResponse: // no response is never held up
		return wing.Check{}, fmt.Errorf("officer: cell %s: %w: turn its reset key at the door, then record the outcome", c.Cell, wing.ErrCheckAtDoor)
	}

	data := map[string]string{"outcome": string(c.Outcome), "how": wing.CheckedAtPanel, "regime": string(regime)}
	atCell := now
	if atDoor {
		atCell = presence.At
		data["how"], data["presence"], data["presence_at"] = wing.CheckedAtDoor, presence.ID.String(), presence.At.UTC().Format(time.RFC3339Nano)
	}
	if c.Note != "" {
		data["note"] = c.Note
	}
	if c.Screen != "" {
		data["screen"] = c.Screen
	}
	judged := observation.Walk{Layout: p.cfg.Wing}.Judge(c.Cell, atCell, c.Screen, prev)
	if len(judged.Flags) > 0 {
		data["flags"] = strings.Join(judged.Flags, ",")
	}
	if judged.Needs > 0 {
		data["previous"], data["took"], data["needs"] = prev.ID.String(), judged.Took.String(), judged.Needs.String()
	}
	if plan != nil {
		data["due"] = due.At.UTC().Format(time.RFC3339)
		if atCell.After(due.At) {
			data["late"] = "true"
		}
		draw := observation.Draw{Plan: plan.Plan, From: atCell, NotBefore: now, Conversations: spoken, Regime: regimeAt}
		if c.Outcome == wing.Spoke {
			draw.Conversations++
		}
		if hasLast && last.Key.Compare(plan.Key) > 0 && !last.Next.At.IsZero() {
			draw.Previous = last.Next.At.Sub(last.AtCell())
		}
		p.draw(draw).Data(data)
	}
	rec, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.ObservationChecked, Subject: c.Cell, Actor: by.ID, Data: data})
	if err != nil {
		return wing.Check{}, err
	}
	check := wing.CheckFromEvent(rec.Event)
	if c.Outcome == wing.NoResponse && !answering {
		_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.AlarmRaised, Subject: c.Cell, Actor: by.ID,
			Data: map[string]string{"point_kind": wing.CheckNoResponse, "priority": "1", "check": check.ID.String()}})
		if err != nil {
			return check, fmt.Errorf("officer: the check is recorded but its alarm is not: raise the alarm by hand: %w", err)
		}
	}
	return check, nil
}

// SetExpectedRoll sets cells' expected roll on behalf of a supervisor:
// how many prisoners are on the roll in each, and how many are out of the
// wing, with why. Every entry is checked before any is recorded; a cell
// whose roll is unchanged records nothing.
func (p *Panel) SetExpectedRoll(ctx context.Context, by roster.Actor, rolls map[string]wing.CellRoll) error {
	if err := allow(by, roster.Supervisor, "setting the expected roll"); err != nil {
		return err
	}
	for cell := range rolls {
		if _, err := p.cell(cell); err != nil {
			return err
		}
	}
	var drafts []event.Draft
	for _, d := range p.cfg.Wing.Cells("") { // the wing's order, whatever the map's
		r, ok := rolls[d.ID]
		if !ok {
			continue
		}
		switch {
		case r.Occupants < 0 || r.Occupants > wing.MaxOccupants:
			return fmt.Errorf("officer: cell %s: from 0 to %d occupants, not %d: %w", d.ID, wing.MaxOccupants, r.Occupants, ErrBadInput)
		case r.Out < 0 || r.Out > r.Occupants:
			return fmt.Errorf("officer: cell %s: from 0 to its %d occupants may be out, not %d: %w", d.ID, r.Occupants, r.Out, ErrBadInput)
		}
		if err := text("reason", r.Reason, r.Out > 0); err != nil {
			return fmt.Errorf("cell %s: %w", d.ID, err)
		}
		if r.Out == 0 {
			r.Reason = ""
		}
		unchanged := false
		p.cfg.Read(func(s *wing.State) { old, ok := s.Roll[d.ID]; unchanged = ok && old.CellRoll == r })
		if unchanged {
			continue
		}
		data := map[string]string{"occupants": strconv.Itoa(r.Occupants)}
		if r.Out > 0 {
			data["out"], data["reason"] = strconv.Itoa(r.Out), r.Reason
		}
		drafts = append(drafts, event.Draft{Kind: event.RollExpectedSet, Subject: d.ID, Actor: by.ID, Data: data})
	}
	for _, d := range drafts {
		if _, err := p.cfg.Store.Append(ctx, d); err != nil {
			return err
		}
	}
	return nil
}
