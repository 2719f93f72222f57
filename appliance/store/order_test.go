package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

func TestOrderBodiesAreTheCommitOrdersEvents(t *testing.T) {
	a, _ := openTemp(t, Options{Wing: "A"})
	b := sealChain("B", 1, event.Hash{}, 30, t0)
	c := sealChain("C", 1, event.Hash{}, 30, t0)
	// Entries of the wings in turn, with local events stored between
	// them: neither the ids nor the positions the order names follow each
	// other throughout.
	var index uint64
	for i := 0; i < 30; i += 3 {
		appendEvents(t, a, 1)
		index += 2
		ingestOK(t, a, Batch{Entries: []Entry{{Index: index - 1, Events: b[i : i+3]}, {Index: index, Events: c[i : i+3]}}, Applied: index})
	}
	want := allCommits(t, a)
	require.Len(t, want, 60)

	var got []Commit
	q := OrderQuery{Limit: 7, Bodies: true}
	for {
		page, err := a.Order(q)
		require.NoError(t, err)
		if len(page.Commits) == 0 {
			break
		}
		got = append(got, page.Commits...)
		q.Index, q.N = page.NextIndex, page.NextN
	}
	require.Len(t, got, len(want))
	for i, g := range got {
		assert.Equal(t, want[i].Index, g.Index, "commit %d", i)
		assert.Equal(t, want[i].N, g.N, "commit %d", i)
		assert.Equal(t, want[i].Event.Body(), g.Body, "commit %d: the canonical bytes of the event at that place", i)
		assert.Equal(t, len(g.Body), cap(g.Body), "commit %d: a body cannot be appended to over the next", i)
	}
}
