//go:build linux

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// fakeWatchdog records what is written to the device and whether it was
// closed.
type fakeWatchdog struct {
	bytes.Buffer
	closed bool
}

func (f *fakeWatchdog) Close() error { f.closed = true; return nil }

func TestWatchdogPetAndDisarm(t *testing.T) {
	dev := &fakeWatchdog{}
	w := &watchdog{dev: dev}
	for range 3 {
		if err := w.pet(); err != nil {
			t.Fatal(err)
		}
	}
	if dev.Len() != 3 || bytes.ContainsRune(dev.Bytes(), 'V') || dev.closed {
		t.Fatalf("after 3 pets the device got %q (closed %v); want 3 bytes, no 'V', still open", dev.Bytes(), dev.closed)
	}
	if err := w.disarm(); err != nil {
		t.Fatal(err)
	}
	if b := dev.Bytes(); b[len(b)-1] != 'V' || !dev.closed {
		t.Errorf("disarm wrote %q and closed %v; want the magic 'V' last, then close", b, dev.closed)
	}
}

func TestWatchdogOnAFile(t *testing.T) {
	// A regular file stands in for /dev/watchdog: the timeout cannot be
	// set on it, but petting and disarming write to it.
	path := filepath.Join(t.TempDir(), "watchdog")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := openWatchdog(path, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.pet(); err != nil {
		t.Fatal(err)
	}
	if err := w.disarm(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != ".V" {
		t.Errorf("device got %q, want a pet then the magic V", b)
	}
}

func TestPetPolicy(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return start.Add(time.Duration(s) * time.Second) }
	p := petPolicy{grace: 30 * time.Second, start: start}
	for _, step := range []struct {
		at       int
		answered bool
		want     bool
		why      string
	}{
		{1, false, true, "starting, within the grace"},
		{29, false, true, "still within the grace"},
		{30, false, false, "the grace is over and it never answered: a hang at start"},
		{31, true, true, "it answers late: pet again"},
		{32, false, false, "it stopped answering: a hang"},
		{33, true, true, "it answers again"},
		{100, true, true, "answering"},
	} {
		if got := p.pet(at(step.at), step.answered); got != step.want {
			t.Errorf("at %d s, answered %v: pet = %v, want %v (%s)", step.at, step.answered, got, step.want, step.why)
		}
	}
}

func TestSnapshotStore(t *testing.T) {
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "firmware"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The factory build runs first, before any store exists.
	if snap, err := snapshotStore(data, 1, 2); err != nil || snap != "" {
		t.Fatalf("first run without a store: %q, %v", snap, err)
	}
	store := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(data, "wing.db"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	store("events of build 1")
	if snap, err := snapshotStore(data, 1, 2); err != nil || snap != "" {
		t.Fatalf("a build that has run: %q, %v", snap, err)
	}
	for _, step := range []struct {
		build   uint64
		store   string
		want    string
		present []string
	}{
		{2, "events of build 1", "000001-before-2.db", []string{"000001-before-2.db"}},
		{3, "events up to build 2", "000002-before-3.db", []string{"000001-before-2.db", "000002-before-3.db"}},
		// Back to build 2 after build 3 failed: 2 has run, no snapshot.
		{2, "events up to build 3", "", []string{"000001-before-2.db", "000002-before-3.db"}},
		{4, "events after the fall-back", "000003-before-4.db", []string{"000002-before-3.db", "000003-before-4.db"}},
	} {
		store(step.store)
		snap, err := snapshotStore(data, step.build, 2)
		if err != nil {
			t.Fatalf("build %d: %v", step.build, err)
		}
		if filepath.Base(snap) != step.want && !(snap == "" && step.want == "") {
			t.Errorf("build %d: snapshot %q, want %q", step.build, snap, step.want)
		}
		if snap != "" {
			if b, _ := os.ReadFile(snap); string(b) != step.store {
				t.Errorf("build %d: snapshot holds %q, want %q", step.build, b, step.store)
			}
		}
		names, err := snapshotNames(filepath.Join(data, "snapshots"))
		if err != nil || !slices.Equal(names, step.present) {
			t.Errorf("build %d: snapshots %q, %v; want %q", step.build, names, err, step.present)
		}
	}
}
