package appliance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
	"wingnode/sensors/scenario"
)

// quietNight is a night's work in two seconds: a quiet check at the door,
// the roll counted one short, counted again, and signed.
const quietNight = `00:00 regime night
00:00.200 reset A1-07-CALL
00:01 check A1-07 sign-of-life
00:01.200 count 1 17
00:01.400 count 1 18
00:01.500 count 2 21
00:01.600 count 3 18
00:01.800 sign roll
`

// TestSimulatedWingPlaysTheShift: a simulated wing starts with cells on
// observation plans and its expected roll, set by its supervisor, and its
// scenario's officers check a cell quietly at the door at night, count
// the roll with a discrepancy and sign it once it agrees.
func TestSimulatedWingPlaysTheShift(t *testing.T) {
	sc, err := scenario.Parse("night.scenario", strings.NewReader(quietNight))
	require.NoError(t, err)
	r := wingtest.Start(t, appliance.Config{SimulatedActivity: true, Scenario: sc})
	r.Eventually(t, "the roll is signed", func(s *wing.State) bool { _, ok := s.RollCorrect("A"); return ok })
	s := r.State()
	for _, cell := range []string{"A1-07", "A2-16", "A3-03"} {
		o := s.Observations[cell]
		require.NotNil(t, o.Plan, "%s is on a plan", cell)
		assert.Equal(t, appliance.SimulatedSupervisor, o.Plan.By)
	}
	assert.Len(t, s.Roll, 60)
	assert.Equal(t, "hospital", s.Roll["A1-15"].Reason)

	c, ok := s.LastCheck("A1-07")
	require.True(t, ok)
	assert.Equal(t, wing.CheckedAtDoor, c.How, "a quiet check at the door")
	assert.Equal(t, wing.Night, c.Regime)
	assert.Equal(t, appliance.SimulatedOfficer, c.By)
	assert.False(t, c.Next.At.IsZero(), "on a plan: its next check is due")
	var discrepancy bool
	for _, a := range s.ActiveAlarms() {
		discrepancy = discrepancy || a.PointKind == wing.RollDiscrepancy && a.Point == wing.LandingID("A", "1")
	}
	assert.True(t, discrepancy, "landing 1 was one short at first")
	for _, a := range s.ActiveAlarms() {
		assert.NotEqual(t, "A1-07", a.Point, "the quiet check at the door raised nothing")
	}

	d, err := r.Shift().Draft(context.Background(), time.Now().Add(-time.Hour), time.Now())
	require.NoError(t, err)
	assert.Equal(t, 1, d.Checks.AtDoor)
	assert.Len(t, d.Counts, 4)
	assert.Len(t, d.Rolls, 1)
}
