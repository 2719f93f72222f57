package wingtest

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/sync/central"
	"wingnode/sync/trust"
)

// Order is a made-up site's commit order without raft: wing A's store
// holding it, A's site identity, and the central pull served over them on
// a loopback port. Commit adds to the order as the site would.
type Order struct {
	Store *store.Store
	ID    *trust.Identity
	CA    *x509.Certificate
	Site  *FakeSite
	// Pull is the pull's handler and URL a server of it on loopback.
	Pull http.Handler
	URL  string

	srv   *httptest.Server
	mu    sync.Mutex
	heads map[string]event.Event // each wing's newest event committed
	index uint64
}

// FakeSite is the membership the pull sees (central.Site): raft's commit
// index and leader are whatever a test sets; Changed fires on each Commit.
type FakeSite struct {
	id          *trust.Identity
	commitIndex atomic.Uint64
	leader      atomic.Value
	mu          sync.Mutex
	changed     chan struct{}
}

func (s *FakeSite) Identity() *trust.Identity { return s.id }
func (s *FakeSite) CommitIndex() uint64       { return s.commitIndex.Load() }
func (s *FakeSite) Leader() string            { return s.leader.Load().(string) }

// Changed is closed at the next Commit.
func (s *FakeSite) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// SetCommitIndex sets what the wing knows the site committed.
func (s *FakeSite) SetCommitIndex(i uint64) { s.commitIndex.Store(i) }

// SetLeader sets the leader the wing follows ("" for none).
func (s *FakeSite) SetLeader(w string) { s.leader.Store(w) }

func (s *FakeSite) fire() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// NewIdentity makes a new site named name, with wing's identity in it, in dir.
func NewIdentity(dir, name, wing string) (*trust.Identity, *trust.Authority, error) {
	ca, err := trust.InitSite(filepath.Join(dir, "ca"), name)
	if err != nil {
		return nil, nil, err
	}
	id, err := trust.NewIdentity(filepath.Join(dir, "identity"), wing, ca)
	return id, ca, err
}

// NewOrder makes an empty order of a new site in dir, served on loopback.
func NewOrder(dir string) (*Order, error) {
	st, err := store.Open(filepath.Join(dir, "wing.db"), store.Options{Wing: "A"})
	if err != nil {
		return nil, err
	}
	id, ca, err := NewIdentity(dir, "test", "A")
	if err != nil {
		st.Close()
		return nil, err
	}
	o := &Order{Store: st, ID: id, CA: ca.Certificate(), heads: map[string]event.Event{}}
	o.Site = &FakeSite{id: id, changed: make(chan struct{})}
	o.Site.SetLeader("A")
	// A made-up order has no leader to learn from: a cursor past its end
	// is past it at once.
	o.Pull = central.Events(central.Config{Store: st, Site: func() central.Site { return o.Site }, Settle: 200 * time.Millisecond})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/site/events", o.Pull)
	o.srv = httptest.NewServer(mux)
	o.URL = o.srv.URL
	return o, nil
}

// StartOrder makes an Order for a test, closed when it ends.
func StartOrder(t testing.TB) *Order {
	t.Helper()
	o, err := NewOrder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o
}

// Close stops serving and closes the store.
func (o *Order) Close() error {
	o.srv.Close()
	return o.Store.Close()
}

// Commit has the site commit n new events of wing, up to 1,000 to a raft
// entry. Even seqs are alarm.cleared, odd ones alarm.raised; the HLC of
// seq s is 2026-11-26T09:00:00Z plus s seconds.
func (o *Order) Commit(wing string, n int) error {
	for n > 0 {
		k := min(n, 1000)
		if err := o.commit(wing, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// MustCommit is Commit that fails the test on an error.
func (o *Order) MustCommit(t testing.TB, wing string, n int) {
	t.Helper()
	if err := o.Commit(wing, n); err != nil {
		t.Fatal(err)
	}
}

func (o *Order) commit(wing string, n int) error {
	o.mu.Lock()
	head := o.heads[wing]
	prev := head.Hash
	base := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	evs := make([]event.Event, 0, n)
	for i := range n {
		seq := head.Seq + uint64(i) + 1
		t := base.Add(time.Duration(seq) * time.Second)
		e := event.Event{Wing: wing, Seq: seq, HLC: event.HLC{WallNanos: t.UnixNano()}, Wall: t, ClockTrusted: true,
			Kind: event.AlarmRaised, Subject: wing + "1-01-CALL", Actor: event.SystemActor, Data: map[string]string{"n": fmt.Sprint(seq)}}
		if seq%2 == 0 {
			e.Kind = event.AlarmCleared
		}
		e.Seal(prev)
		prev = e.Hash
		evs = append(evs, e)
	}
	o.heads[wing] = evs[len(evs)-1]
	o.index++
	index := o.index
	o.mu.Unlock()
	refused, err := o.Store.Ingest(context.Background(), store.Batch{Entries: []store.Entry{{Index: index, Events: evs}}, Applied: index})
	if err != nil {
		return err
	}
	if refused[0] != nil {
		return errors.Join(errors.New("wingtest: the store refused a made-up entry"), refused[0])
	}
	o.Site.SetCommitIndex(index)
	o.Site.fire()
	return nil
}

// Chain returns the events committed of wing so far, from the store.
func (o *Order) Chain(wing string) []event.Event {
	var out []event.Event
	for {
		page, err := o.Store.WingAfter(wing, uint64(len(out)), 1000)
		if err != nil || len(page) == 0 {
			return out
		}
		out = append(out, page...)
	}
}
