package wingtest

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"wingnode/appliance/datadir"
	"wingnode/appliance/update"
	"wingnode/firmware"
)

// Key is the signing key fake boards trust.
func Key(t testing.TB) firmware.PrivateKey {
	t.Helper()
	key, err := firmware.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, err)
	return key
}

// Board is a wing's update machinery on temporary files: two slot
// partitions, an ESP folder, and the slot state in the data folder, with
// slot a running build 5, and site IT's token set.
type Board struct {
	Device firmware.Device
	Parts  map[firmware.SlotName]string // the slot partitions' files
	ESP    string                       // the ESP's folder
	Token  string                       // site IT's token
}

// NewBoard makes a fake board for the wing whose data folder is data,
// trusting key.
func NewBoard(t testing.TB, data string, key firmware.PrivateKey) *Board {
	t.Helper()
	b := &Board{ESP: t.TempDir(), Parts: map[firmware.SlotName]string{}}
	trust, err := firmware.NewTrust(key.Public())
	require.NoError(t, err)
	dir := datadir.Dir(data)
	b.Token, err = update.NewSiteITToken(dir.SiteITHash())
	require.NoError(t, err)
	for _, n := range []firmware.SlotName{firmware.SlotA, firmware.SlotB} {
		b.Parts[n] = filepath.Join(t.TempDir(), "root-"+string(n))
		require.NoError(t, os.WriteFile(b.Parts[n], []byte("build 5"), 0o600))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(b.ESP, firmware.EntriesDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(b.ESP, firmware.EntriesDir, "root-a.conf"), []byte("linux /root-a/vmlinuz\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Dir(dir.Slots()), 0o700))
	require.NoError(t, firmware.SaveSlots(dir.Slots(), firmware.NewSlots(5, "v5")))
	b.Device = firmware.Device{
		Hardware: "amd64-uefi", Trust: trust, SlotsFile: dir.Slots(), KernelOptions: "console=ttyS0",
		OpenSlot: func(n firmware.SlotName) (firmware.SlotDevice, error) { return os.OpenFile(b.Parts[n], os.O_WRONLY, 0) },
		MountESP: func() (firmware.ESP, func() error, error) {
			return firmware.ESP(b.ESP), func() error { return nil }, nil
		},
	}
	return b
}

// Bundle signs a bundle of a small root file system of build version for
// hardware.
func Bundle(t testing.TB, key firmware.PrivateKey, hardware string, version uint64) []byte {
	t.Helper()
	rootfs := bytes.Repeat([]byte("squashfs of build "+string(rune('0'+version))), 2000)
	p, err := firmware.HashPayload(firmware.RootfsPayload, bytes.NewReader(rootfs))
	require.NoError(t, err)
	m := firmware.Manifest{Format: firmware.ManifestFormat, Product: firmware.Product, Hardware: hardware, Version: version,
		MinVersion: 5, Display: "v" + string(rune('0'+version)), Created: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC),
		Payloads: []firmware.Payload{p}}
	var b bytes.Buffer
	require.NoError(t, firmware.WriteBundle(&b, m, []io.Reader{bytes.NewReader(rootfs)}, key))
	return b.Bytes()
}
