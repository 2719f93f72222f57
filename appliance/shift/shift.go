// Package shift drafts the records of an officer's shift from the store's
// events and the folded state: the handover draft the outgoing officer
// reviews and signs (Draft), the response figures of a wing and shift
// (Figures), the incident timeline around an alarm or of a place and a
// time range, across the site, with the same records as NDJSON in the
// central pull's format (Timeline), and each cell's check history.
//
// It only reads. What it drafts is recorded by the panel
// (appliance/officer): a handover is signed with the draft's Digest.
package shift

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Store is the event store as the shift room reads it (*store.Store).
type Store interface {
	// Query answers q newest first, a page at a time.
	Query(q event.Query) (event.Page, error)
	// Get returns the event with the given id: a record a correction
	// struck.
	Get(id event.ID) (event.Record, error)
}

// Config configures a wing's shift room.
type Config struct {
	// Wing is the wing's layout: its cells, landings and inputs.
	Wing config.Wing
	// Store holds the site's events.
	Store Store
	// Read runs f on the folded state under its lock; f must not keep it.
	Read func(f func(*wing.State))
	// Clock says when now is, for a shift that has not ended yet;
	// default the real clock.
	Clock clockwork.Clock
}

// Room is a wing's shift room.
type Room struct{ cfg Config }

// New returns the shift room of a wing.
func New(cfg Config) *Room {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	return &Room{cfg: cfg}
}

// MaxRange is the longest time range the room drafts from: a long shift
// with room to spare.
const MaxRange = 24 * time.Hour

// checkRange checks a time range and returns it in UTC, with its end as
// far as it has come: no later than now.
func (r *Room) checkRange(from, to time.Time) (f, t, end time.Time, err error) {
	switch {
	case from.IsZero() || !to.After(from):
		return from, to, to, fmt.Errorf("shift: the range from %s to %s is empty: choose a start before its end", from.Format(time.RFC3339), to.Format(time.RFC3339))
	case to.Sub(from) > MaxRange:
		return from, to, to, fmt.Errorf("shift: %s is longer than %s: choose a shorter range", to.Sub(from).Round(time.Minute), MaxRange)
	}
	end = to
	if now := r.cfg.Clock.Now(); now.Before(end) {
		end = now
	}
	return from.UTC(), to.UTC(), end.UTC(), nil
}

// events returns every event q selects, oldest first (by event.Key).
func (r *Room) events(ctx context.Context, q event.Query) ([]event.Event, error) {
	q.Limit = 1000
	var out []event.Event
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		page, err := r.cfg.Store.Query(q)
		if err != nil {
			return nil, fmt.Errorf("shift: read the events: %w", err)
		}
		for _, rec := range page.Records {
			out = append(out, rec.Event)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.SortFunc(out, func(a, b event.Event) int { return a.Key().Compare(b.Key()) })
	return out, nil
}

// CheckItem is a check as a report shows it: struck through when a
// correction struck it.
type CheckItem struct {
	wing.Check
	Struck *wing.Correction `json:"struck,omitempty"`
}

// CheckHistory returns a cell's latest checks, newest first, at most
// limit (1 to 1000; 0 means 100), struck ones marked.
func (r *Room) CheckHistory(ctx context.Context, cell string, limit int) ([]CheckItem, error) {
	if limit <= 0 {
		limit = 100
	}
	page, err := r.cfg.Store.Query(event.Query{Subject: cell, Kinds: []event.Kind{event.ObservationChecked}, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("shift: read cell %s's checks: %w", cell, err)
	}
	out := make([]CheckItem, 0, len(page.Records))
	r.cfg.Read(func(s *wing.State) {
		for _, rec := range page.Records {
			out = append(out, CheckItem{Check: wing.CheckFromEvent(rec.Event), Struck: struck(s, rec.Event.ID())})
		}
	})
	return out, nil
}

// struck returns the correction that struck a record, if one did.
func struck(s *wing.State, id event.ID) *wing.Correction {
	if c, ok := s.Struck[id]; ok {
		return &c
	}
	return nil
}
