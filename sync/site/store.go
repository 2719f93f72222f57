package site

import (
	"context"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

// Store is the wing's event store as the site uses it: the outbox reads
// the wing's own events from it, the FSM ingests committed events into it,
// and peers catching up read the commit order from it. The FSM keeps no
// events of its own: what the site has committed is what Store holds.
// *store.Store implements it.
type Store interface {
	// Ingest stores committed events, each entry with the raft index that
	// committed it, and the FSM's state as b.State gives it, in one
	// transaction that is durable before Ingest returns: raft counts the
	// entries applied once it has. It must be idempotent by (wing, seq):
	// events already held are skipped, so an entry may be ingested any
	// number of times. An entry holding an event that does not verify or
	// does not follow its wing's chain (one wrapping store.ErrGap) is
	// refused whole and reported in refused at its index; which entries are
	// refused must depend only on the events and what is held, so that every
	// wing applies the log alike. err is set only when nothing was stored.
	Ingest(ctx context.Context, b store.Batch) (refused []error, err error)
	// Site returns what the last Ingest stored: the raft index applied,
	// each wing's committed seq, and the FSM's state.
	Site() (store.SiteState, error)
	// Heads returns the newest seq held of every wing, committed or not. A
	// wing's events are held without gaps from seq 1, so its head says
	// exactly which of them the store has.
	Heads() (map[string]uint64, error)
	// Get returns the event with the given id, or an error wrapping
	// store.ErrNotFound.
	Get(id event.ID) (event.Record, error)
	// WingAfter returns up to limit events of one wing after seq after, in
	// seq order, without waiting for any.
	WingAfter(wing string, after uint64, limit int) ([]event.Event, error)
	// CommitsAfter returns up to limit events in the site's commit order
	// after the place (index, n); (0, 0) is the start.
	CommitsAfter(index uint64, n uint32, limit int) ([]store.Commit, error)
	// LastCommit returns the place of the newest event in the commit
	// order, (0, 0) when there is none.
	LastCommit() (index uint64, n uint32, err error)
}

// Every wing's store is one.
var _ Store = (*store.Store)(nil)
