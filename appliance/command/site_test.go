package command

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"wingnode/appliance/wingtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSiteCommands drives a running two-wing site from the command line,
// as site IT would: status, the officer roster, and decommissioning.
func TestSiteCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts wings with raft; skipped in -short")
	}
	wings := wingtest.StartSite(t, []string{"A", "B"}, 2, nil)
	a := wings[0]
	dataA, dataB := string(a.Data), string(wings[1].Data)

	status, out, errs := execute("site", "status", "-data", dataB)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "leader \"A\"")
	assert.Contains(t, out, "officer roster: 0 officers")

	roster := filepath.Join(t.TempDir(), "roster")
	require.NoError(t, os.WriteFile(roster, []byte("# C wing day shift\nOFF-1021\n\nOFF-1022\nJohn Smith\nOFF-1021\n"), 0o600))
	status, _, errs = execute("site", "roster", "-data", dataB, "-set", roster)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, roster+":5: \"John Smith\" is not an officer identifier")
	assert.Contains(t, errs, roster+":6: OFF-1021 is already on line 2")
	assert.Empty(t, a.Status().Agreed.Roster, "nothing changes on a bad roster")

	require.NoError(t, os.WriteFile(roster, []byte("OFF-1021\nOFF-1022\n"), 0o600))
	status, out, errs = execute("site", "roster", "-data", dataB, "-set", roster)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "2 officers")
	require.Eventually(t, func() bool { return len(a.Status().Agreed.Roster) == 2 }, 10*time.Second, 20*time.Millisecond, "every wing agrees the roster")
	status, out, _ = execute("site", "roster", "-data", dataA)
	require.Equal(t, 0, status)
	assert.Equal(t, "OFF-1021\nOFF-1022\n", out)

	status, _, errs = execute("site", "decommission", "-data", dataB, "B")
	assert.Equal(t, 1, status, "a wing cannot decommission itself")
	assert.Contains(t, errs, "cannot decommission itself")
	status, out, errs = execute("site", "decommission", "-data", dataA, "B")
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "wing B decommissioned")
	assert.Eventually(t, func() bool { return a.Status().Agreed.Wings["B"].Removed }, 10*time.Second, 20*time.Millisecond)
	status, _, _ = execute("site", "decommission", "-data", dataA)
	assert.Equal(t, 2, status, "the wing must be named")
}
