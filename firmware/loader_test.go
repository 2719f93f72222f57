package firmware

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

func TestBootEntryNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		e    BootEntry
	}{
		{"root-a.conf", BootEntry{Slot: SlotA}},
		{"root-b+3.conf", BootEntry{Slot: SlotB, Counting: true, Left: 3}},
		{"root-b+2-1.conf", BootEntry{Slot: SlotB, Counting: true, Left: 2, Done: 1}},
		{"root-a+0-3.conf", BootEntry{Slot: SlotA, Counting: true, Left: 0, Done: 3}},
	} {
		if got := tc.e.String(); got != tc.name {
			t.Errorf("%+v.String() = %q, want %q", tc.e, got, tc.name)
		}
		got, err := ParseBootEntry(tc.name)
		if err != nil || got != tc.e {
			t.Errorf("ParseBootEntry(%q) = %+v, %v; want %+v", tc.name, got, err, tc.e)
		}
	}
	// systemd-boot names the booted entry by its path on the ESP.
	if got, err := ParseBootEntry(`\loader\entries\root-b+1-2.conf`); err != nil || got != (BootEntry{Slot: SlotB, Counting: true, Left: 1, Done: 2}) {
		t.Errorf("ParseBootEntry of a LoaderBootCountPath = %+v, %v", got, err)
	}
	for _, bad := range []string{"root-c.conf", "root-a", "root-a+x.conf", "root-a+-1.conf", "root-a+1-.conf", "root-a+1-2-3.conf", "auto-windows.conf", "root-a++1.conf"} {
		if _, err := ParseBootEntry(bad); !errors.Is(err, ErrState) {
			t.Errorf("ParseBootEntry(%q) = %v, want ErrState", bad, err)
		}
	}
}

// testESP makes an ESP folder holding the given entries.
func testESP(t *testing.T, entries ...string) ESP {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, EntriesDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(dir, e), []byte("linux /x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ESP(root)
}

func entryNames(t *testing.T, esp ESP) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(string(esp), EntriesDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestESPArmBlessRemove(t *testing.T) {
	esp := testESP(t, "root-a.conf", "root-b.conf", "other.conf")
	trial := Slot{Status: Trial, Tries: TrialTries, Version: 8, Display: "2026.11.8", MinVersion: 7}
	if err := esp.Arm(SlotB, trial, "console=ttyS0 panic=-1"); err != nil {
		t.Fatal(err)
	}
	if got, want := entryNames(t, esp), []string{"other.conf", "root-a.conf", "root-b+3.conf"}; !slices.Equal(got, want) {
		t.Fatalf("entries after Arm = %q, want %q", got, want)
	}
	text, err := os.ReadFile(filepath.Join(string(esp), EntriesDir, "root-b+3.conf"))
	if err != nil {
		t.Fatal(err)
	}
	want := "title wingnode 8 (2026.11.8), root-b\nsort-key wingnode\nversion 8\noptions console=ttyS0 panic=-1 wingnode.slot=root-b\ninitrd /root-b/initrd.cpio\nlinux /root-b/vmlinuz\n"
	if string(text) != want {
		t.Errorf("entry =\n%s\nwant\n%s", text, want)
	}
	e, ok, err := esp.Entry(SlotB)
	if err != nil || !ok || e != (BootEntry{Slot: SlotB, Counting: true, Left: 3}) {
		t.Errorf("Entry(b) = %+v, %v, %v", e, ok, err)
	}

	// systemd-boot uses a try, then the health check blesses the entry.
	dir := filepath.Join(string(esp), EntriesDir)
	if err := os.Rename(filepath.Join(dir, "root-b+3.conf"), filepath.Join(dir, "root-b+2-1.conf")); err != nil {
		t.Fatal(err)
	}
	if err := esp.Bless(SlotB); err != nil {
		t.Fatal(err)
	}
	if got, want := entryNames(t, esp), []string{"other.conf", "root-a.conf", "root-b.conf"}; !slices.Equal(got, want) {
		t.Fatalf("entries after Bless = %q, want %q", got, want)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "root-b.conf")); string(after) != want {
		t.Errorf("Bless changed the entry's text:\n%s", after)
	}
	if err := esp.Bless(SlotB); err != nil {
		t.Errorf("Bless of a blessed entry: %v", err)
	}

	if err := esp.Remove(SlotA); err != nil {
		t.Fatal(err)
	}
	if got, want := entryNames(t, esp), []string{"other.conf", "root-b.conf"}; !slices.Equal(got, want) {
		t.Fatalf("entries after Remove(a) = %q, want %q", got, want)
	}
	if err := esp.Bless(SlotA); !errors.Is(err, ErrState) {
		t.Errorf("Bless of a slot with no entry = %v, want ErrState", err)
	}
	if err := esp.Arm(SlotA, Slot{Status: Bad}, ""); !errors.Is(err, ErrState) {
		t.Errorf("Arm of a bad slot = %v, want ErrState", err)
	}
}

func TestESPTwoEntriesForOneSlot(t *testing.T) {
	esp := testESP(t, "root-b.conf", "root-b+1-2.conf")
	if _, _, err := esp.Entry(SlotB); err == nil || !strings.Contains(err.Error(), "2 boot entries") {
		t.Errorf("Entry with two entries for b = %v", err)
	}
}

func TestDecodeEFIString(t *testing.T) {
	path := `\loader\entries\root-b+2-1.conf`
	b := []byte{7, 0, 0, 0} // attributes
	for _, c := range utf16.Encode([]rune(path + "\x00")) {
		b = append(b, byte(c), byte(c>>8))
	}
	if got, err := decodeEFIString(b); err != nil || got != path {
		t.Errorf("decodeEFIString = %q, %v; want %q", got, err, path)
	}
	if _, err := decodeEFIString([]byte{7, 0, 0}); !errors.Is(err, ErrState) {
		t.Errorf("decodeEFIString of 3 bytes = %v, want ErrState", err)
	}
}
