package central

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// Store is the wing's event store as the pull reads it (*store.Store).
type Store interface {
	// Order returns a page of the site's commit order after a place, and
	// the order's head, read at one moment.
	Order(store.OrderQuery) (store.OrderPage, error)
}

// Site is the wing's membership of its site as the pull needs it
// (*member.Member).
type Site interface {
	// Identity is this wing's site identity: the site's id, and the key
	// that signs each page's head.
	Identity() *trust.Identity
	// CommitIndex is the newest raft index this wing knows the site has
	// committed; it may not have applied it yet.
	CommitIndex() uint64
	// Leader is the wing this wing follows, "" when it knows none.
	Leader() string
	// Changed is closed the next time this wing applies the site's log.
	Changed() <-chan struct{}
}

// Config configures the pull.
type Config struct {
	Store Store
	// Site returns the wing's membership, nil before it has one.
	Site func() Site
	// Served, if set, is told of each page served: the place its reader
	// has now reached, for the client's lag.
	Served func(r *http.Request, next export.Cursor)
	// Settle is how long a cursor ahead of all this wing knows is watched
	// before it is called past the end of the site's order; default
	// PastEndSettle.
	Settle time.Duration
}

// PastEndSettle is how long a wing watches a cursor that lies ahead of
// everything it knows before answering that the cursor is past the end
// of the site's order. A follower learns that entries are committed a
// heartbeat after the leader, and not at all from a leader that died
// just after committing them: the site's next leader tells it, once
// elected. A pull that fails over from a wing that has just stopped
// brings such a cursor.
const PastEndSettle = 5 * time.Second

// MaxWait is the longest long poll a request may ask for.
const MaxWait = 60 * time.Second

// request is a pull request's parameters.
type request struct {
	after  export.Cursor
	limit  int
	wait   time.Duration
	wings  []string
	kinds  []event.Kind
	from   time.Time
	to     time.Time
	binary bool
}

func (q request) filtered() bool {
	return len(q.wings) > 0 || len(q.kinds) > 0 || !q.from.IsZero() || !q.to.IsZero()
}

func (q request) match(e event.Event) bool {
	t := e.HLC.WallNanos
	return (len(q.wings) == 0 || slices.Contains(q.wings, e.Wing)) &&
		(len(q.kinds) == 0 || slices.Contains(q.kinds, e.Kind)) &&
		(q.from.IsZero() || t >= q.from.UnixNano()) &&
		(q.to.IsZero() || t < q.to.UnixNano())
}

// parameters lists every parameter the pull takes.
var parameters = []string{"after", "limit", "wait", "wing", "kind", "from", "to"}

// parseRequest reads a pull request's parameters; its errors are 400
// sentences that start with the parameter's name.
func parseRequest(r *http.Request) (request, error) {
	q := r.URL.Query()
	req := request{limit: 100, binary: strings.Contains(r.Header.Get("Accept"), export.BinaryType)}
	for name, values := range q {
		if !slices.Contains(parameters, name) {
			return req, fmt.Errorf("%s: not a parameter of the pull; it takes %s", name, strings.Join(parameters, ", "))
		}
		if len(values) > 1 {
			return req, fmt.Errorf("%s: given %d times; give it once", name, len(values))
		}
		if values[0] == "" {
			if name == "after" {
				return req, errors.New("after: empty; leave it out to start from the beginning, or pass the next of the previous page")
			}
			return req, fmt.Errorf("%s: empty; leave it out or give a value", name)
		}
	}
	var err error
	if s := q.Get("after"); s != "" {
		if req.after, err = export.ParseCursor(s); err != nil {
			return req, err
		}
	}
	if s := q.Get("limit"); s != "" {
		if req.limit, err = strconv.Atoi(s); err != nil || req.limit < 1 || req.limit > 1000 {
			return req, fmt.Errorf("limit: %.20q is not a whole number from 1 to 1000", s)
		}
	}
	if s := q.Get("wait"); s != "" {
		if req.wait, err = time.ParseDuration(s); err != nil || req.wait < 0 || req.wait > MaxWait {
			return req, fmt.Errorf("wait: %.20q is not a duration from 0s to %s, such as 30s", s, MaxWait)
		}
	}
	if s := q.Get("wing"); s != "" {
		for _, w := range strings.Split(s, ",") {
			if !event.ValidID(w) {
				return req, fmt.Errorf("wing: %.40q is not a wing id; give ids separated by commas", w)
			}
			req.wings = append(req.wings, w)
		}
	}
	if s := q.Get("kind"); s != "" {
		for _, k := range strings.Split(s, ",") {
			kind, err := event.ParseKind(k)
			if err != nil {
				return req, fmt.Errorf("kind: %.40q is not an event kind; give kinds separated by commas (see the Kind enum)", k)
			}
			req.kinds = append(req.kinds, kind)
		}
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &req.from}, {"to", &req.to}} {
		if s := q.Get(p.name); s != "" {
			if *p.t, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return req, fmt.Errorf("%s: %.40q is not an RFC 3339 time such as 2026-11-26T09:00:00Z", p.name, s)
			}
		}
	}
	if !req.from.IsZero() && !req.to.IsZero() && !req.from.Before(req.to) {
		return req, errors.New("from: must be before to")
	}
	return req, nil
}

// Events serves the site's events in commit order from a wing's store:
// GET ?after=CURSOR&limit=1..1000&wait=DURATION&wing=&kind=&from=&to=, as
// JSON or, asked for with Accept, in export.BinaryType. Every page carries
// the site's id and its head signed with this wing's site key
// (docs/central.md).
func Events(cfg Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			api.WriteError(w, http.StatusMethodNotAllowed, "use GET")
			return
		}
		req, err := parseRequest(r)
		if err != nil {
			api.WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		var s Site
		if cfg.Site != nil {
			s = cfg.Site()
		}
		if s == nil {
			w.Header().Set("Retry-After", "2")
			api.WriteError(w, http.StatusServiceUnavailable, "this wing has not joined its site yet: try again in a few seconds, or ask another wing")
			return
		}
		if req.wait > 0 {
			// The answer is written after the wait: the server's write
			// timeout starts again from then.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(req.wait + api.WriteTimeout))
		}
		settle := cfg.Settle
		if settle <= 0 {
			settle = PastEndSettle
		}
		page, status, err := read(r, cfg.Store, s, req, settle)
		if err != nil {
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "1")
			}
			api.WriteError(w, status, err.Error())
			return
		}
		if cfg.Served != nil {
			next, _ := export.ParseCursor(page.Next)
			cfg.Served(r, next)
		}
		if req.binary {
			b, err := export.AppendBinary(nil, page)
			if err != nil {
				api.WriteError(w, http.StatusInternalServerError, err.Error())
				return
			}
			w.Header().Set("Content-Type", export.BinaryType)
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.Header().Set("Cache-Control", "no-store")
			w.Write(b)
			return
		}
		api.WriteJSON(w, http.StatusOK, page)
	})
}

// read answers a pull: the page, or the status and sentence of a refusal.
// With wait, it long-polls until events that match arrive, the wait ends
// or the client goes. A cursor ahead of all this wing knows is watched
// for settle before it is refused as past the end.
func read(r *http.Request, st Store, s Site, req request, settle time.Duration) (export.Page, int, error) {
	id := s.Identity()
	site := id.SiteID()
	tag := export.SiteTag(site)
	if req.after.Site != "" && req.after.Site != tag {
		return export.Page{}, http.StatusConflict, fmt.Errorf("resync required: the cursor %s is from another site (this is site %s, whose cursors end in .%s): start again without after, or pull from a wing of the cursor's site", req.after, site, tag)
	}
	start := time.Now()
	deadline := start.Add(req.wait)
	at := req.after
	for found := false; ; {
		changed := s.Changed()
		// A binary page of every event carries bodies only: no event is
		// decoded and encoded again.
		op, err := st.Order(store.OrderQuery{Index: at.Index, N: at.N, Limit: req.limit, Match: matcher(req), Bodies: req.binary && !req.filtered()})
		if err != nil {
			return export.Page{}, http.StatusServiceUnavailable, fmt.Errorf("this wing could not read its store (%w): try again, or ask another wing", err)
		}
		last := export.Cursor{Index: op.LastIndex, N: op.LastN, Site: tag}
		if !found && !op.Found {
			status, err := pastEnd(s, req.after, last, op.Applied)
			watch := time.Until(start.Add(settle))
			if status != http.StatusConflict || req.after.Index <= op.Applied || watch <= 0 {
				return export.Page{}, status, err
			}
			// Ahead of all this wing knows: wait for the site to tell it more.
			if err := sleep(r, changed, watch); err != nil {
				return export.Page{}, http.StatusServiceUnavailable, err
			}
			continue
		}
		found = true
		at = export.Cursor{Index: op.NextIndex, N: op.NextN, Site: tag}
		wait := time.Until(deadline)
		if len(op.Commits) > 0 || wait <= 0 {
			p, status, err := page(id, site, tag, op, at, last)
			if req.after.IsStart() && len(op.Floors) > 0 {
				p.Floor = map[string]export.Tip{}
				for w, t := range op.Floors {
					p.Floor[w] = export.Tip{Seq: t.Seq, Hash: t.Hash}
				}
			}
			return p, status, err
		}
		if err := sleep(r, changed, wait); err != nil {
			return export.Page{}, http.StatusServiceUnavailable, err
		}
	}
}

// sleep waits until changed is closed or d has passed; it fails when the
// client goes away.
func sleep(r *http.Request, changed <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-changed:
	case <-t.C:
	case <-r.Context().Done():
		return errors.New("the client went away")
	}
	return nil
}

// pastEnd is the answer to a cursor that is no place in this wing's
// order: behind what this wing has applied it is no cursor of this site;
// ahead of it, either this wing lags (try again, or another wing) or the
// cursor is from no log of this site.
func pastEnd(s Site, after, last export.Cursor, applied uint64) (int, error) {
	after.Site = last.Site
	switch {
	case after.Index <= applied:
		return http.StatusConflict, fmt.Errorf("resync required: %s is not a place in this site's commit order (or retention removed the events up to it): start again without after", after)
	case after.Index <= s.CommitIndex():
		return http.StatusServiceUnavailable, fmt.Errorf("this wing has applied the site's log only up to %s, short of your cursor %s: try again in a moment, or ask another wing", last, after)
	case s.Leader() == "":
		return http.StatusServiceUnavailable, fmt.Errorf("this wing is cut off from its site and holds the commit order only up to %s, short of your cursor %s: ask another wing", last, after)
	}
	return http.StatusConflict, fmt.Errorf("resync required: the cursor %s is past the end of this site's commit order (its newest place is %s), so it is not from this site's log: start again without after", after, last)
}

func matcher(req request) func(event.Event) bool {
	if !req.filtered() {
		return nil
	}
	return req.match
}

// page builds the answer and signs its head.
func page(id *trust.Identity, site, tag string, op store.OrderPage, next, last export.Cursor) (export.Page, int, error) {
	p := export.Page{Site: site, Records: make([]export.Record, 0, len(op.Commits)), Next: next.String()}
	for _, c := range op.Commits {
		cursor := export.Cursor{Index: c.Index, N: c.N, Site: tag}.String()
		body := c.Body
		if body == nil {
			body = c.Event.Body()
		}
		p.Records = append(p.Records, export.Record{Cursor: cursor, Event: c.Event, Body: body})
	}
	tips := make(map[string]export.Tip, len(op.Tips))
	for w, t := range op.Tips {
		tips[w] = export.Tip{Seq: t.Seq, Hash: t.Hash}
	}
	head, err := export.SignHead(site, id.Wing(), last, tips, time.Now(), id.Certificate().Raw, id.Sign)
	if err != nil {
		return export.Page{}, http.StatusInternalServerError, fmt.Errorf("this wing could not sign the page's head (%w): ask another wing", err)
	}
	p.Head, p.Committed = head, export.CommittedSeqs(tips)
	return p, http.StatusOK, nil
}
