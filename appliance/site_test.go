package appliance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"wingnode/appliance/wing"
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
	_ = wing.LockSuffix
}
