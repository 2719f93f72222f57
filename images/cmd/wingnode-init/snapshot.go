//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"wingnode/appliance/datadir"
)

// snapshotStore copies the event store (dataDir/wing.db) into
// dataDir/snapshots before build first runs on this wing, keeping the
// newest keep snapshots, so a bad build can be rolled back with the data
// it found. The builds that have run are listed in
// dataDir/firmware/builds-run. It returns the snapshot's path, or "" when
// build has run before or there is no store yet. wingnode must not be
// running.
func snapshotStore(dataDir string, build uint64, keep int) (string, error) {
	runFile := datadir.Dir(dataDir).BuildsRun()
	ran, err := buildsRun(runFile)
	if err != nil {
		return "", err
	}
	if slices.Contains(ran, build) {
		return "", nil
	}
	snap := ""
	if _, err := os.Stat(datadir.Dir(dataDir).Store()); err == nil {
		if snap, err = copySnapshot(dataDir, build); err != nil {
			return "", err
		}
		if err := pruneSnapshots(datadir.Dir(dataDir).Snapshots(), keep); err != nil {
			return snap, err
		}
	}
	f, err := os.OpenFile(runFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return snap, fmt.Errorf("record build %d: %w", build, err)
	}
	if _, err := fmt.Fprintln(f, build); err != nil {
		f.Close()
		return snap, fmt.Errorf("record build %d: %w", build, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return snap, fmt.Errorf("record build %d: %w", build, err)
	}
	return snap, f.Close()
}

// buildsRun reads the list of builds that have run.
func buildsRun(name string) ([]uint64, error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var builds []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// A line cut short by a power cut parses as another build, which
		// costs at most one extra snapshot.
		if b, err := strconv.ParseUint(strings.TrimSpace(sc.Text()), 10, 64); err == nil {
			builds = append(builds, b)
		}
	}
	return builds, sc.Err()
}

// copySnapshot copies wing.db to snapshots/NNNNNN-before-BUILD.db, the
// number one more than the newest snapshot's, through a temporary file
// that is synced and renamed.
func copySnapshot(dataDir string, build uint64) (string, error) {
	dir := datadir.Dir(dataDir).Snapshots()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	names, err := snapshotNames(dir)
	if err != nil {
		return "", err
	}
	seq := 1
	if len(names) > 0 {
		last := names[len(names)-1]
		n, _ := strconv.Atoi(last[:strings.IndexByte(last, '-')])
		seq = n + 1
	}
	in, err := os.Open(datadir.Dir(dataDir).Store())
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".snapshot-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copy the store: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	name := filepath.Join(dir, fmt.Sprintf("%06d-before-%d.db", seq, build))
	if err := os.Rename(tmp.Name(), name); err != nil {
		return "", err
	}
	d, err := os.Open(dir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return name, d.Sync()
}

// snapshotNames lists the snapshots in dir, oldest first.
func snapshotNames(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		n := de.Name()
		if i := strings.IndexByte(n, '-'); i > 0 && strings.HasSuffix(n, ".db") && strings.Trim(n[:i], "0123456789") == "" {
			names = append(names, n)
		}
	}
	slices.Sort(names) // fixed-width numbers sort in order
	return names, nil
}

// pruneSnapshots removes all but the newest keep snapshots.
func pruneSnapshots(dir string, keep int) error {
	names, err := snapshotNames(dir)
	if err != nil {
		return err
	}
	for _, n := range names[:max(0, len(names)-keep)] {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}
