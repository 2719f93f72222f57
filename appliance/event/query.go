package event

import (
	"errors"
	"slices"
	"time"
)

// Record is an event with its position in one wing's store. Positions count
// up from 1 in the order events became durable there; they are local to one
// store and are the cursor for tailing it.
type Record struct {
	Pos   uint64 `json:"pos"`
	Event Event  `json:"event"`
}

// Query selects events, newest first. Zero fields do not filter.
type Query struct {
	Subject string // history of one door, alarm point or input
	Kinds   []Kind // any of these kinds
	Wing    string
	From    time.Time // HLC time at or after From
	To      time.Time // HLC time before To
	Limit   int       // at most this many; 0 means 100, at most 1000
	Cursor  string    // from Page.Next, to continue a previous query
}

// Page is one page of a query's answer.
type Page struct {
	Records []Record
	Next    string // cursor for the following (older) page; empty at the end
}

// ErrBadCursor is returned (wrapped) by whatever answers a Query, for a
// cursor that is not one of its own for the same filters.
var ErrBadCursor = errors.New("cursor does not belong to this query")

// Matches reports whether e passes the query's filters (Limit and Cursor
// aside).
func (q Query) Matches(e Event) bool {
	if q.Subject != "" && e.Subject != q.Subject {
		return false
	}
	if q.Wing != "" && e.Wing != q.Wing {
		return false
	}
	if len(q.Kinds) > 0 && !slices.Contains(q.Kinds, e.Kind) {
		return false
	}
	t := e.HLC.WallNanos
	if !q.From.IsZero() && t < q.From.UnixNano() {
		return false
	}
	if !q.To.IsZero() && t >= q.To.UnixNano() {
		return false
	}
	return true
}
