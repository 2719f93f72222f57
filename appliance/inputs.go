package appliance

import (
	"context"
	"sync"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/sensors"
	"wingnode/sensors/simulate"
)

// startHardware starts the simulated activity (when simulating), the
// input watchers and the loop that turns their readings into events.
func (a *Appliance) startHardware(ctx context.Context, wg *sync.WaitGroup) {
	if a.sim != nil && a.cfg.SimulatedActivity {
		wg.Go(func() { a.sim.Run(ctx) })
	}
	lookup := a.cfg.PinByName
	if lookup == nil {
		lookup = sensors.PinByName
	}
	readings := make(chan sensors.Reading, 1024)
	wg.Go(func() {
		if err := sensors.Watch(ctx, pointsOf(a.layout), sensors.Options{Lookup: lookup, Clock: a.cfg.Clock}, readings); err != nil {
			a.log.Error("inputs", "err", err)
		}
	})
	wg.Go(func() { newRecorder(a).run(ctx, readings) })
}

// Sim returns the simulated hardware when Config.Simulate is set, so tests
// and the bench can open a door; nil otherwise.
func (a *Appliance) Sim() *simulate.Sim { return a.sim }

func simInputs(w config.Wing) []simulate.Input {
	var out []simulate.Input
	for _, d := range w.Doors {
		if d.Input.ADC == nil {
			out = append(out, simulate.Input{Pin: d.Input.Pin, Kind: simulate.DoorContact, ActiveLow: d.Input.ActiveLow, Landing: d.Landing, Cell: d.Kind == config.CellDoor})
		}
		if d.Lock != nil {
			// A lock contact is simulated as a contact no activity moves.
			out = append(out, simulate.Input{Pin: d.Lock.Pin, Kind: simulate.DoorContact, ActiveLow: d.Lock.ActiveLow})
		}
	}
	for _, p := range w.AlarmPoints {
		if p.Input.ADC == nil {
			out = append(out, simulate.Input{Pin: p.Input.Pin, Kind: simulate.Button, ActiveLow: p.Input.ActiveLow, Landing: p.Landing, Cell: p.Kind == config.CellCall})
		}
	}
	return out
}

// claimRaise reports whether a press of point should raise a new alarm:
// not while one is active or already on its way to the store.
func (a *Appliance) claimRaise(point string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, active := a.state.ActiveAlarmOn(point); active || a.pending[point] {
		return false
	}
	a.pending[point] = true
	return true
}

// failed reports an input event the store refused, and lets a press of
// the same alarm point raise again.
func (a *Appliance) failed(d event.Draft, err error) {
	a.log.Error("an input event could not be stored", "kind", d.Kind, "subject", d.Subject, "err", err)
	if d.Kind == event.AlarmRaised {
		a.mu.Lock()
		delete(a.pending, d.Subject)
		a.mu.Unlock()
	}
}
