package pull_test

import (
	"bytes"
	"context"
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
		rec := httptest.NewRecorder()
		f.pull.ServeHTTP(rec, r)
		b := rec.Body.Bytes()
		if i := bytes.Index(b, []byte("1-01-CALL")); i > 0 {
			b[i] = 'X'
		}
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.Write(b)
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
