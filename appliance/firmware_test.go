package appliance

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	status, out, errs = execute("firmware", "install", "-trust", in("site.pub"), "-hardware", "amd64-uefi",
		"-slots", in("slots.json"), "-slot-device", in("root-b.img"), in("v7.bundle"))
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "installed into slot b")
	written, err := os.ReadFile(in("root-b.img"))
	require.NoError(t, err)
	assert.Equal(t, rootfs, written)
	slots, err := firmware.LoadSlots(in("slots.json"))
	require.NoError(t, err)
	assert.Equal(t, firmware.Trial, slots.Slot("b").Status)

	// A downgrade is refused, and the inactive slot is marked bad.
	require.NoError(t, firmware.SaveSlots(in("slots.json"), firmware.NewSlots(9, "v9")))
	status, _, errs = execute("firmware", "install", "-trust", in("site.pub"), "-hardware", "amd64-uefi",
		"-slots", in("slots.json"), "-slot-device", in("root-b.img"), in("v7.bundle"))
	assert.Equal(t, 1, status)
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
