package site

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/firmware"
)

func TestRolloutCommands(t *testing.T) {
	a := Agreed{Wings: map[string]WingRecord{"A": {Addr: "a:1"}, "B": {Addr: "b:1"}, "C": {Addr: "c:1"}, "D": {Addr: "d:1", Removed: true}}}
	digest := strings.Repeat("ab", 32)
	start := func(build uint64, digest string, order ...string) error {
		return a.apply(Command{Op: OpRolloutStart, Rollout: &firmware.Rollout{Build: build, Digest: digest, Size: 10, Holder: "A", Order: order}})
	}
	report := func(wing string, build uint64, reason string) error {
		return a.apply(Command{Op: OpRolloutReport, Wing: wing, Build: build, Reason: reason})
	}

	require.Error(t, start(6, "nothex", "A", "B"), "a digest is a SHA-256")
	require.Error(t, start(6, digest, "A", "D"), "a decommissioned wing takes no part")
	require.Error(t, start(6, digest), "an order is needed")
	require.Nil(t, a.Rollout, "nothing refused is kept")

	require.NoError(t, start(6, digest, "A", "B", "C"))
	first := a.Rollout
	assert.Equal(t, "A", first.Next())
	require.NoError(t, start(6, digest, "A", "B", "C"), "the same rollout asked again")
	require.ErrorContains(t, start(7, strings.Repeat("cd", 32), "A"), "still going")

	require.ErrorContains(t, report("B", 6, ""), "out of turn")
	require.ErrorContains(t, report("A", 5, ""), "not being rolled out")
	require.NoError(t, report("A", 6, ""))
	assert.Equal(t, "B", a.Rollout.Next())
	assert.Empty(t, first.Done, "a snapshot of the state never changes under its reader")
	assert.Equal(t, []string{"A"}, a.Rollout.Holders(), "the holder installed it too")

	require.NoError(t, report("B", 6, "came back on build 5"))
	assert.Equal(t, "stopped", a.Rollout.State())
	assert.Equal(t, "wing B: came back on build 5", a.Rollout.Stopped)
	assert.Empty(t, a.Rollout.Next())
	require.Error(t, report("C", 6, ""), "nobody's turn after a stop")
	require.Error(t, a.apply(Command{Op: OpRolloutStop}), "nothing to stop")

	// A new rollout may start once the last one stopped; site IT stops it.
	require.NoError(t, start(7, strings.Repeat("cd", 32), "C", "A"))
	assert.Equal(t, "C", a.Rollout.Next())
	assert.Empty(t, a.Rollout.Done)
	require.NoError(t, a.apply(Command{Op: OpRolloutStop, Reason: "wrong build"}))
	assert.Equal(t, "stopped by site IT: wrong build", a.Rollout.Stopped)

	require.NoError(t, start(8, strings.Repeat("ef", 32), "A"))
	require.NoError(t, report("A", 8, ""))
	assert.Equal(t, "finished", a.Rollout.State())
}
