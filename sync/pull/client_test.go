package pull_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/wingtest"
	"wingnode/sync/export"
	"wingnode/sync/pull"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func client(t *testing.T, o *wingtest.Order, wings ...string) *pull.Client {
	t.Helper()
	c, err := pull.New(pull.Config{Wings: wings, CA: o.CA, Limit: 50, Wait: -1, Log: quiet})
	require.NoError(t, err)
	return c
}

func TestFollowIntoAFolderResumesWhereItStopped(t *testing.T) {
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 120)
	o.MustCommit(t, "B", 80)
	dir := t.TempDir()
	d, err := export.OpenDir(dir, o.CA, 100)
	require.NoError(t, err)
	require.NoError(t, client(t, o, o.URL).Follow(context.Background(), d, true))
	require.NoError(t, d.Close())

	o.MustCommit(t, "A", 30)
	o.MustCommit(t, "C", 5)
	d, err = export.OpenDir(dir, o.CA, 100)
	require.NoError(t, err)
	require.NoError(t, client(t, o, o.URL).Follow(context.Background(), d, true))
	require.NoError(t, d.Close())

	rep, err := export.VerifyDir(o.CA, dir)
	require.NoError(t, err)
	assert.Equal(t, 235, rep.Records, "every event once")
	assert.Equal(t, uint64(150), rep.Wings["A"].Seq)
	assert.Equal(t, rep.Last, rep.Proven, "the export is proven up to its end")
}

// flaky serves the pull, or fails as a wing that is down or lags does.
type flaky struct {
	pull http.Handler
	mode atomic.Int32 // 0 serve, 1 answer 503, 2 tamper with the page
	hits atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.hits.Add(1)
	switch f.mode.Load() {
	case 1:
		http.Error(w, `{"error":"lagging"}`, http.StatusServiceUnavailable)
	case 2:
		serveAltered(w, r, f.pull)
	default:
		f.pull.ServeHTTP(w, r)
	}
}

func TestNextFailsOverAndRefusesAlteredPages(t *testing.T) {
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 20)
	first := &flaky{pull: o.Pull}
	second := &flaky{pull: o.Pull}
	s1, s2 := httptest.NewServer(first), httptest.NewServer(second)
	defer s1.Close()
	defer s2.Close()
	c := client(t, o, s1.URL, s2.URL)

	p, state, err := c.Next(context.Background(), export.State{})
	require.NoError(t, err)
	require.Len(t, p.Records, 20)
	assert.EqualValues(t, 1, first.hits.Load())

	o.MustCommit(t, "B", 5)
	first.mode.Store(1)
	p, state, err = c.Next(context.Background(), state)
	require.NoError(t, err, "a lagging wing is passed over")
	require.Len(t, p.Records, 5)
	assert.EqualValues(t, 1, second.hits.Load())

	o.MustCommit(t, "B", 5)
	second.mode.Store(2)
	first.mode.Store(2)
	_, after, err := c.Next(context.Background(), state)
	require.ErrorIs(t, err, pull.ErrBadPage, "an altered page is refused, from every wing")
	assert.Equal(t, state, after, "nothing moves on")

	s1.Close()
	second.mode.Store(0)
	p, _, err = c.Next(context.Background(), state)
	require.NoError(t, err, "a wing that is down is passed over")
	assert.Len(t, p.Records, 5)
}

func TestNextResyncRequired(t *testing.T) {
	o := wingtest.StartOrder(t)
	other := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 3)
	other.MustCommit(t, "A", 30)
	// A cursor from the other site's order, asked of this site with this site's CA.
	_, state, err := client(t, other, other.URL).Next(context.Background(), export.State{})
	require.NoError(t, err)
	_, _, err = client(t, o, o.URL).Next(context.Background(), state)
	require.ErrorIs(t, err, pull.ErrResync)

	// A cursor past the end of this order.
	state.Site = o.ID.SiteID()
	c, _ := export.ParseCursor(state.Cursor)
	c.Site = export.SiteTag(o.ID.SiteID())
	state.Cursor = c.String()
	_, _, err = client(t, o, o.URL).Next(context.Background(), state)
	require.ErrorIs(t, err, pull.ErrResync)
}

func TestFollowLongPolls(t *testing.T) {
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 2)
	c, err := pull.New(pull.Config{Wings: []string{o.URL}, CA: o.CA, Wait: 10 * time.Second, Log: quiet})
	require.NoError(t, err)
	d, err := export.OpenDir(t.TempDir(), o.CA, 0)
	require.NoError(t, err)
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Follow(ctx, d, false) }()
	require.Eventually(t, func() bool { return d.State().Wings["A"].Seq == 2 }, 10*time.Second, 10*time.Millisecond)
	o.MustCommit(t, "B", 1)
	require.Eventually(t, func() bool { return d.State().Wings["B"].Seq == 1 }, 10*time.Second, 10*time.Millisecond, "a following pull gets new events as the site commits them")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestPullFromTheStartAfterRetention(t *testing.T) {
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 300)
	o.MustCommit(t, "B", 10)
	last, err := o.Store.LastPos()
	require.NoError(t, err)
	require.NoError(t, o.Store.SaveCheckpoint(last, nil))
	rep, err := o.Store.Prune(time.Now(), 1, 1000)
	require.NoError(t, err)
	require.Equal(t, 299, rep.Events)
	dir := t.TempDir()
	d, err := export.OpenDir(dir, o.CA, 0)
	require.NoError(t, err)
	require.NoError(t, client(t, o, o.URL).Follow(context.Background(), d, true))
	require.NoError(t, d.Close())
	v, err := export.VerifyDir(o.CA, dir)
	require.NoError(t, err, "a pull from the start begins at the retention floor, and verifies")
	assert.Equal(t, 11, v.Records)
	assert.Equal(t, uint64(299), v.From.Wings["A"].Seq)
	assert.Equal(t, v.Last, v.Proven)
}

// kept is a sink that keeps the cursors of the records it is given, and
// fails the write after failAfter pages when that is set.
type kept struct {
	state     export.State
	cursors   []string
	writes    int
	failAfter int
}

func (k *kept) State() export.State { return k.state }
func (k *kept) Write(p export.Page, after export.State) error {
	if k.failAfter > 0 && k.writes == k.failAfter {
		return errors.New("the disk is full")
	}
	k.writes++
	for _, r := range p.Records {
		k.cursors = append(k.cursors, r.Cursor)
	}
	k.state = after
	return nil
}

// commitEntries commits entries of 50 events, of wings A and B in turn:
// with a limit of 50, page k is entry k.
func commitEntries(t *testing.T, o *wingtest.Order, entries int) {
	for i := range entries {
		o.MustCommit(t, []string{"A", "B"}[i%2], 50)
	}
}

// afterEntry is the cursor of the last event of entry i.
func afterEntry(o *wingtest.Order, i int) string {
	return export.Cursor{Index: uint64(i), N: 49, Site: export.SiteTag(o.ID.SiteID())}.String()
}

// wing serves the pull, altering or refusing the pages after some cursors.
type wing struct {
	pull    http.Handler
	alter   string // the after whose page has a byte altered
	downAt  string // from the page after this, the wing answers 503
	down    atomic.Bool
	answers atomic.Int32
}

func (w *wing) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("after")
	if after != "" && after == w.downAt {
		w.down.Store(true)
	}
	if w.down.Load() {
		http.Error(rw, `{"error":"stopped"}`, http.StatusServiceUnavailable)
		return
	}
	w.answers.Add(1)
	if after == "" || after != w.alter {
		w.pull.ServeHTTP(rw, r)
		return
	}
	serveAltered(rw, r, w.pull)
}

// serveAltered answers r as pull would, with one byte of the first
// event's subject changed on the way.
func serveAltered(w http.ResponseWriter, r *http.Request, pull http.Handler) {
	rec := httptest.NewRecorder()
	pull.ServeHTTP(rec, r)
	b := rec.Body.Bytes()
	if i := bytes.Index(b, []byte("1-01-CALL")); i > 0 {
		b[i] = 'X'
	}
	w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
	w.Write(b)
}

func TestFollowKeepsNothingFromAPageThatDoesNotVerifyOn(t *testing.T) {
	o := wingtest.StartOrder(t)
	commitEntries(t, o, 10)
	w := &wing{pull: o.Pull, alter: afterEntry(o, 4)}
	s := httptest.NewServer(w)
	defer s.Close()
	sink := &kept{}
	err := client(t, o, s.URL).Follow(context.Background(), sink, true)
	require.ErrorIs(t, err, pull.ErrBadPage)
	assert.Equal(t, 4, sink.writes, "the pages before the bad one are kept, and none after it, though it fetched ahead")
	require.Len(t, sink.cursors, 200)
	assert.Equal(t, afterEntry(o, 4), sink.state.Cursor)
	assert.Equal(t, afterEntry(o, 4), sink.cursors[199])
	assert.Equal(t, uint64(100), sink.state.Wings["A"].Seq)
	assert.Equal(t, uint64(100), sink.state.Wings["B"].Seq)
}

func TestFollowFailsOverMidStreamAndKeepsEveryEventOnce(t *testing.T) {
	o := wingtest.StartOrder(t)
	commitEntries(t, o, 12)
	first := &wing{pull: o.Pull, downAt: afterEntry(o, 5)}
	second := &wing{pull: o.Pull}
	s1, s2 := httptest.NewServer(first), httptest.NewServer(second)
	defer s1.Close()
	defer s2.Close()
	dir := t.TempDir()
	d, err := export.OpenDir(dir, o.CA, 0)
	require.NoError(t, err)
	require.NoError(t, client(t, o, s1.URL, s2.URL).Follow(context.Background(), d, true))
	require.NoError(t, d.Close())
	rep, err := export.VerifyDir(o.CA, dir)
	require.NoError(t, err, "every event once, in order, each wing's chain whole")
	assert.Equal(t, 600, rep.Records)
	assert.Equal(t, rep.Last, rep.Proven)
	assert.Positive(t, second.answers.Load(), "the second wing answered the rest")
}

func TestFollowStopsAtASinkError(t *testing.T) {
	o := wingtest.StartOrder(t)
	commitEntries(t, o, 8)
	sink := &kept{failAfter: 3}
	err := client(t, o, o.URL).Follow(context.Background(), sink, true)
	require.ErrorContains(t, err, "the disk is full")
	assert.Equal(t, 3, sink.writes)
	assert.Len(t, sink.cursors, 150)
	assert.Equal(t, afterEntry(o, 3), sink.state.Cursor)
}
