package firmware

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestBoot(t *testing.T) {
	good := func(v uint64) Slot { return Slot{Status: Good, Version: v} }
	trial := func(v uint64, tries int) Slot {
		return Slot{Status: Trial, Tries: tries, Version: v, MinVersion: v - 1}
	}
	bad := Slot{Status: Bad}
	for _, tc := range []struct {
		name string
		in   Slots
		want Slots
		boot SlotName
		err  error
	}{
		{"good active", Slots{Active: SlotA, A: good(7), B: bad},
			Slots{Active: SlotA, A: good(7), B: bad}, SlotA, nil},
		{"both good: the active one", Slots{Active: SlotB, A: good(7), B: good(8)},
			Slots{Active: SlotB, A: good(7), B: good(8)}, SlotB, nil},
		{"fresh trial: first try", Slots{Active: SlotA, A: good(7), B: trial(8, 3)},
			Slots{Active: SlotB, A: good(7), B: trial(8, 2)}, SlotB, nil},
		{"trial: last try", Slots{Active: SlotB, A: good(7), B: trial(8, 1)},
			Slots{Active: SlotB, A: good(7), B: trial(8, 0)}, SlotB, nil},
		{"trial exhausted: back to the previous good", Slots{Active: SlotB, A: good(7), B: trial(8, 0)},
			Slots{Active: SlotA, A: good(7), B: Slot{Status: Bad, Version: 8, MinVersion: 7}}, SlotA, nil},
		{"trial in a: exhausted, back to b", Slots{Active: SlotA, A: trial(9, 0), B: good(8)},
			Slots{Active: SlotB, A: Slot{Status: Bad, Version: 9, MinVersion: 8}, B: good(8)}, SlotB, nil},
		{"bad active is never booted", Slots{Active: SlotB, A: good(7), B: bad},
			Slots{Active: SlotA, A: good(7), B: bad}, SlotA, nil},
		{"both bad", Slots{Active: SlotA, A: bad, B: bad},
			Slots{Active: SlotA, A: bad, B: bad}, "", ErrNoBootableSlot},
		{"exhausted trial and a bad slot", Slots{Active: SlotB, A: bad, B: trial(8, 0)},
			Slots{Active: SlotB, A: bad, B: Slot{Status: Bad, Version: 8, MinVersion: 7}}, "", ErrNoBootableSlot},
		{"two trials", Slots{Active: SlotA, A: trial(7, 1), B: trial(8, 1)},
			Slots{Active: SlotA, A: trial(7, 1), B: trial(8, 1)}, "", ErrState},
		{"no active slot", Slots{A: good(7), B: bad},
			Slots{A: good(7), B: bad}, "", ErrState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, slot, err := Boot(tc.in)
			if !errors.Is(err, tc.err) || slot != tc.boot || got != tc.want {
				t.Fatalf("Boot =\n %+v, %q, %v\nwant\n %+v, %q, %v", got, slot, err, tc.want, tc.boot, tc.err)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Slots
		want Slots
		err  error
	}{
		{"trial becomes good and raises the floor",
			Slots{Active: SlotB, Floor: 3, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Trial, Tries: 2, Version: 8, MinVersion: 6}},
			Slots{Active: SlotB, Floor: 6, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Good, Version: 8, MinVersion: 6}}, nil},
		{"floor never falls",
			Slots{Active: SlotB, Floor: 7, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Trial, Tries: 0, Version: 8, MinVersion: 2}},
			Slots{Active: SlotB, Floor: 7, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Good, Version: 8, MinVersion: 2}}, nil},
		{"good stays good",
			Slots{Active: SlotA, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Bad}},
			Slots{Active: SlotA, A: Slot{Status: Good, Version: 7}, B: Slot{Status: Bad}}, nil},
		{"bad cannot be confirmed",
			Slots{Active: SlotA, A: Slot{Status: Bad}, B: Slot{Status: Good, Version: 7}},
			Slots{Active: SlotA, A: Slot{Status: Bad}, B: Slot{Status: Good, Version: 7}}, ErrState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Confirm(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Confirm = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// TestUpdateLifecycle walks the whole path: install, trial boots, confirm,
// then a second update whose health check never passes.
func TestUpdateLifecycle(t *testing.T) {
	key := testKey(t, 1)
	trust := testTrust(t, key)
	s := NewSlots(7, "2026.11.7")
	install := func(s Slots, version, minVersion uint64, dst *os.File) Slots {
		t.Helper()
		payload := pseudoRandom(50_000, byte(version))
		bundle := testBundle(t, testManifest(t, version, minVersion, payload), [][]byte{payload}, key)
		s, err := Install(bytes.NewReader(bundle), dst, s, trust, "amd64-uefi")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	boot := func(s Slots, want SlotName) Slots {
		t.Helper()
		s, slot, err := Boot(s)
		if err != nil || slot != want {
			t.Fatalf("Boot = %q, %v; want %q", slot, err, want)
		}
		return s
	}

	s = install(s, 8, 6, slotFile(t, "root-b", nil))
	if s.B.Status != Trial || s.B.Tries != 3 || s.Active != SlotA {
		t.Fatalf("after install: %+v", s)
	}
	s = boot(s, SlotB)
	if s.B.Tries != 2 {
		t.Fatalf("first trial boot left %d tries, want 2", s.B.Tries)
	}
	s, err := Confirm(s)
	if err != nil || s.B.Status != Good || s.Floor != 6 {
		t.Fatalf("after confirm: %+v, %v", s, err)
	}
	s = boot(s, SlotB)

	// Version 9 never passes its health check: three tries, then back to b.
	s = install(s, 9, 8, slotFile(t, "root-a", nil))
	for range TrialTries {
		s = boot(s, SlotA)
	}
	s = boot(s, SlotB)
	if s.A.Status != Bad || s.Floor != 6 {
		t.Fatalf("after the failed trial: %+v", s)
	}
	s = boot(s, SlotB)

	// The failed version's floor (8) was never applied; 10 installs over it.
	s = install(s, 10, 6, slotFile(t, "root-a", nil))
	if s.A.Status != Trial || s.A.Version != 10 {
		t.Fatalf("after installing 10: %+v", s)
	}
}

func TestSlotsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slots.json")
	s := NewSlots(7, "2026.11.7")
	s.B = Slot{Status: Trial, Tries: 3, Version: 8, Display: "2026.11.8", MinVersion: 6}
	if err := SaveSlots(path, s); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSlots(path)
	if err != nil || got != s {
		t.Fatalf("LoadSlots = %+v, %v; want %+v", got, err, s)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("SaveSlots left %d files behind", len(entries))
	}
	for name, in := range map[string]string{
		"unknown field":  `{"active":"a","a":{"status":"good","version":7},"b":{"status":"bad"},"colour":"red"}`,
		"unknown status": `{"active":"a","a":{"status":"fine","version":7},"b":{"status":"bad"}}`,
		"too many tries": `{"active":"a","a":{"status":"good","version":7},"b":{"status":"trial","tries":9}}`,
		"tries on good":  `{"active":"a","a":{"status":"good","tries":1},"b":{"status":"bad"}}`,
		"active c":       `{"active":"c","a":{"status":"good"},"b":{"status":"bad"}}`,
		"two objects":    `{"active":"a","a":{"status":"good"},"b":{"status":"bad"}}{}`,
	} {
		if _, err := ParseSlots([]byte(in)); !errors.Is(err, ErrState) {
			t.Errorf("%s: ParseSlots = %v, want ErrState", name, err)
		}
	}
	if err := SaveSlots(path, Slots{}); !errors.Is(err, ErrState) {
		t.Fatalf("SaveSlots of an invalid state = %v, want ErrState", err)
	}
}

func TestBooted(t *testing.T) {
	good := func(v uint64) Slot { return Slot{Status: Good, Version: v} }
	trial := func(v uint64, tries int) Slot {
		return Slot{Status: Trial, Tries: tries, Version: v, MinVersion: v - 1}
	}
	exhausted := func(v uint64) Slot { return Slot{Status: Bad, Version: v, MinVersion: v - 1} }
	counted := func(n SlotName, left, done int) BootEntry {
		return BootEntry{Slot: n, Counting: true, Left: left, Done: done}
	}
	for _, tc := range []struct {
		name  string
		in    Slots
		entry BootEntry
		want  Slots
		err   error
	}{
		{"good slot, plain entry", Slots{Active: SlotA, A: good(7), B: Slot{Status: Bad}}, BootEntry{Slot: SlotA},
			Slots{Active: SlotA, A: good(7), B: Slot{Status: Bad}}, nil},
		{"first try of a trial", Slots{Active: SlotA, A: good(7), B: trial(8, 3)}, counted(SlotB, 2, 1),
			Slots{Active: SlotB, A: good(7), B: trial(8, 2)}, nil},
		{"tries used before the init ran count too", Slots{Active: SlotB, A: good(7), B: trial(8, 2)}, counted(SlotB, 0, 3),
			Slots{Active: SlotB, A: good(7), B: trial(8, 0)}, nil},
		{"the loader fell back: the trial is bad", Slots{Active: SlotB, A: good(7), B: trial(8, 0)}, BootEntry{Slot: SlotA},
			Slots{Active: SlotA, A: good(7), B: exhausted(8)}, nil},
		{"fell back from a trial in a", Slots{Active: SlotA, A: trial(9, 1), B: good(8)}, BootEntry{Slot: SlotB},
			Slots{Active: SlotB, A: exhausted(9), B: good(8)}, nil},
		{"blessed but not saved: still a trial", Slots{Active: SlotB, A: good(7), B: trial(8, 2)}, BootEntry{Slot: SlotB},
			Slots{Active: SlotB, A: good(7), B: trial(8, 2)}, nil},
		{"a bad slot booted", Slots{Active: SlotA, A: good(7), B: Slot{Status: Bad}}, BootEntry{Slot: SlotB},
			Slots{Active: SlotA, A: good(7), B: Slot{Status: Bad}}, ErrState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Booted(tc.in, tc.entry)
			if !errors.Is(err, tc.err) || (err == nil && got != tc.want) {
				t.Fatalf("Booted =\n %+v, %v\nwant\n %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}
