package appliance

import (
	"context"
	"strconv"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
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
		lookup = func(name string) gpio.PinIO { return gpioreg.ByName(name) }
	}
	readings := make(chan sensors.Reading, 1024)
	wg.Go(func() {
		if err := sensors.Watch(ctx, pointsOf(a.layout), sensors.Options{Lookup: lookup, Clock: a.cfg.Clock}, readings); err != nil {
			a.log.Error("inputs", "err", err)
		}
	})
	wg.Go(func() { a.record(ctx, readings) })
}

// Sim returns the simulated hardware when Config.Simulate is set, so tests
// and the bench can open a door; nil otherwise.
func (a *Appliance) Sim() *simulate.Sim { return a.sim }

func simInputs(w config.Wing) []simulate.Input {
	var out []simulate.Input
	for _, d := range w.Doors {
		out = append(out, simulate.Input{Pin: d.Input.Pin, Kind: simulate.DoorContact, ActiveLow: d.Input.ActiveLow, Landing: d.Landing, Cell: d.Kind == config.CellDoor})
	}
	for _, p := range w.AlarmPoints {
		out = append(out, simulate.Input{Pin: p.Input.Pin, Kind: simulate.Button, ActiveLow: p.Input.ActiveLow, Landing: p.Landing, Cell: p.Kind == config.CellCall})
	}
	return out
}

// inputMemory is what the recorder last submitted for one input, so that
// it records changes, not repeats, even before they are folded.
type inputMemory struct {
	known   bool // a state has been recorded
	active  bool
	faulted bool
}

// record turns readings into events. It submits without waiting for each
// fsync, so a burst of edges shares transactions, and in order, so a
// door's open and close are never swapped.
func (a *Appliance) record(ctx context.Context, readings <-chan sensors.Reading) {
	doors := map[string]bool{}
	for _, d := range a.layout.Doors {
		doors[d.ID] = true
	}
	points := map[string]config.AlarmPoint{}
	for _, p := range a.layout.AlarmPoints {
		points[p.ID] = p
	}
	memory := map[string]*inputMemory{}
	s := a.State()
	for id := range doors {
		m := &inputMemory{}
		if d, ok := s.Doors[id]; ok {
			m.known, m.active = true, d.Open
		}
		memory[id] = m
	}
	for id := range points {
		memory[id] = &inputMemory{known: true} // buttons rest released
	}
	for id, in := range s.Inputs {
		if m, ok := memory[id]; ok {
			m.faulted = in.Faulted
		}
	}

	type submitted struct {
		draft   event.Draft
		pending *store.Pending
	}
	waits := make(chan submitted, 1024)
	var waiter sync.WaitGroup
	waiter.Go(func() {
		for w := range waits {
			if _, err := w.pending.Wait(); err != nil {
				a.failed(w.draft, err)
			}
		}
	})
	defer func() {
		close(waits)
		waiter.Wait()
	}()
	submit := func(d event.Draft) {
		d.Actor = event.SystemActor
		p, err := a.store.Submit(ctx, d)
		if err != nil {
			a.failed(d, err)
			return
		}
		waits <- submitted{d, p}
	}

	for {
		var r sensors.Reading
		select {
		case <-ctx.Done():
			return
		case r = <-readings:
		}
		m := memory[r.Point]
		if m == nil {
			continue
		}
		if r.Fault != "" {
			if !m.faulted {
				m.faulted, m.known = true, false
				submit(event.Draft{Kind: event.InputFault, Subject: r.Point, Data: map[string]string{"fault": r.Fault, "detail": r.Detail}})
			}
			continue
		}
		if m.faulted {
			m.faulted = false
			submit(event.Draft{Kind: event.InputRestored, Subject: r.Point})
		}
		if doors[r.Point] {
			if !m.known || m.active != r.Active {
				m.known, m.active = true, r.Active
				k := event.DoorClosed
				if r.Active {
					k = event.DoorOpened
				}
				submit(event.Draft{Kind: k, Subject: r.Point})
			}
			continue
		}
		pressed := r.Active && !m.active
		m.known, m.active = true, r.Active
		if pressed && a.claimRaise(r.Point) {
			p := points[r.Point]
			submit(event.Draft{Kind: event.AlarmRaised, Subject: r.Point,
				Data: map[string]string{"point_kind": string(p.Kind), "priority": strconv.Itoa(p.Priority)}})
		}
	}
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
