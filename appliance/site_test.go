package appliance_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/event"
	"wingnode/appliance/wingtest"
	"wingnode/sync/export"
	"wingnode/sync/pull"
	"wingnode/sync/trust"
)

func TestThreeWingsShareAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	wings := wingtest.StartSite(t, []string{"A", "B", "C"}, 3, nil)
	a, b, c := wings[0], wings[1], wings[2]

	// A cell call on B shows on A and C.
	b.Set(t, "B1-04-CALL", true)
	for _, r := range []*wingtest.Wing{a, b, c} {
		require.Eventually(t, func() bool {
			_, ok := r.State().ActiveAlarmOn("B1-04-CALL")
			return ok
		}, 20*time.Second, 20*time.Millisecond, "wing %s sees B's alarm", r.Layout().ID)
	}
	// A central system pulls the site's events in commit order from any
	// wing: the same order everywhere, resumable on another wing, each
	// event's body hashing to its hash and each wing's chain whole.
	a.Set(t, "A1-01-CALL", true)
	c.Set(t, "C1-02-CALL", true)
	var all []export.Record
	require.Eventually(t, func() bool {
		all = pullEvents(t, a.HTTP, "", 1000)
		committed := map[string]uint64{}
		for _, r := range all {
			committed[r.Event.Wing] = r.Event.Seq
		}
		for _, w := range []*wingtest.Wing{a, b, c} {
			heads, err := w.Store().Heads()
			require.NoError(t, err)
			if committed[w.Layout().ID] < heads[w.Layout().ID] {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "every wing's events are committed")
	prev := map[string]event.Hash{}
	for _, r := range all {
		e := r.Event
		require.Equal(t, e.Hash, event.Hash(sha256.Sum256(r.Body)), "the body of %s hashes to its hash", e.ID())
		require.Equal(t, e.Prev[:], r.Body[len(r.Body)-32:], "the body of %s ends with its prev", e.ID())
		require.Equal(t, prev[e.Wing], e.Prev, "%s follows the wing's previous event", e.ID())
		prev[e.Wing] = e.Hash
	}
	half := all[:len(all)/2]
	rest := pullEvents(t, c.HTTP, half[len(half)-1].Cursor, 7)
	require.Equal(t, all[:len(half)+len(rest)], append(append([]export.Record{}, half...), rest...), "a cursor from A resumes on C")

	resp, err := http.Get("http://" + b.HTTP + "/api/v1/site/events?after=bogus")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// pullEvents reads a wing's /api/v1/site/events from after until a page
// comes back empty, limit events a page.
func pullEvents(t *testing.T, addr, after string, limit int) []export.Record {
	t.Helper()
	var out []export.Record
	for {
		u := fmt.Sprintf("http://%s/api/v1/site/events?limit=%d", addr, limit)
		if after != "" {
			u += "&after=" + after
		}
		resp, err := http.Get(u)
		require.NoError(t, err)
		var page export.Page
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&page))
		resp.Body.Close()
		if len(page.Records) == 0 {
			require.Equal(t, after, page.Next, "an empty page keeps the cursor")
			return out
		}
		out = append(out, page.Records...)
		after = page.Next
	}
}

// TestVotesMoveFromALostWing: at most MaxVoters wings vote, the others
// follow; when a voter stays unreachable, its vote moves to a healthy
// wing, and the site keeps committing with the lost wing gone.
func TestVotesMoveFromALostWing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four wings with raft; skipped in -short")
	}
	site := wingtest.StartSite(t, []string{"A", "B", "C", "D"}, 3, func(string) appliance.Config {
		return appliance.Config{Site: appliance.SiteConfig{MaxVoters: 3, ReplaceVoterAfter: 2 * time.Second}}
	})
	a := site[0]
	wings := map[string]*wingtest.Wing{}
	for _, w := range site {
		wings[w.Layout().ID] = w
	}
	time.Sleep(time.Second)
	require.Len(t, a.Voters(), 3, "never more than MaxVoters")

	// Stop a voter that does not lead (and is not A, which the test asks).
	var lost string
	for _, v := range a.Voters() {
		if v != a.Status().Leader && v != "A" {
			lost = v
			break
		}
	}
	require.NotEmpty(t, lost)
	require.NoError(t, wings[lost].Stop())
	var spare string
	for id := range wings {
		if !slices.Contains(a.Voters(), id) {
			spare = id
		}
	}
	require.Eventually(t, func() bool {
		v := a.Voters()
		return len(v) == 3 && !slices.Contains(v, lost) && slices.Contains(v, spare)
	}, 30*time.Second, 50*time.Millisecond, "wing %s's vote moves to wing %s", lost, spare)

	// The site still commits: an alarm on the promoted wing reaches A.
	point := spare + "1-03-CALL"
	wings[spare].Set(t, point, true)
	require.Eventually(t, func() bool {
		_, ok := a.State().ActiveAlarmOn(point)
		return ok
	}, 20*time.Second, 20*time.Millisecond)
}

// TestCentralPullFailsOverAcrossWings: a central system follows the site
// from wing A; A stops; the pull carries on from B with the same cursor,
// and ends with every committed event once, verified.
func TestCentralPullFailsOverAcrossWings(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	wings := wingtest.StartSite(t, []string{"A", "B", "C"}, 3, nil)
	a, b, c := wings[0], wings[1], wings[2]
	ca, err := trust.ReadCA(filepath.Join(a.Data.Identity(), "site-ca.crt"))
	require.NoError(t, err)
	client, err := pull.New(pull.Config{Wings: []string{"http://" + a.HTTP, "http://" + b.HTTP, "http://" + c.HTTP}, CA: ca,
		Limit: 50, Wait: time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	dir, err := export.OpenDir(t.TempDir(), ca, 200)
	require.NoError(t, err)
	defer dir.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	followed := make(chan error, 1)
	go func() { followed <- client.Follow(ctx, dir, false) }()

	record := func(w *wingtest.Wing, n int) {
		for i := range n {
			_, err := w.Store().Append(ctx, event.Draft{Kind: event.DoorOpened, Subject: fmt.Sprintf("%s1-%02d", w.Layout().ID, i%20+1), Actor: event.SystemActor})
			require.NoError(t, err)
		}
	}
	record(a, 300)
	record(c, 200)
	require.Eventually(t, func() bool { return dir.State().Wings["C"].Seq >= 200 }, 30*time.Second, 20*time.Millisecond, "the pull follows A")
	require.NoError(t, a.Stop())
	record(b, 300)
	record(c, 100)
	heads := func() map[string]uint64 {
		h := map[string]uint64{}
		for _, w := range []*wingtest.Wing{b, c} {
			st := w.Status()
			for _, ws := range st.Wings {
				h[ws.Wing] = max(h[ws.Wing], ws.Committed)
			}
		}
		return h
	}
	var stopped error
	reached := 0 // the events of every wing up to the site's head, once it is reached
	require.Eventually(t, func() bool {
		select {
		case stopped = <-followed:
			return true
		default:
		}
		st := dir.State()
		h := heads()
		held, _ := b.Store().Heads()
		reached = int(h["A"] + h["B"] + h["C"])
		return h["B"] >= held["B"] && st.Wings["B"].Seq == h["B"] && st.Wings["C"].Seq == h["C"] && st.Wings["A"].Seq == h["A"]
	}, 60*time.Second, 50*time.Millisecond, "after A stops, the pull carries on from another wing up to the site's head")
	require.NoError(t, stopped, "the pull stopped while the site still ran")
	cancel()
	<-followed
	rep, err := export.VerifyDir(ca, dir.Path())
	require.NoError(t, err)
	// The wings go on recording their own events after that (a peer lost,
	// a link back): the export holds at least the head reached, each once.
	assert.GreaterOrEqual(t, rep.Records, reached, "every committed event up to the head reached")
	final := dir.State()
	assert.Equal(t, int(final.Wings["A"].Seq+final.Wings["B"].Seq+final.Wings["C"].Seq), rep.Records, "every event of the export once, each wing's chain from its first")
}
