package firmware

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// testDevice is a device whose partitions are temporary files and whose
// ESP is a temporary folder holding root-a's entry; slot a runs version 7.
func testDevice(t *testing.T, trust Trust) (Device, map[SlotName]string) {
	t.Helper()
	dir := t.TempDir()
	parts := map[SlotName]string{}
	for _, n := range []SlotName{SlotA, SlotB} {
		parts[n] = filepath.Join(dir, "root-"+string(n)+".img")
		if err := os.WriteFile(parts[n], []byte("release 7"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	esp := testESP(t, "root-a.conf")
	d := Device{
		Hardware:      "amd64-uefi",
		Trust:         trust,
		SlotsFile:     filepath.Join(dir, "slots.json"),
		KernelOptions: "console=ttyS0",
		OpenSlot: func(n SlotName) (SlotDevice, error) {
			return os.OpenFile(parts[n], os.O_WRONLY, 0)
		},
		MountESP: func() (ESP, func() error, error) { return esp, func() error { return nil }, nil },
	}
	if err := SaveSlots(d.SlotsFile, NewSlots(7, "v7")); err != nil {
		t.Fatal(err)
	}
	return d, parts
}

func mustSlots(t *testing.T, d Device) Slots {
	t.Helper()
	s, err := d.Slots()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeviceInstallBootConfirm(t *testing.T) {
	key := testKey(t, 1)
	d, parts := testDevice(t, testTrust(t, key))
	esp, _, _ := d.MountESP()
	payload := pseudoRandom(50_000, 2)
	s, slot, err := d.Install(bytes.NewReader(testBundle(t, testManifest(t, 8, 7, payload), [][]byte{payload}, key)))
	if err != nil || slot != SlotB {
		t.Fatalf("Install = slot %q, %v", slot, err)
	}
	if got, _ := os.ReadFile(parts[SlotB]); !bytes.Equal(got, payload) {
		t.Error("slot b does not hold the payload")
	}
	if got, _ := os.ReadFile(parts[SlotA]); string(got) != "release 7" {
		t.Error("the running slot a was written")
	}
	if s.B.Status != Trial || s.B.Tries != TrialTries || mustSlots(t, d) != s {
		t.Errorf("state after Install = %+v (saved %+v)", s, mustSlots(t, d))
	}
	if got, want := entryNames(t, esp), []string{"root-a.conf", "root-b+3.conf"}; !slices.Equal(got, want) {
		t.Errorf("entries after Install = %q, want %q", got, want)
	}

	// systemd-boot boots b, using a try; the init reconciles, then the
	// health check confirms.
	dir := filepath.Join(string(esp), EntriesDir)
	if err := os.Rename(filepath.Join(dir, "root-b+3.conf"), filepath.Join(dir, "root-b+2-1.conf")); err != nil {
		t.Fatal(err)
	}
	s, err = d.Booted(SlotB, `\loader\entries\root-b+2-1.conf`)
	if err != nil || s.Active != SlotB || s.B.Tries != 2 || mustSlots(t, d) != s {
		t.Fatalf("Booted = %+v, %v", s, err)
	}
	if _, _, err := d.Install(bytes.NewReader(nil)); !errors.Is(err, ErrUnconfirmed) {
		t.Errorf("Install while on trial = %v, want ErrUnconfirmed", err)
	}
	s, err = d.Confirm()
	if err != nil || s.B.Status != Good || s.Floor != 7 || mustSlots(t, d) != s {
		t.Fatalf("Confirm = %+v, %v", s, err)
	}
	if got, want := entryNames(t, esp), []string{"root-a.conf", "root-b.conf"}; !slices.Equal(got, want) {
		t.Errorf("entries after Confirm = %q, want %q", got, want)
	}
}

func TestDeviceFallBack(t *testing.T) {
	key := testKey(t, 1)
	d, _ := testDevice(t, testTrust(t, key))
	esp, _, _ := d.MountESP()
	payload := pseudoRandom(1000, 3)
	if _, _, err := d.Install(bytes.NewReader(testBundle(t, testManifest(t, 8, 7, payload), [][]byte{payload}, key))); err != nil {
		t.Fatal(err)
	}
	// Three tries used up, then systemd-boot boots a, the older entry.
	dir := filepath.Join(string(esp), EntriesDir)
	if err := os.Rename(filepath.Join(dir, "root-b+3.conf"), filepath.Join(dir, "root-b+0-3.conf")); err != nil {
		t.Fatal(err)
	}
	s, err := d.Booted(SlotA, "")
	if err != nil || s.Active != SlotA || s.B.Status != Bad || mustSlots(t, d) != s {
		t.Fatalf("Booted after the fall-back = %+v, %v", s, err)
	}
	if got, want := entryNames(t, esp), []string{"root-a.conf"}; !slices.Equal(got, want) {
		t.Errorf("entries after the fall-back = %q, want %q", got, want)
	}
	if _, err := d.Booted(SlotA, `\loader\entries\root-b+2-1.conf`); !errors.Is(err, ErrState) {
		t.Errorf("Booted(a) with b's counter = %v, want ErrState", err)
	}
}

func TestDeviceInstallRefusesBadBundles(t *testing.T) {
	key, stranger := testKey(t, 1), testKey(t, 2)
	payload := pseudoRandom(20_000, 4)
	good := testBundle(t, testManifest(t, 8, 7, payload), [][]byte{payload}, key)
	for _, tc := range []struct {
		name   string
		bundle []byte
		trust  Trust
		want   error
	}{
		{"forged", testBundle(t, testManifest(t, 8, 7, payload), [][]byte{payload}, stranger), testTrust(t, key), ErrSignature},
		{"downgrade", testBundle(t, testManifest(t, 7, 0, payload), [][]byte{payload}, key), testTrust(t, key), ErrDowngrade},
		{"truncated", good[:len(good)-12_000], testTrust(t, key), ErrCorrupt},
		{"no trusted key", good, Trust{}, ErrKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, parts := testDevice(t, tc.trust)
			esp, _, _ := d.MountESP()
			// A trial entry for b from an earlier, failed update.
			if err := esp.Arm(SlotB, Slot{Status: Good, Version: 6}, ""); err != nil {
				t.Fatal(err)
			}
			_, _, err := d.Install(bytes.NewReader(tc.bundle))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Install = %v, want %v", err, tc.want)
			}
			if got, _ := os.ReadFile(parts[SlotA]); string(got) != "release 7" {
				t.Error("the running slot a was written")
			}
			s := mustSlots(t, d)
			if s.Active != SlotA || s.A.Status != Good || s.A.Version != 7 {
				t.Errorf("running slot changed: %+v", s)
			}
			if tc.want == ErrKey {
				return // refused before anything was touched
			}
			if s.B.Status != Bad {
				t.Errorf("slot b after a refused bundle = %+v, want bad", s.B)
			}
			if got, want := entryNames(t, esp), []string{"root-a.conf"}; !slices.Equal(got, want) {
				t.Errorf("entries after a refused bundle = %q, want %q", got, want)
			}
		})
	}
}
