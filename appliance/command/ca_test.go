package command

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/datadir"
	"wingnode/appliance/wingtest"
	"wingnode/sync/trust"
)

const caPass = "tide-lamp-orchard-42\n"

// stoppedWings makes the data folders of two stopped wings of one site, A
// holding the site CA and B not, and of a wing O of another site.
func stoppedWings(t *testing.T) (a, b, o datadir.Dir) {
	t.Helper()
	a, b, o = datadir.Dir(t.TempDir()), datadir.Dir(t.TempDir()), datadir.Dir(t.TempDir())
	_, ca, err := wingtest.NewIdentity(a.Site(), "north", "A")
	require.NoError(t, err)
	_, err = trust.NewIdentity(b.Identity(), "B", ca)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(b.SiteAddr(), []byte("127.0.0.1:7443\n"), 0o600))
	_, _, err = wingtest.NewIdentity(o.Site(), "south", "O")
	require.NoError(t, err)
	return a, b, o
}

// TestCABackupAndRestoreRefusals: site IT backs up the site CA with a
// passphrase from standard input or a file, never the command line; a
// restore of another site's CA, with a wrong passphrase, from a changed
// file, on a folder that is not a wing or that holds a CA, is refused
// with a sentence and writes nothing; the right one makes wing B issue
// tokens that point at B.
func TestCABackupAndRestoreRefusals(t *testing.T) {
	a, b, o := stoppedWings(t)
	files := t.TempDir()
	backup := filepath.Join(files, "north.cab")

	status, _, errs := executeIn(strings.NewReader(caPass), "site", "ca-backup", "-data", string(b), "-out", backup)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "holds no site CA")
	status, _, _ = executeIn(strings.NewReader(caPass), "site", "ca-backup", "-data", string(a))
	assert.Equal(t, 2, status, "-out is needed")
	status, _, errs = executeIn(strings.NewReader("short\n"), "site", "ca-backup", "-data", string(a), "-out", backup)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "at least 12 characters")
	assert.NoFileExists(t, backup)

	status, out, errs := executeIn(strings.NewReader(caPass), "site", "ca-backup", "-data", string(a), "-out", backup)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "the site CA of site north, sealed")
	assert.NotContains(t, out+errs, strings.TrimSpace(caPass))
	info, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	status, _, errs = executeIn(strings.NewReader(caPass), "site", "ca-backup", "-data", string(a), "-out", backup)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "exists: choose another name")

	passFile := filepath.Join(files, "pass")
	require.NoError(t, os.WriteFile(passFile, []byte(caPass), 0o600))
	other := filepath.Join(files, "south.cab")
	status, _, errs = execute("site", "ca-backup", "-data", string(o), "-out", other, "-passphrase-file", passFile)
	require.Equal(t, 0, status, errs)

	sealed, err := os.ReadFile(backup)
	require.NoError(t, err)
	changed := append([]byte{}, sealed...)
	changed[len(changed)-20] ^= 0x80
	tampered := filepath.Join(files, "tampered.cab")
	require.NoError(t, os.WriteFile(tampered, changed, 0o600))
	notWing := datadir.Dir(t.TempDir())

	for _, c := range []struct {
		name, data, file, pass, says string
	}{
		{"another site's CA", string(b), other, caPass, "another site's CA"},
		{"a wrong passphrase", string(b), backup, "tide-lamp-orchard-43\n", "wrong passphrase"},
		{"a changed file", string(b), tampered, caPass, "altered or damaged"},
		{"not a backup", string(b), passFile, caPass, "not a wingnode site CA backup"},
		{"no passphrase", string(b), backup, "", "no passphrase given"},
		{"a folder that is not a wing", string(notWing), backup, caPass, "not a wing of a site yet"},
		{"the wing that holds the CA", string(a), backup, caPass, "already holds the site CA"},
	} {
		status, _, errs := executeIn(strings.NewReader(c.pass), "site", "ca-restore", "-data", c.data, c.file)
		assert.Equal(t, 1, status, c.name)
		assert.Contains(t, errs, c.says, c.name)
		assert.Contains(t, errs, "nothing was written", c.name)
	}
	assert.NoDirExists(t, b.CA(), "a refused restore writes nothing")
	assert.NoDirExists(t, notWing.Site())
	status, _, errs = execute("site", "token", "-data", string(b))
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "holds no site CA")

	status, out, errs = executeIn(strings.NewReader(caPass), "site", "ca-restore", "-data", string(b), backup)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "the site CA of site north is installed on wing B")
	assert.Contains(t, out, "serves enrolment at 127.0.0.1:7443")
	status, out, errs = execute("site", "token", "-data", string(b))
	require.Equal(t, 0, status, errs)
	tok, err := trust.ParseToken(strings.TrimSpace(out))
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:7443", tok.Addr, "the token sends the new board to B, which now holds the CA")
	status, _, errs = executeIn(strings.NewReader(caPass), "site", "ca-restore", "-data", string(b), backup)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "already holds the site CA")

	for _, verb := range []string{"ca-backup", "ca-restore"} {
		status, _, errs := execute("site", verb, "-h")
		assert.Equal(t, 0, status)
		assert.Contains(t, errs, "Usage: wingnode site "+verb)
		assert.Contains(t, errs, "never from the command line", "ca-restore reads it as ca-backup does")
	}
}

// TestSiteCASurvivesTheFoundingWing: a site backs up its CA on A, the
// wing that formed it, and grows to three wings; A's board is lost,
// folder and all. The
// backup restored on the running wing B makes B the site's CA: a new
// board enrols through B and replicates with the site, and 'site replace'
// prints its token on B.
func TestSiteCASurvivesTheFoundingWing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-wing site and enrols a fourth; skipped in -short")
	}
	wings := wingtest.StartSite(t, []string{"A", "B"}, 2, nil)
	a, b := wings[0], wings[1]
	backup := filepath.Join(t.TempDir(), "site-ca.cab")
	status, _, errs := executeIn(strings.NewReader(caPass), "site", "ca-backup", "-data", string(a.Data), "-out", backup)
	require.Equal(t, 0, status, errs)
	// C enrols after the backup: the backup's issued/ does not know it.
	c := wingtest.Start(t, appliance.Config{SimulatedWing: "C", Site: appliance.SiteConfig{JoinToken: a.Token(t)}})
	require.Eventually(t, func() bool { return len(b.Voters()) == 3 }, 60*time.Second, 50*time.Millisecond, "C votes")
	record(t, a, 20)
	record(t, b, 20)
	settled(t, a, b, c)

	// A's board is lost.
	require.NoError(t, a.Stop())
	require.NoError(t, os.RemoveAll(string(a.Data)))
	require.Eventually(t, func() bool { l := b.Status().Leader; return l == "B" || l == "C" }, 30*time.Second, 20*time.Millisecond, "B and C elect a leader")
	status, _, errs = execute("site", "token", "-data", string(b.Data))
	require.Equal(t, 1, status, "B holds no CA yet")
	assert.Contains(t, errs, "ca-restore")
	status, _, errs = execute("site", "decommission", "-data", string(b.Data), "A")
	require.Equal(t, 0, status, errs)

	status, out, errs := executeIn(strings.NewReader(caPass), "site", "ca-restore", "-data", string(b.Data), backup)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "installed on wing B")
	status, out, errs = execute("site", "token", "-data", string(b.Data))
	require.Equal(t, 0, status, errs)
	tok := strings.TrimSpace(out)
	parsed, err := trust.ParseToken(tok)
	require.NoError(t, err)
	assert.Equal(t, b.SiteAddr(t), parsed.Addr)

	d := wingtest.Start(t, appliance.Config{SimulatedWing: "D", Site: appliance.SiteConfig{JoinToken: tok}})
	require.Eventually(t, func() bool {
		st := c.Status()
		for _, w := range st.Wings {
			if w.Wing == "D" {
				return true
			}
		}
		return false
	}, 60*time.Second, 50*time.Millisecond, "D, enrolled through B, is a wing of the site")
	record(t, d, 30)
	record(t, c, 10)
	settled(t, b, c, d)
	sameOrder(t, b, d)
	id, err := trust.LoadIdentity(d.Data.Identity())
	require.NoError(t, err)
	assert.Equal(t, "D", id.Wing())

	// The restored CA knows the site's wings: C, enrolled by A after the
	// backup, is not enrolled twice; 'site replace' on B prints the token
	// for a new board of a wing (one that does not lead: the site refuses
	// to replace its leader while it runs).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	status, out, errs = execute("site", "token", "-data", string(b.Data))
	require.Equal(t, 0, status, errs)
	_, err = trust.Join(ctx, t.TempDir(), "C", strings.TrimSpace(out), nil)
	require.Error(t, err, "a second certificate for wing C")
	assert.Contains(t, err.Error(), "refused")
	var tokNew string
	for _, w := range []string{"C", "D"} {
		status, out, errs := execute("site", "replace", "-data", string(b.Data), w)
		if status == 0 {
			tokNew = tokenLine.FindString(out)
			break
		}
		require.Contains(t, errs, "the leader cannot be replaced", "replace %s", w)
	}
	_, err = trust.ParseToken(tokNew)
	require.NoError(t, err, "site replace prints a token on B")
}
