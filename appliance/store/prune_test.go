package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// TestPruneKeepsWhatIsNotCommittedOrPulledAndChainsGoOn: retention removes
// old events in commit order only up to the given index, never a wing's
// newest committed event, never an uncommitted one; the store still
// verifies from each wing's floor, ingest carries the chains on, and
// compaction gives the space back.
func TestPruneKeepsWhatIsNotCommittedOrPulledAndChainsGoOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wing.db")
	s, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := sealChain("B", 1, event.Hash{}, 3000, old)
	c := sealChain("C", 1, event.Hash{}, 100, old)
	var entries []Entry
	for i := 0; i < 3000; i += 500 {
		entries = append(entries, Entry{Index: uint64(i/500 + 1), Events: b[i : i+500]})
	}
	entries = append(entries, Entry{Index: 7, Events: c})
	ingestOK(t, s, Batch{Entries: entries, Applied: 7})
	local := appendEvents(t, s, 5) // not committed: never pruned
	last, err := s.LastPos()
	require.NoError(t, err)
	require.NoError(t, s.SaveCheckpoint(last, []byte("state")))

	rep, err := s.Prune(time.Now(), 3, 1_000_000)
	require.NoError(t, err)
	assert.Equal(t, 1500, rep.Events, "only up to index 3")
	assert.Equal(t, uint64(1500), rep.Floors["B"].Seq)
	rep, err = s.Prune(time.Now(), 100, 1_000_000)
	require.NoError(t, err)
	assert.Equal(t, 1499, rep.Events, "a wing's newest committed event stays, and pruning goes in commit order, so it stops there")
	heads, err := s.Heads()
	require.NoError(t, err)
	assert.Equal(t, map[string]uint64{"A": 5, "B": 3000, "C": 100}, heads)
	_, err = s.Get(local[0].ID())
	assert.NoError(t, err, "local events the site has not committed stay")
	floors, err := s.Floors()
	require.NoError(t, err)
	assert.Equal(t, Tip{Seq: 2999, Hash: b[2998].Hash}, floors["B"])

	page, err := s.Order(OrderQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Commits, 10)
	assert.Equal(t, event.ID{Wing: "B", Seq: 3000}, page.Commits[0].Event.ID())
	assert.Equal(t, event.ID{Wing: "C", Seq: 1}, page.Commits[1].Event.ID())
	assert.Equal(t, floors, page.Floors)

	more := sealChain("B", 3001, b[2999].Hash, 10, old)
	ingestOK(t, s, Batch{Entries: []Entry{{Index: 8, Events: more}}, Applied: 8})
	require.NoError(t, s.Close())

	rep2, err := Verify(path)
	require.NoError(t, err, "the store verifies from each wing's floor")
	assert.Equal(t, uint64(3010), rep2.Wings["B"])
	before, after, err := CompactFile(path)
	require.NoError(t, err)
	assert.Less(t, after, before, "compaction gives the space back")
	_, err = Verify(path)
	require.NoError(t, err)
	s, err = Open(path, Options{Wing: "A"})
	require.NoError(t, err, "a pruned store opens")
	_, err = s.Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = os.Stat(path + ".compact")
	assert.True(t, os.IsNotExist(err))
}
