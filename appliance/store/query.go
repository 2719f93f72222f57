package store

import (
	"time"

	"wingnode/appliance/event"
)

// Record is an event with its position in this store. Positions count up
// from 1 in the order events became durable here; they are local to one
// store and are the cursor for tailing it.
type Record struct {
	Pos   uint64      `json:"pos"`
	Event event.Event `json:"event"`
}

// Query selects events, newest first. Zero fields do not filter.
type Query struct {
	Subject string       // history of one door, alarm point or input
	Kinds   []event.Kind // any of these kinds
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
