package command

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rosterpkg "wingnode/appliance/roster"
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
	require.NoError(t, os.WriteFile(roster, []byte("# C wing day shift\nOFF-1021 officer\n\nOFF-1022 supervisor\nJohn Smith officer\nOFF-1021 officer\nOFF-1023 governor\nOFF-1024\n"), 0o600))
	status, _, errs = execute("site", "roster", "-data", dataB, "-set", roster)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, roster+":5: \"John Smith officer\" is not \"NUMBER ROLE\": an officer number has no spaces")
	assert.Contains(t, errs, roster+":6: OFF-1021 is already on line 2")
	assert.Contains(t, errs, roster+":7: \"governor\" is not a role (want officer, supervisor or siteit)")
	assert.Contains(t, errs, roster+":8: officer OFF-1024 has no role")
	assert.Empty(t, a.Status().Agreed.Roster, "nothing changes on a bad roster")

	require.NoError(t, os.WriteFile(roster, []byte("OFF-1022 supervisor\nOFF-1021 officer\n"), 0o600))
	status, out, errs = execute("site", "roster", "-data", dataB, "-set", roster)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "2 officers")
	require.Eventually(t, func() bool { return len(a.Status().Agreed.Roster) == 2 && len(wings[1].Status().Agreed.Roster) == 2 },
		10*time.Second, 20*time.Millisecond, "every wing agrees the roster")
	status, out, _ = execute("site", "roster", "-data", dataA)
	require.Equal(t, 0, status)
	assert.Equal(t, "OFF-1021 officer\nOFF-1022 supervisor\n", out)

	// A PIN from a pipe: hashed here, agreed by the site, never shown.
	status, out, errs = executeIn(strings.NewReader("482913\n"), "site", "pin", "-data", dataB, "OFF-1021")
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "officer OFF-1021's PIN is set")
	signIn := func(w *wingtest.Wing, id, pin string) error {
		_, err := w.SignIn(t.Context(), id, pin)
		return err
	}
	require.Eventually(t, func() bool { return signIn(a, "OFF-1021", "482913") == nil }, 10*time.Second, 50*time.Millisecond,
		"every wing holds the new PIN's hash and signs the officer in with it")
	for _, c := range []struct{ pin, officer, says string }{
		{"98\n", "OFF-1021", "a PIN has 4 to 12 digits"},
		{"12ab\n", "OFF-1021", "a PIN has digits only"},
		{"", "OFF-1021", "no PIN given"},
		{"482913\n", "OFF-9999", "officer OFF-9999 is not on the site's roster"},
	} {
		status, _, errs = executeIn(strings.NewReader(c.pin), "site", "pin", "-data", dataB, c.officer)
		assert.Equal(t, 1, status, c.says)
		assert.Contains(t, errs, c.says)
		if c.pin != "" {
			assert.NotContains(t, errs, strings.TrimSpace(c.pin))
		}
	}
	status, _, _ = execute("site", "pin", "-data", dataB)
	assert.Equal(t, 2, status, "the officer must be named")

	// What leaves the site's state carries officers, never a PIN hash.
	status, out, _ = execute("site", "status", "-data", dataB, "-json")
	require.Equal(t, 0, status)
	assert.Contains(t, out, `"roster":[{"id":"OFF-1021","role":"officer"},{"id":"OFF-1022","role":"supervisor"}]`)
	assert.NotContains(t, out, "argon2id")
	status, out, _ = execute("site", "status", "-data", dataB)
	require.Equal(t, 0, status)
	assert.Contains(t, out, "officer roster: 2 officers")

	// A roster without OFF-1021 and back: the PIN goes with the officer.
	require.NoError(t, os.WriteFile(roster, []byte("OFF-1021 supervisor\n"), 0o600))
	status, _, errs = execute("site", "roster", "-data", dataA, "-set", roster)
	require.Equal(t, 0, status, errs)
	require.Eventually(t, func() bool {
		r := wings[1].Roster()
		return len(r) == 1 && r[0] == rosterpkg.Actor{ID: "OFF-1021", Role: rosterpkg.Supervisor}
	}, 10*time.Second, 20*time.Millisecond)
	assert.NoError(t, signIn(wings[1], "OFF-1021", "482913"), "an officer who stays keeps the PIN")

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

// TestSiteCommandsHelp: every site command explains itself on -h and
// --help and exits 0, without reaching a wing.
func TestSiteCommandsHelp(t *testing.T) {
	for _, verb := range []string{"token", "status", "decommission", "roster", "pin"} {
		for _, flag := range []string{"-h", "--help", "-help"} {
			status, _, errs := execute("site", verb, flag)
			assert.Equal(t, 0, status, "site %s %s", verb, flag)
			assert.Contains(t, errs, "Usage: wingnode site "+verb, "site %s %s", verb, flag)
		}
	}
	status, out, _ := execute("help", "site")
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "wingnode site pin [-data DIR] OFFICER")
	assert.Contains(t, out, "read from standard input, never from the command line")
	assert.Contains(t, out, "Roles: officer, supervisor, siteit")
}
