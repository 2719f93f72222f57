package appliance

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// siteAddr waits until a wing's site port is open and returns its address.
func siteAddr(t *testing.T, r *running) string {
	t.Helper()
	require.Eventually(t, func() bool { return r.SiteNode() != nil }, 10*time.Second, 10*time.Millisecond)
	b, err := os.ReadFile(filepath.Join(r.cfg.DataDir, addrFile))
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// token issues an enrolment token on a wing that holds the site CA.
func token(t *testing.T, r *running) string {
	t.Helper()
	addr := siteAddr(t, r)
	ca, err := trust.LoadAuthority(filepath.Join(r.cfg.DataDir, caFolder))
	require.NoError(t, err)
	tok, err := ca.IssueToken(addr, time.Hour)
	require.NoError(t, err)
	return tok
}

func TestThreeWingsShareAlarms(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	a := start(t, Config{SimulatedWing: "A"})
	b := start(t, Config{SimulatedWing: "B", Site: SiteConfig{JoinToken: token(t, a)}})
	c := start(t, Config{SimulatedWing: "C", Site: SiteConfig{JoinToken: token(t, a)}})

	// A cell call on B shows on A and C.
	b.set(t, "B1-04-CALL", true)
	for _, r := range []*running{a, b, c} {
		require.Eventually(t, func() bool {
			_, ok := r.State().ActiveAlarmOn("B1-04-CALL")
			return ok
		}, 20*time.Second, 20*time.Millisecond, "wing %s sees B's alarm", r.layout.ID)
	}
	// All three end up voters and agree on the members.
	require.Eventually(t, func() bool {
		st := a.SiteNode().Status()
		voters := 0
		for _, w := range st.Wings {
			if w.Voter {
				voters++
			}
		}
		return voters == 3
	}, 20*time.Second, 50*time.Millisecond)

	// A central system pulls the site's events in commit order from any
	// wing: the same order everywhere, resumable on another wing, each
	// event's body hashing to its hash and each wing's chain whole.
	a.set(t, "A1-01-CALL", true)
	c.set(t, "C1-02-CALL", true)
	var all []site.CommittedEvent
	require.Eventually(t, func() bool {
		all = pullEvents(t, a.addr, "", 1000)
		committed := map[string]uint64{}
		for _, r := range all {
			committed[r.Event.Wing] = r.Event.Seq
		}
		for _, w := range []*running{a, b, c} {
			heads, err := w.Store().Heads()
			require.NoError(t, err)
			if committed[w.layout.ID] < heads[w.layout.ID] {
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
	rest := pullEvents(t, c.addr, half[len(half)-1].Cursor, 7)
	require.Equal(t, all[:len(half)+len(rest)], append(append([]site.CommittedEvent{}, half...), rest...), "a cursor from A resumes on C")

	resp, err := http.Get("http://" + b.addr + "/api/v1/site/events?after=bogus")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// pullEvents reads a wing's /api/v1/site/events from after until a page
// comes back empty, limit events a page.
func pullEvents(t *testing.T, addr, after string, limit int) []site.CommittedEvent {
	t.Helper()
	var out []site.CommittedEvent
	for {
		resp, err := http.Get(fmt.Sprintf("http://%s/api/v1/site/events?after=%s&limit=%d", addr, after, limit))
		require.NoError(t, err)
		var page site.EventPage
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

// voters returns the wings that vote, as the wing r sees its site.
func voters(r *running) []string {
	var out []string
	for _, w := range r.SiteNode().Status().Wings {
		if w.Voter {
			out = append(out, w.Wing)
		}
	}
	return out
}

// TestVotesMoveFromALostWing: at most MaxVoters wings vote, the others
// follow; when a voter stays unreachable, its vote moves to a healthy
// wing, and the site keeps committing with the lost wing gone.
func TestVotesMoveFromALostWing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four wings with raft; skipped in -short")
	}
	sc := SiteConfig{MaxVoters: 3, ReplaceVoterAfter: 2 * time.Second}
	a := start(t, Config{SimulatedWing: "A", Site: sc})
	wings := map[string]*running{"A": a}
	for _, id := range []string{"B", "C", "D"} {
		sc.JoinToken = token(t, a)
		wings[id] = start(t, Config{SimulatedWing: id, Site: sc})
	}
	require.Eventually(t, func() bool {
		return len(a.SiteNode().Status().Wings) == 4 && len(voters(a)) == 3
	}, 20*time.Second, 50*time.Millisecond, "four wings, three of them voting")
	time.Sleep(time.Second)
	require.Len(t, voters(a), 3, "never more than MaxVoters")

	// Stop a voter that does not lead (and is not A, which the test asks).
	var lost string
	for _, v := range voters(a) {
		if v != a.SiteNode().Status().Leader && v != "A" {
			lost = v
			break
		}
	}
	require.NotEmpty(t, lost)
	require.NoError(t, wings[lost].stop())
	var spare string
	for id := range wings {
		if !slices.Contains(voters(a), id) {
			spare = id
		}
	}
	require.Eventually(t, func() bool {
		v := voters(a)
		return len(v) == 3 && !slices.Contains(v, lost) && slices.Contains(v, spare)
	}, 30*time.Second, 50*time.Millisecond, "wing %s's vote moves to wing %s", lost, spare)

	// The site still commits: an alarm on the promoted wing reaches A.
	point := spare + "1-03-CALL"
	wings[spare].set(t, point, true)
	require.Eventually(t, func() bool {
		_, ok := a.State().ActiveAlarmOn(point)
		return ok
	}, 20*time.Second, 20*time.Millisecond)
}
