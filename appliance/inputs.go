package appliance

import (
	"context"
	"sync"

	"periph.io/x/conn/v3/gpio"

	"wingnode/sensors"
)

// startHardware starts the simulated activity (when simulating), the
// input watchers, the supervised lines and environment sensors, the
// annunciators, and the loop that turns readings into events. Each runs
// guarded: a panic puts the annunciators in their safe state first.
func (a *Appliance) startHardware(ctx context.Context, wg *sync.WaitGroup) {
	if a.sim != nil && a.cfg.SimulatedActivity {
		wg.Go(a.guard(func() { a.sim.play(ctx, a.cfg.Scenario, a.layout.ID, a.cfg.Clock, a.log) }))
	}
	readings := make(chan sensors.Reading, 1024)
	wg.Go(a.guard(func() {
		if err := sensors.Watch(ctx, pointsOf(a.layout), sensors.Options{Lookup: a.pinByName, Clock: a.cfg.Clock}, readings); err != nil {
			a.log.Error("inputs", "err", err)
		}
	}))
	b := newBuses(a.cfg.OpenI2C)
	var i2c sync.WaitGroup
	i2c.Go(a.guard(func() { a.watchLines(ctx, b, readings) }))
	i2c.Go(a.guard(func() { a.watchClimate(ctx, b) }))
	wg.Go(func() {
		i2c.Wait()
		if err := b.Close(); err != nil {
			a.log.Warn("I2C buses", "err", err)
		}
	})
	wg.Go(a.guard(func() { a.annunciators(ctx) }))
	wg.Go(a.guard(func() { newRecorder(a).run(ctx, readings) }))
	wg.Go(a.guard(func() { a.storeHeld(ctx) }))
}

// guard wraps f so that a panic in it puts the annunciators in their safe
// state (off) before the panic goes on and ends the process. A panic
// elsewhere, a kill or a power cut leaves the GPIO lines undriven, which
// the board's output stages must treat as off.
func (a *Appliance) guard(f func()) func() {
	return func() {
		defer func() {
			if r := recover(); r != nil {
				a.safeOutputs()
				panic(r)
			}
		}()
		f()
	}
}

// safeOutputs puts the annunciators in their safe state for good.
func (a *Appliance) safeOutputs() {
	a.mu.Lock()
	ann := a.annunciator
	a.mu.Unlock()
	if ann != nil {
		if err := ann.Safe(); err != nil {
			a.log.Error("annunciators could not be made safe", "err", err)
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

func (a *Appliance) pinByName(name string) gpio.PinIO {
	if a.cfg.PinByName != nil {
		return a.cfg.PinByName(name)
	}
	return sensors.PinByName(name)
}
