package central

import (
	"fmt"
	"net/http"
	"strconv"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/sync/site"
)

// EventPage is a page of the site's events in commit order: the order in
// which the site's raft log committed them, the same on every wing, so a
// reader may resume its cursor on any wing of the site.
type EventPage struct {
	Records []CommittedEvent `json:"records"`
	// Next is the cursor to pass as after for the following page; it
	// equals the request's after when there is nothing new yet.
	Next string `json:"next"`
	// Committed is each wing's newest seq that the site has committed, as
	// this wing has applied it: once a reader's cursor has passed every
	// record, it holds each wing's events 1..Committed[wing].
	Committed map[string]uint64 `json:"committed"`
}

// CommittedEvent is one event in the commit order.
type CommittedEvent struct {
	// Cursor is the event's place, "INDEX.N": raft log index and place
	// within the entry.
	Cursor string      `json:"cursor"`
	Event  event.Event `json:"event"`
	// Body is the event's canonical encoding (base64 in JSON): its
	// SHA-256 is Event.Hash, and its last 32 bytes are Event.Prev.
	Body []byte `json:"body"`
}

// Store is the wing's event store as the pull reads it (*store.Store).
type Store interface {
	// CommitsAfter returns up to limit events in commit order after the
	// place (index, n).
	CommitsAfter(index uint64, n uint32, limit int) ([]store.Commit, error)
	// Site returns what the store holds of the site: each wing's
	// committed seq.
	Site() (store.SiteState, error)
}

// Events serves the site's events in commit order from a wing's store:
// GET ?after=INDEX.N&limit=1..1000. A wing with no site serves an empty
// order.
func Events(st Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			api.WriteError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		commits, after, ok := readCommits(w, r, st)
		if !ok {
			return
		}
		held, err := st.Site()
		if err != nil {
			api.WriteError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
		page := EventPage{Records: make([]CommittedEvent, 0, len(commits)), Next: after.String(), Committed: held.Committed}
		for _, c := range commits {
			page.Next = site.Cursor{Index: c.Index, N: c.N}.String()
			page.Records = append(page.Records, CommittedEvent{Cursor: page.Next, Event: c.Event, Body: c.Event.Body()})
		}
		w.Header().Set("Cache-Control", "no-store")
		api.WriteJSON(w, http.StatusOK, page)
	})
}

// readCommits reads the after and limit parameters and the commits they
// ask for, answering the request itself when it cannot.
func readCommits(w http.ResponseWriter, r *http.Request, st Store) ([]store.Commit, site.Cursor, bool) {
	after, err := site.ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error())
		return nil, after, false
	}
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 1000 {
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not a whole number from 1 to 1000", s))
			return nil, after, false
		}
	}
	commits, err := st.CommitsAfter(after.Index, after.N, limit)
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return nil, after, false
	}
	return commits, after, true
}
