package site

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
)

// sealedEvents makes n events of one wing, sealed into a chain, without a
// store: the decoders' tests need bytes, not a wing.
func sealedEvents(wing string, n int) []event.Event {
	var prev event.Hash
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	out := make([]event.Event, 0, n)
	for i := range n {
		w := at.Add(time.Duration(i) * time.Second)
		e := event.Event{
			Wing: wing, Seq: uint64(i + 1), HLC: event.HLC{WallNanos: w.UnixNano(), Logical: uint32(i % 3)}, Wall: w, ClockTrusted: i%2 == 0,
			Kind: event.AlarmAcknowledged, Subject: wing + "-P2", Actor: "o-17", Data: map[string]string{"alarm": wing + "/1"},
		}
		e.Seal(prev)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestEventListRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 3, maxBatch} {
		events := sealedEvents("B", n)
		b := encodeEvents(events)
		require.Equal(t, entryEvents, b[0])
		got, err := decodeEventList(b[1:])
		require.NoError(t, err, "%d events", n)
		require.Len(t, got, n)
		for i := range events {
			assert.Equal(t, events[i], got[i])
		}
	}
}

func TestDecodeEventListRejectsMalformedBytes(t *testing.T) {
	valid := encodeEvents(sealedEvents("B", 3))[1:]

	// Every truncation of a valid list fails.
	for n := range len(valid) {
		_, err := decodeEventList(valid[:n])
		require.ErrorIs(t, err, errBadEntry, "truncated to %d of %d bytes", n, len(valid))
	}
	one := len(encodeEvents(sealedEvents("B", 1))) - 1
	cases := map[string][]byte{
		"trailing byte":          append(append([]byte{}, valid...), 0),
		"count above the events": append([]byte{4}, valid[1:]...),
		"count below the events": append([]byte{2}, valid[1:]...),
		"absurd count":           binary.AppendUvarint(nil, 1<<40),
		"count just over a cap":  binary.AppendUvarint(nil, maxBatch*16+1),
		"count overflows":        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"absurd length":          binary.AppendUvarint([]byte{1}, 1<<62),
		"length past the end":    binary.AppendUvarint([]byte{1}, uint64(one)),
		"length overflows":       {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"empty event":            {1, 0},
		"not an event":           {1, 3, 'a', 'b', 'c'},
		"unknown encoding":       func() []byte { b := append([]byte{}, valid...); b[2] = 99; return b }(),
	}
	for name, b := range cases {
		got, err := decodeEventList(b)
		assert.ErrorIs(t, err, errBadEntry, name)
		assert.Nil(t, got, name)
	}
}

func TestCommandRoundTrip(t *testing.T) {
	c := Command{Op: OpLockdown, Lockdown: &wing.Lockdown{Active: true, Reason: "fire", By: "o-1", Since: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)}}
	b := encodeCommand(c)
	require.Equal(t, entryCommand, b[0])
	got, err := decodeCommand(b[1:])
	require.NoError(t, err)
	assert.Equal(t, c, got)

	for _, bad := range [][]byte{nil, {}, []byte("{"), []byte(`{"op":1}`), []byte(`[]`)} {
		_, err := decodeCommand(bad)
		assert.ErrorIs(t, err, errBadEntry, "%q", bad)
	}
}

func TestCommitsRoundTrip(t *testing.T) {
	events := append(sealedEvents("A", 2), sealedEvents("B", 2)...)
	commits := []store.Commit{{Index: 3, N: 0, Event: events[0]}, {Index: 3, N: 1, Event: events[1]}, {Index: 9, N: 0, Event: events[2]}, {Index: 1 << 40, N: 7, Event: events[3]}}
	b := encodeCommits(commits)
	got, err := decodeCommits(b)
	require.NoError(t, err)
	assert.Equal(t, commits, got)
	got, err = decodeCommits(nil)
	require.NoError(t, err)
	assert.Empty(t, got)

	// A truncated answer either fails or, cut between two commits, gives
	// the commits before the cut.
	for n := range len(b) {
		got, err := decodeCommits(b[:n])
		if err == nil && n > 0 {
			require.NotEmpty(t, got, "cut at %d", n)
		}
		if err == nil && len(got) > 0 {
			assert.Equal(t, commits[:len(got)], got, "cut at %d", n)
			assert.Equal(t, len(encodeCommits(commits[:len(got)])), n, "cut at %d decoded as whole", n)
		}
	}
	for name, bad := range map[string][]byte{
		"short header":   make([]byte, 12),
		"absurd length":  binary.AppendUvarint(make([]byte, 12), 1<<62),
		"bad event":      append(binary.AppendUvarint(make([]byte, 12), 2), 1, 0),
		"trailing bytes": append(append([]byte{}, b...), 1, 2, 3),
	} {
		_, err := decodeCommits(bad)
		assert.Error(t, err, name)
	}
}

// FuzzDecodeEventList checks that no bytes panic the decoder, that it
// keeps to its cap, and that what it accepts encodes back to a list that
// decodes the same.
func FuzzDecodeEventList(f *testing.F) {
	f.Add(encodeEvents(sealedEvents("B", 2))[1:])
	f.Add(encodeEvents(nil)[1:])
	f.Add(binary.AppendUvarint(nil, 1<<40))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		events, err := decodeEventList(b)
		if err != nil {
			require.ErrorIs(t, err, errBadEntry)
			require.Nil(t, events)
			return
		}
		require.LessOrEqual(t, len(events), maxBatch*16)
		again, err := decodeEventList(encodeEvents(events)[1:])
		require.NoError(t, err)
		require.Equal(t, events, again)
	})
}
