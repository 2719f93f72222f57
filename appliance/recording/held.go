package recording

import (
	"context"
	"maps"
	"slices"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

// A store that refuses an observed event (a full or failing disk) must not
// lose it. The draft is held, in memory and in the spool on disk
// (spool.go), in order, and stored once the store takes events again, with
// the time it was observed in its data (observed_at); a restart meanwhile
// holds again what the spool kept. While any are held, newly observed events queue behind
// them, so that a door's opening and closing keep their order, and the
// wing reports that recording has stopped (Recording) until all are
// stored.

// maxHeld bounds the events held; past it the oldest are let go, counted
// and logged.
const maxHeld = 100_000

// heldDraft is an observed event waiting for the store.
type heldDraft struct {
	n       uint64 // order of holding, to pop the right one
	draft   event.Draft
	at      time.Time // when it was observed
	spooled bool      // it is in the spool too (spool.go)
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
		if lost.spooled {
			r.spoolDone(1)
		}
		if lost.draft.Kind == event.AlarmRaised {
			delete(r.pending, claim{lost.draft.Subject, lost.draft.Data["point_kind"]}) // a new press raises again
		}
		if r.heldLost == 1 || r.heldLost%10_000 == 0 {
			r.cfg.Log.Error("too many events held while the store refuses them; letting the oldest go", "lost", r.heldLost, "kind", lost.draft.Kind, "subject", lost.draft.Subject)
		}
	}
	r.heldN++
	h := heldDraft{n: r.heldN, draft: d, at: r.cfg.Clock.Now()}
	if r.spool != nil {
		ok, err := r.spool.hold(h)
		switch {
		case err != nil:
			r.cfg.Log.Error("held-event spool: cannot write; holding in memory only", "err", err)
			r.spool.full = true
		case ok:
			r.spoolDirty = true
		case !r.spoolFullLogged:
			r.spoolFullLogged = true
			r.cfg.Log.Error("held-event spool full; further events are held in memory only, and a restart before the store takes them loses them")
		}
		h.spooled = ok
	}
	r.held = append(r.held, h)
}

// syncSpool syncs the held events written to the spool since the last
// sync: a crash of the process loses none of them (they are in the
// kernel's cache), a power cut at most a second's.
func (r *Recorder) syncSpool() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.spool == nil || !r.spoolDirty {
		return
	}
	r.spoolDirty = false
	if err := r.spool.f.Sync(); err != nil {
		r.cfg.Log.Error("held-event spool: cannot sync", "err", err)
	}
}

// spoolDone counts n spooled events as stored (or let go) in the spool.
// The caller holds r.mu.
func (r *Recorder) spoolDone(n int) {
	left := 0
	for _, h := range r.held {
		if h.spooled {
			left++
		}
	}
	if err := r.spool.markStored(n, left); err != nil {
		r.cfg.Log.Error("held-event spool: cannot count an event stored; a restart may store it twice", "err", err)
	}
	if left == 0 {
		r.spoolFullLogged = false
	}
}

// Held returns how many observed events wait for the store.
func (r *Recorder) Held() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.held)
}

// heldBatch is how many held events storeHeld submits at once: they
// share the store's transactions.
const heldBatch = 512

// storeHeld stores held events, oldest first, each second until ctx ends,
// in batches; and keeps the spool synced.
func (r *Recorder) storeHeld(ctx context.Context) {
	tick := r.cfg.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.syncSpool()
			if n := r.Held(); n > 0 {
				r.cfg.Log.Error("observed events were never stored: the store refused them until the appliance stopped", "events", n)
			}
			return
		case <-tick.Chan():
		}
		r.syncSpool()
		stored := 0
		for ctx.Err() == nil {
			n, ok := r.storeHeldBatch(ctx)
			stored += n
			if !ok {
				break // still refused, or nothing left; next second
			}
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

// storeHeldBatch submits the oldest held events, in order, and waits for
// them; it lets go of those the store took, and reports how many, and
// whether all were taken (and there may be more).
func (r *Recorder) storeHeldBatch(ctx context.Context) (int, bool) {
	r.mu.Lock()
	batch := slices.Clone(r.held[:min(len(r.held), heldBatch)])
	r.mu.Unlock()
	if len(batch) == 0 {
		return 0, false
	}
	var pending []*store.Pending
	for _, h := range batch {
		d := h.draft
		d.Data = maps.Clone(d.Data)
		if d.Data == nil {
			d.Data = map[string]string{}
		}
		d.Data["observed_at"] = h.at.UTC().Format(time.RFC3339Nano)
		p, err := r.cfg.Store.Submit(ctx, d)
		if err != nil {
			break
		}
		pending = append(pending, p)
	}
	taken := map[uint64]bool{}
	for i, p := range pending {
		if _, err := p.Wait(); err == nil {
			taken[batch[i].n] = true
		}
	}
	if len(taken) == 0 {
		return 0, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	spooled := 0
	r.held = slices.DeleteFunc(r.held, func(h heldDraft) bool {
		if taken[h.n] && h.spooled {
			spooled++
		}
		return taken[h.n]
	})
	if spooled > 0 {
		r.spoolDone(spooled)
	}
	return len(taken), len(taken) == len(batch)
}
