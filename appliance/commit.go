package appliance

import (
	"slices"

	"wingnode/appliance/event"
)

// committed is the store's commit hook, called with every batch of events
// once it is durable, in store order, local and replicated alike. Each
// step belongs to the room that owns its state and takes that room's lock
// only.
func (a *Appliance) committed(batch []event.Record) {
	a.picture.Fold(batch)        // fold into the state, tell the open screens, checkpoint now and then
	a.recording.Committed(batch) // folded raises are no longer pending; a refusing store records again
	if m := a.member.Load(); m != nil && slices.ContainsFunc(batch, func(r event.Record) bool { return r.Event.Wing == a.layout.ID }) {
		m.Recorded() // the leader's pull of this wing's outbox answers at once
	}
	a.hardware.Show()                 // the annunciators show the new alarm state
	a.ops.counted(batch, a.layout.ID) // the metrics count what was stored
}
