package site

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
)

// A wing's outbox is its own events that the site has not committed yet.
// They wait in the wing's store, after the wing's committed seq, until the
// raft leader pulls them into the log (see Node.pull): the leader reads its
// own outbox from its store, and every other wing's over the site API,
//
//	GET /site/v1/outbox?after=SEQ&wait=1s
//
// which answers as soon as the wing holds events of its own after SEQ (up to
// maxBatch of them), or after wait with none. The body is the events as an
// events entry carries them (see encodeEvents), without the entry's type
// byte.

// outbox is this wing's outbox, served to the leader, and the leader's
// reader of every wing's.
type outbox struct {
	wing     string
	store    Store
	recorded *signal         // fires when this wing records events
	stop     <-chan struct{} // closed when the node stops
	clock    clockwork.Clock
	// get fetches a site API URL from another wing (Node.get).
	get func(ctx context.Context, u, accept string) ([]byte, error)
}

// pullWait is how long the leader's read of an outbox waits for events.
const pullWait = time.Second

// read is the leader's read of a wing's outbox after seq after: its own
// from the store, another wing's (at addr) over the site API. Either waits
// up to pullWait for the first event.
func (o *outbox) read(ctx context.Context, wing, addr string, after uint64) ([]event.Event, error) {
	if wing == o.wing {
		return o.local(ctx, after, pullWait)
	}
	return o.fetch(ctx, addr, after)
}

// local returns this wing's events after seq after, waiting up to wait for
// the first one to be recorded.
func (o *outbox) local(ctx context.Context, after uint64, wait time.Duration) ([]event.Event, error) {
	deadline := o.clock.NewTimer(wait)
	defer deadline.Stop()
	for {
		woken := o.recorded.wait()
		events, err := o.store.WingAfter(o.wing, after, maxBatch)
		if err != nil || len(events) > 0 {
			return events, err
		}
		select {
		case <-woken:
		case <-deadline.Chan():
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-o.stop:
			return nil, errStopped
		}
	}
}

var errStopped = errors.New("site: node stopped")

// ServeHTTP serves GET /site/v1/outbox: this wing's outbox to the leader.
func (o *outbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	after, err := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "after: a seq number (0 for the start) is needed")
		return
	}
	wait := time.Duration(0)
	if s := r.URL.Query().Get("wait"); s != "" {
		if wait, err = time.ParseDuration(s); err != nil || wait < 0 || wait > 30*time.Second {
			api.WriteError(w, http.StatusBadRequest, "wait: a duration up to 30s, e.g. 1s")
			return
		}
	}
	events, err := o.local(r.Context(), after, wait)
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(encodeEvents(events)[1:])
}

// fetch asks the wing at addr for its outbox after seq after.
func (o *outbox) fetch(ctx context.Context, addr string, after uint64) ([]event.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := "https://" + addr + "/site/v1/outbox?" + url.Values{"after": {strconv.FormatUint(after, 10)}, "wait": {pullWait.String()}}.Encode()
	body, err := o.get(ctx, u, "application/octet-stream")
	if err != nil {
		return nil, err
	}
	return decodeEventList(body)
}
