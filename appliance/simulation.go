package appliance

import (
	"context"
	"time"

	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// simulatedStaff is the simulated wing's supervisor and officer: they take
// the scenario's regime, check, count and sign steps on the panel, as
// people on the wing would. A check or count the panel refuses (a night
// check without its presence at the door, a roll that does not reconcile)
// is logged and the day goes on, as it would on a wing.
type simulatedStaff struct {
	a   *Appliance
	ctx context.Context
}

var (
	simulatedSupervisor = roster.Actor{ID: SimulatedSupervisor, Role: roster.Supervisor}
	simulatedOfficer    = roster.Actor{ID: SimulatedOfficer, Role: roster.Officer}
)

func (s simulatedStaff) SetRegime(regime string) error {
	return s.a.panel.SetRegime(s.ctx, simulatedSupervisor, wing.Regime(regime))
}

func (s simulatedStaff) Check(cell, outcome string) error {
	entry := wing.CheckEntry{Cell: cell, Outcome: wing.CheckOutcome(outcome)}
	if d, ok := s.a.layout.Door(cell); ok {
		entry.Screen = d.Landing // the screen on the cell's landing
	}
	if _, err := s.a.panel.RecordCheck(s.ctx, simulatedOfficer, entry); err != nil && s.ctx.Err() == nil {
		s.a.log.Warn("the simulated officer's check was refused", "cell", cell, "outcome", outcome, "err", err)
	}
	return nil
}

func (s simulatedStaff) Count(landing string, counted int) error {
	if _, err := s.a.panel.CountLanding(s.ctx, simulatedOfficer, landing, counted); err != nil && s.ctx.Err() == nil {
		s.a.log.Warn("the simulated officer's count was refused", "landing", landing, "err", err)
	}
	return nil
}

func (s simulatedStaff) SignRoll() error {
	if _, err := s.a.panel.SignRoll(s.ctx, simulatedSupervisor); err != nil && s.ctx.Err() == nil {
		s.a.log.Warn("the simulated roll was not signed", "err", err)
	}
	return nil
}

// simulatedPlans are the observation plans of the simulated wing's cells
// (the built-in scenario checks them), by cell within the wing.
func simulatedPlans() map[string]wing.Plan {
	return map[string]wing.Plan{
		"1-07": {DayPerHour: 2, NightPerHour: 4, ConversationsPerDay: 3, MaxGap: 30 * time.Minute},
		"2-16": {DayPerHour: 1, NightPerHour: 2, ConversationsPerDay: 2, MaxGap: time.Hour},
		"3-03": {DayPerHour: 4, NightPerHour: 4, ConversationsPerDay: 4, MaxGap: 15 * time.Minute},
	}
}

// simulatedRoll is how the simulated wing's expected roll differs from
// one prisoner in each cell, by cell within the wing.
func simulatedRoll() map[string]wing.CellRoll {
	return map[string]wing.CellRoll{
		"1-06": {Occupants: 0},
		"1-15": {Occupants: 1, Out: 1, Reason: "hospital"},
		"2-09": {Occupants: 2},
		"3-04": {Occupants: 1, Out: 1, Reason: "court"},
		"3-20": {Occupants: 0},
	}
}

// seedSimulatedShift puts the simulated wing's cells on their observation
// plans and sets its expected roll, as its supervisor, when the wing has
// none yet: a first start, or a store from before.
func (a *Appliance) seedSimulatedShift(ctx context.Context) {
	id := a.layout.ID
	planned, rolled := false, false
	a.picture.Read(func(s *wing.State) {
		for _, o := range s.Observations {
			planned = planned || o.Wing == id && o.Plan != nil
		}
		for _, r := range s.Roll {
			rolled = rolled || r.Wing == id
		}
	})
	if !planned {
		for cell, plan := range simulatedPlans() {
			if _, ok := a.layout.Door(id + cell); !ok {
				continue
			}
			if err := a.panel.SetPlan(ctx, simulatedSupervisor, id+cell, plan, "simulated ACCT"); err != nil {
				a.log.Warn("the simulated wing's observation plan was not set", "cell", id+cell, "err", err)
			}
		}
	}
	if !rolled {
		roll := map[string]wing.CellRoll{}
		differ := simulatedRoll()
		for _, d := range a.layout.Cells("") {
			roll[d.ID] = wing.CellRoll{Occupants: 1}
			if r, ok := differ[d.ID[len(id):]]; ok {
				roll[d.ID] = r
			}
		}
		if err := a.panel.SetExpectedRoll(ctx, simulatedSupervisor, roll); err != nil {
			a.log.Warn("the simulated wing's expected roll was not set", "err", err)
		}
	}
}
