package recording

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
func (r *Recorder) failed(d event.Draft, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fault == nil {
		r.faultSince = r.cfg.Clock.Now()
		r.cfg.Log.Error("the store refused an event; holding observed events until it takes them again", "kind", d.Kind, "subject", d.Subject, "err", err)
	}
	r.fault = err
	r.holdLocked(d)
}

// queueBehindHeld holds d when other events are held, so that it is stored
// after them, and reports whether it did.
func (r *Recorder) queueBehindHeld(d event.Draft) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.held) == 0 {
		return false
	}
	r.holdLocked(d)
	return true
}

func (r *Recorder) holdLocked(d event.Draft) {
	if len(r.held) >= maxHeld {
		lost := r.held[0]
		r.held = r.held[1:]
		r.heldLost++
		if lost.draft.Kind == event.AlarmRaised {
			delete(r.pending, claim{lost.draft.Subject, lost.draft.Data["point_kind"]}) // a new press raises again
		}
		if r.heldLost == 1 || r.heldLost%10_000 == 0 {
			r.cfg.Log.Error("too many events held while the store refuses them; letting the oldest go", "lost", r.heldLost, "kind", lost.draft.Kind, "subject", lost.draft.Subject)
		}
	}
	r.heldN++
	r.held = append(r.held, heldDraft{n: r.heldN, draft: d, at: r.cfg.Clock.Now()})
}

// Held returns how many observed events wait for the store.
func (r *Recorder) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}

// storeHeld stores held events, oldest first, each second until ctx ends.
func (r *Recorder) storeHeld(ctx context.Context) {
	tick := r.cfg.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if n := r.Held(); n > 0 {
				r.cfg.Log.Error("observed events were never stored: the store refused them until the appliance stopped", "events", n)
			}
			return
		case <-tick.Chan():
		}
		stored := 0
		for ctx.Err() == nil {
			r.mu.Lock()
			if len(r.held) == 0 {
				r.mu.Unlock()
				break
			}
			h := r.held[0]
			r.mu.Unlock()
			d := h.draft
			d.Data = maps.Clone(d.Data)
			if d.Data == nil {
				d.Data = map[string]string{}
			}
			d.Data["observed_at"] = h.at.UTC().Format(time.RFC3339Nano)
			if _, err := r.cfg.Store.Append(ctx, d); err != nil {
				break // still refused; next second
			}
			stored++
			r.mu.Lock()
			if len(r.held) > 0 && r.held[0].n == h.n {
				r.held = r.held[1:]
			}
			r.mu.Unlock()
		}
		if stored > 0 {
			r.mu.Lock()
			left := len(r.held)
			if left == 0 && r.fault != nil {
				r.fault = nil
				r.cfg.Log.Info("events are being recorded again", "after", r.cfg.Clock.Since(r.faultSince).Round(time.Second))
			}
			r.mu.Unlock()
			r.cfg.Log.Info("stored events held while the store refused them", "events", stored, "still_held", left)
		}
	}
}
