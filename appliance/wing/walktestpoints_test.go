package wing

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// TestWalkTestPointsFitTheEvent: a landing's inputs are more than one
// data value holds; they go on in further fields, each within the limit,
// and fold back in order.
func TestWalkTestPointsFitTheEvent(t *testing.T) {
	var points []string
	for c := 1; c <= 60; c++ {
		points = append(points, fmt.Sprintf("A2-%02d", c), fmt.Sprintf("A2-%02d-CALL", c))
	}
	data := PointsData(points)
	require.Greater(t, len(data), 1)
	for k, v := range data {
		assert.LessOrEqual(t, len(v), event.MaxStringLen, k)
	}
	assert.Equal(t, points, PointsOf(data))
	data["until"] = "2026-03-02T10:30:00Z"
	require.NoError(t, event.Draft{Kind: event.WalkTestStarted, Subject: "A", Actor: "2001", Data: data}.Check())

	s := New()
	s.Fold(event.Event{Wing: "A", Seq: 1, Kind: event.WalkTestStarted, Subject: "A", Actor: "2001", Data: data})
	assert.Equal(t, points, s.WalkTests["A"].Points)
	assert.True(t, s.WalkTests["A"].Covers("A2-60-CALL"), "a point of the last field")

	assert.Empty(t, PointsData(nil))
	assert.Nil(t, PointsOf(map[string]string{"until": "x"}), "no points: every input")
	assert.Equal(t, []string{"A1-01"}, PointsOf(map[string]string{"points": "A1-01"}), "as recorded before long lists")
}
