package siterun_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/sync/siterun"
)

// TestCheckCountsLostEvents: an event wing A recorded that wing B lacks,
// and an event seen while the site ran that A no longer holds as seen,
// are each counted lost, and Check says which.
func TestCheckCountsLostEvents(t *testing.T) {
	dirs := map[string]string{"A": filepath.Join(t.TempDir(), "A"), "B": filepath.Join(t.TempDir(), "B")}
	var own []event.Event
	for id, dir := range dirs {
		require.NoError(t, os.MkdirAll(dir, 0o700))
		st, err := store.Open(datadir.Dir(dir).Store(), store.Options{Wing: id})
		require.NoError(t, err)
		if id == "A" {
			for _, subject := range []string{"A1-01", "A1-02"} {
				r, err := st.Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: subject, Actor: event.SystemActor})
				require.NoError(t, err)
				own = append(own, r.Event)
			}
		}
		require.NoError(t, st.Close())
	}
	altered := own[1]
	altered.Hash[0] ^= 1
	rep, err := siterun.Check(dirs, map[string]uint64{"A": 2}, []event.Event{own[0], altered})
	require.Error(t, err)
	assert.Equal(t, 2, rep.Events)
	assert.Equal(t, 1+2, rep.Lost, "one seen event altered, two events missing on B")
	assert.ErrorContains(t, err, "wing B lacks event")
	assert.ErrorContains(t, err, "its wing no longer holds it")
}
