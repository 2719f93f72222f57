package command

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/datadir"
	"wingnode/firmware"
)

func TestCommandFirmwareSignVerifyInstall(t *testing.T) {
	dir := t.TempDir()
	in := func(name string) string { return filepath.Join(dir, name) }
	status, out, errs := execute("firmware", "keygen", "-key", in("site.key"), "-public", in("site.pub"))
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "private "+in("site.key"))
	private, err := os.ReadFile(in("site.key"))
	require.NoError(t, err)
	assert.NotContains(t, out+errs, string(bytes.Fields(private)[2]), "the private key is never printed")
	status, _, _ = execute("firmware", "keygen", "-key", in("site.key"), "-public", in("other.pub"))
	assert.Equal(t, 1, status, "a private key is never overwritten")

	rootfs := bytes.Repeat([]byte("wingnode root file system "), 4096)
	require.NoError(t, os.WriteFile(in("rootfs.img"), rootfs, 0o644))
	sign := func(version, bundle string) {
		t.Helper()
		status, _, errs := execute("firmware", "sign", "-key", in("site.key"), "-hardware", "amd64-uefi", "-version", version,
			"-display", "v"+version, "-rootfs", in("rootfs.img"), "-out", in(bundle))
		require.Equal(t, 0, status, errs)
	}
	sign("7", "v7.bundle")

	status, out, errs = execute("firmware", "verify", "-trust", in("site.pub"), "-hardware", "amd64-uefi", in("v7.bundle"))
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "wingnode 7 (v7) for amd64-uefi: signature and payloads verified")
	status, _, errs = execute("firmware", "verify", "-trust", in("site.pub"), "-hardware", "rpi4", in("v7.bundle"))
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "hardware")

	// Another site's key is not trusted.
	_, _, _ = execute("firmware", "keygen", "-key", in("rogue.key"), "-public", in("rogue.pub"))
	status, _, _ = execute("firmware", "verify", "-trust", in("rogue.pub"), "-hardware", "amd64-uefi", in("v7.bundle"))
	assert.Equal(t, 1, status, "a bundle signed by another key is refused")

	// Install into the inactive slot of a device running version 5 on slot a.
	require.NoError(t, firmware.SaveSlots(in("slots.json"), firmware.NewSlots(5, "v5")))
	entries := filepath.Join(in("esp"), firmware.EntriesDir)
	require.NoError(t, os.MkdirAll(entries, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(entries, "root-a.conf"), []byte("linux /root-a/vmlinuz\n"), 0o644))
	status, out, errs = execute("firmware", "install", "-trust", in("site.pub"), "-hardware", "amd64-uefi",
		"-slots", in("slots.json"), "-slot-device", in("root-b.img"), "-esp", in("esp"), in("v7.bundle"))
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "installed into slot b")
	entry, err := os.ReadFile(filepath.Join(entries, "root-b+3.conf"))
	require.NoError(t, err, "the new slot's boot entry counts its tries")
	assert.Contains(t, string(entry), "options console=ttyS0 panic=-1 wingnode.slot=root-b\n")
	written, err := os.ReadFile(in("root-b.img"))
	require.NoError(t, err)
	assert.Equal(t, rootfs, written)
	slots, err := firmware.LoadSlots(in("slots.json"))
	require.NoError(t, err)
	assert.Equal(t, firmware.Trial, slots.Slot("b").Status)

	// A downgrade is refused, and the inactive slot is marked bad.
	require.NoError(t, firmware.SaveSlots(in("slots.json"), firmware.NewSlots(9, "v9")))
	status, _, errs = execute("firmware", "install", "-trust", in("site.pub"), "-hardware", "amd64-uefi",
		"-slots", in("slots.json"), "-slot-device", in("root-b.img"), "-esp", in("esp"), in("v7.bundle"))
	assert.Equal(t, 1, status)
	_, err = os.Stat(filepath.Join(entries, "root-b+3.conf"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a refused bundle leaves the slot without a boot entry")
	assert.Contains(t, errs, "slot b marked bad")
	slots, err = firmware.LoadSlots(in("slots.json"))
	require.NoError(t, err)
	assert.Equal(t, firmware.Bad, slots.Slot("b").Status)
	assert.Equal(t, firmware.SlotName("a"), slots.Active)

	status, out, _ = execute("help", "firmware")
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "Usage: wingnode firmware install")
	status, _, _ = execute("firmware", "sign", "-key", in("site.key"))
	assert.Equal(t, 2, status)
}

func TestCommandFirmwareSiteITToken(t *testing.T) {
	data := t.TempDir()
	status, out, errs := execute("firmware", "siteit-token", "-data", data)
	require.Equal(t, 0, status, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	token := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(token, "wnsit_"), "the token is printed once: %q", out)
	st, err := os.Stat(datadir.Dir(data).SiteITHash())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	stored, err := os.ReadFile(datadir.Dir(data).SiteITHash())
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(token))
	assert.Equal(t, hex.EncodeToString(sum[:])+"\n", string(stored), "only the token's SHA-256 is stored")
	assert.NotContains(t, string(stored), token)

	// A new token replaces the old one.
	status, out2, _ := execute("firmware", "siteit-token", "-data", data)
	require.Equal(t, 0, status)
	assert.NotEqual(t, out, out2)
	status, _, _ = execute("firmware", "siteit-token", "-data", data, "-out", filepath.Join(data, "x"))
	assert.Equal(t, 2, status, "one of -data and -out")
}

func TestCommandFirmwareHelp(t *testing.T) {
	for _, args := range [][]string{{"firmware", "--help"}, {"firmware", "-h"}, {"help", "firmware"}} {
		status, out, _ := execute(args...)
		assert.Equal(t, 0, status, "%v", args)
		assert.Contains(t, out, "Usage: wingnode firmware sign", "%v", args)
	}
	status, _, errs := execute("firmware")
	assert.Equal(t, 2, status)
	assert.Contains(t, errs, "usage: wingnode firmware keygen|sign")
}

// TestJoinTokenNeverOnTheCommandLine: -join is refused with a sentence;
// -join-file reads the token from a file or standard input.
func TestJoinTokenNeverOnTheCommandLine(t *testing.T) {
	status, _, errs := execute("run", "-join", "wnt1-secret")
	assert.Equal(t, 2, status)
	assert.Contains(t, errs, "write it to a file and give -join-file")
	assert.NotContains(t, errs, "wnt1-secret")

	file := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(file, []byte("wnt1-abc\n"), 0o600))
	got, err := Command{}.readJoinToken(file)
	require.NoError(t, err)
	assert.Equal(t, "wnt1-abc", got)
	got, err = Command{Stdin: strings.NewReader("wnt1-def\n")}.readJoinToken("-")
	require.NoError(t, err)
	assert.Equal(t, "wnt1-def", got)
	_, err = Command{Stdin: strings.NewReader("\n")}.readJoinToken("-")
	assert.ErrorContains(t, err, "no enrolment token")
}
