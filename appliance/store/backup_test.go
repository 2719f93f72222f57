package store

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// TestBackupWhileAppending: a backup taken while appends go on is a store
// that verifies and holds exactly a prefix of what the store holds after.
func TestBackupWhileAppending(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "wing.db"), Options{Wing: "A"})
	require.NoError(t, err)
	appendEvents(t, s, 500)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 500 {
			_, err := s.Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	f, err := os.Create(filepath.Join(dir, "backup.db"))
	require.NoError(t, err)
	var size int64
	n, err := s.Backup(f, func(n int64) { size = n })
	require.NoError(t, err)
	require.Equal(t, size, n)
	require.NoError(t, f.Close())
	wg.Wait()
	rep, err := Verify(filepath.Join(dir, "backup.db"))
	require.NoError(t, err)
	require.Equal(t, "A", rep.Wing)
	require.GreaterOrEqual(t, rep.Wings["A"], uint64(500))
	b, err := Open(filepath.Join(dir, "backup.db"), Options{Wing: "A"})
	require.NoError(t, err)
	defer b.Close()
	for seq := uint64(1); seq <= rep.Wings["A"]; seq++ {
		x, err := s.Get(event.ID{Wing: "A", Seq: seq})
		require.NoError(t, err)
		y, err := b.Get(event.ID{Wing: "A", Seq: seq})
		require.NoError(t, err)
		require.Equal(t, x.Event.Hash, y.Event.Hash, "seq %d", seq)
	}
	require.NoError(t, s.Close())
}
