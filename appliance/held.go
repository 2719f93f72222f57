package appliance

import (
	"context"
	"maps"
	"time"

	"wingnode/appliance/event"
)

// A store that refuses an observed event (a full or failing disk) must not
// lose it. The draft is held in memory, in order, and stored once the store
// takes events again, with the time it was observed in its data
// (observed_at). While any are held, newly observed events queue behind
// them, so that a door's opening and closing keep their order, and the
// wing reports that recording has stopped (Recording) until all are
// stored.

// maxHeld bounds the events held; past it the oldest are let go, counted
// and logged.
const maxHeld = 100_000

// heldDraft is an observed event waiting for the store.
type heldDraft struct {
	n     uint64 // order of holding, to pop the right one
	draft event.Draft
	at    time.Time // when it was observed
}

// failed reports an observed event the store refused, and holds it.
func (a *Appliance) failed(d event.Draft, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.storeFault == nil {
		a.faultSince = time.Now()
		a.log.Error("the store refused an event; holding observed events until it takes them again", "kind", d.Kind, "subject", d.Subject, "err", err)
	}
	a.storeFault = err
	a.holdLocked(d)
}

// queueBehindHeld holds d when other events are held, so that it is stored
// after them, and reports whether it did.
func (a *Appliance) queueBehindHeld(d event.Draft) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.held) == 0 {
		return false
	}
	a.holdLocked(d)
	return true
}

func (a *Appliance) holdLocked(d event.Draft) {
	if len(a.held) >= maxHeld {
		lost := a.held[0]
		a.held = a.held[1:]
		a.heldLost++
		if lost.draft.Kind == event.AlarmRaised {
			delete(a.pending, lost.draft.Subject) // a new press raises again
		}
		if a.heldLost == 1 || a.heldLost%10_000 == 0 {
			a.log.Error("too many events held while the store refuses them; letting the oldest go", "lost", a.heldLost, "kind", lost.draft.Kind, "subject", lost.draft.Subject)
		}
	}
	a.heldN++
	a.held = append(a.held, heldDraft{n: a.heldN, draft: d, at: time.Now()})
}

// Held returns how many observed events wait for the store.
func (a *Appliance) Held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.held)
}

// storeHeld stores held events, oldest first, each second until ctx ends.
func (a *Appliance) storeHeld(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if n := a.Held(); n > 0 {
				a.log.Error("observed events were never stored: the store refused them until the appliance stopped", "events", n)
			}
			return
		case <-tick.C:
		}
		stored := 0
		for ctx.Err() == nil {
			a.mu.Lock()
			if len(a.held) == 0 {
				a.mu.Unlock()
				break
			}
			h := a.held[0]
			a.mu.Unlock()
			d := h.draft
			d.Data = maps.Clone(d.Data)
			if d.Data == nil {
				d.Data = map[string]string{}
			}
			d.Data["observed_at"] = h.at.UTC().Format(time.RFC3339Nano)
			if _, err := a.store.Append(ctx, d); err != nil {
				break // still refused; next second
			}
			stored++
			a.mu.Lock()
			if len(a.held) > 0 && a.held[0].n == h.n {
				a.held = a.held[1:]
			}
			a.mu.Unlock()
		}
		if stored > 0 {
			a.mu.Lock()
			left := len(a.held)
			if left == 0 && a.storeFault != nil {
				a.storeFault = nil
				a.log.Info("events are being recorded again", "after", time.Since(a.faultSince).Round(time.Second))
			}
			a.mu.Unlock()
			a.log.Info("stored events held while the store refused them", "events", stored, "still_held", left)
		}
	}
}
