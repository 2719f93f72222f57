package command

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wingtest"
)

// record appends n events to a wing's store, as its inputs would.
func record(t *testing.T, w *wingtest.Wing, n int) {
	t.Helper()
	for i := range n {
		_, err := w.Store().Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: fmt.Sprintf("%s1-%02d", w.Layout().ID, i%20+1), Actor: event.SystemActor})
		require.NoError(t, err)
	}
}

// settled waits until every wing of wings holds every wing's events
// committed, as far as each wing's own head.
func settled(t *testing.T, wings ...*wingtest.Wing) {
	t.Helper()
	require.Eventually(t, func() bool {
		want := map[string]uint64{}
		for _, w := range wings {
			h, err := w.Store().Heads()
			require.NoError(t, err)
			want[w.Layout().ID] = h[w.Layout().ID]
		}
		for _, w := range wings {
			st, err := w.Store().Site()
			require.NoError(t, err)
			for id, seq := range want {
				if st.Committed[id] < seq {
					return false
				}
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "every wing holds every wing's events committed")
}

// rebuilt waits until a wing has rebuilt its events from the site and
// records again.
func rebuilt(t *testing.T, w *wingtest.Wing) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := os.Stat(w.Data.Rebuild())
		return os.IsNotExist(err)
	}, 60*time.Second, 20*time.Millisecond, "wing %s rebuilds from the site", w.Layout().ID)
	_, err := w.Store().Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: w.Layout().ID + "1-01", Actor: event.SystemActor})
	require.NoError(t, err, "and records again")
}

var tokenLine = regexp.MustCompile(`(?m)^wnt1-\S+$`)

// replace has the site let a new board take id's place and returns the
// enrolment token for it.
func replace(t *testing.T, ca *wingtest.Wing, id string) string {
	t.Helper()
	status, out, errs := execute("site", "replace", "-data", string(ca.Data), id)
	require.Equal(t, 0, status, errs)
	tok := tokenLine.FindString(out)
	require.NotEmpty(t, tok, out)
	return tok
}

// sameOrder checks that two wings hold the same commit order, each event
// once, and that b's store verifies.
func sameOrder(t *testing.T, a, b *wingtest.Wing) {
	t.Helper()
	read := func(w *wingtest.Wing) (out []store.Commit) {
		var index uint64
		var n uint32
		for {
			page, err := w.Store().CommitsAfter(index, n, 1000)
			require.NoError(t, err)
			if len(page) == 0 {
				return out
			}
			out = append(out, page...)
			index, n = page[len(page)-1].Index, page[len(page)-1].N
		}
	}
	oa, ob := read(a), read(b)
	require.Equal(t, len(oa), len(ob), "the same commit order on %s and %s", a.Layout().ID, b.Layout().ID)
	seen := map[event.ID]bool{}
	for i := range oa {
		require.Equal(t, oa[i].Event.Hash, ob[i].Event.Hash, "commit %d.%d", oa[i].Index, oa[i].N)
		require.False(t, seen[oa[i].Event.ID()], "%s once", oa[i].Event.ID())
		seen[oa[i].Event.ID()] = true
	}
}

// TestRestoreDrillAndBoardReplacement: wing B's board dies; a new board
// restored from a backup taken while B recorded rejoins, rebuilds what B
// recorded since, and continues B's chain. Then wing C's board dies with
// no backup: a new board enrolled as C rebuilds C from the site alone.
func TestRestoreDrillAndBoardReplacement(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and replaces wings of a three-wing site; skipped in -short")
	}
	var alog wingtest.Log
	wings := wingtest.StartSite(t, []string{"A", "B", "C"}, 3, func(id string) appliance.Config {
		c := appliance.Config{API: appliance.APIConfig{Listen: "127.0.0.1:0"}}
		if id == "A" {
			c.Log = slog.New(slog.NewTextHandler(&alog, nil))
		}
		return c
	})
	defer func() {
		if t.Failed() {
			t.Log("DEBUGA", alog.Tail(8000))
		}
	}()
	a, b, c := wings[0], wings[1], wings[2]
	status, token, errs := execute("site", "client-token", "-data", string(a.Data), "-role", "siteit", "drill")
	require.Equal(t, 0, status, errs)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	ca := filepath.Join(a.Data.Identity(), "site-ca.crt")

	record(t, b, 200)
	record(t, a, 100)
	settled(t, a, b, c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	api, err := b.APIAddr(ctx)
	cancel()
	require.NoError(t, err)
	backup := filepath.Join(t.TempDir(), "b.db")
	// The backup is taken while B records.
	done := make(chan struct{})
	go func() {
		defer close(done)
		record(t, b, 100)
	}()
	status, out, errs := execute("backup", "-from", "https://"+api, "-ca", ca, "-token-file", tokenFile, "-out", backup)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "wing B")
	<-done
	record(t, b, 50)
	record(t, c, 30)
	settled(t, a, b, c)
	before, err := b.Store().Heads()
	require.NoError(t, err)
	require.NoError(t, b.Stop())
	require.Eventually(t, func() bool { l := a.Status().Leader; return l != "" && l != "B" }, 30*time.Second, 20*time.Millisecond, "the site elects a leader without B")

	root := t
	t.Run("restored from a backup", func(t *testing.T) {
		dir := t.TempDir()
		status, out, errs := execute("restore", "-data", dir, backup)
		require.Equal(t, 0, status, errs)
		assert.Contains(t, out, "wing B restored")
		assert.Contains(t, out, "site replace B")
		status, _, _ = execute("restore", "-data", dir, backup)
		assert.Equal(t, 1, status, "a folder that holds a store is refused")

		tok := replace(t, a, "B")
		var log wingtest.Log // the new board outlives this step: the next one needs its vote
		nb := wingtest.Start(root, appliance.Config{DataDir: dir, SimulatedWing: "B", Site: appliance.SiteConfig{JoinToken: tok},
			Log: slog.New(slog.NewTextHandler(&log, nil))})
		defer func() {
			if t.Failed() {
				t.Log(log.Tail(6000))
			}
		}()
		rebuilt(t, nb)
		heads, err := nb.Store().Heads()
		require.NoError(t, err)
		assert.GreaterOrEqual(t, heads["B"], before["B"], "the new board rebuilt what B recorded after the backup before recording")
		record(t, nb, 40)
		settled(t, a, nb, c)
		sameOrder(t, a, nb)
		require.Eventually(t, func() bool { return len(a.Voters()) == 3 }, 30*time.Second, 20*time.Millisecond, "the new board votes again once it has caught up")
		b = nb
	})
	t.Run("replaced without a backup", func(t *testing.T) {
		before, err := c.Store().Heads()
		require.NoError(t, err)
		require.NoError(t, c.Stop())
		require.Eventually(t, func() bool { l := a.Status().Leader; return l != "" && l != "C" }, 30*time.Second, 20*time.Millisecond, "the site elects a leader without C")
		tok := replace(t, a, "C")
		nc := wingtest.Start(root, appliance.Config{SimulatedWing: "C", Rebuild: true, Site: appliance.SiteConfig{JoinToken: tok}})
		rebuilt(t, nc)
		heads, err := nc.Store().Heads()
		require.NoError(t, err)
		assert.GreaterOrEqual(t, heads["C"], before["C"], "the new board rebuilt C's chain from the site")
		record(t, nc, 25)
		settled(t, a, b, nc)
		sameOrder(t, a, nc)
		require.NoError(t, nc.Stop())
		rep, err := store.Verify(nc.Data.Store())
		require.NoError(t, err, "C's store verifies: one chain from seq 1")
		assert.GreaterOrEqual(t, rep.Wings["C"], heads["C"]+25+1, "its events continue the chain (25 events and the stop, at least)")
	})
}
