package appliance_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/officer"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
)

const lockedWing = `wing id=L name="L wing"
door id=L1-01 kind=cell landing=1 pin=DOOR_L1_01 lock=LOCK_L1_01
door id=L1-02 kind=cell landing=1 pin=DOOR_L1_02 lock=LOCK_L1_02
alarm id=L1-01-CALL kind=cell-call cell=L1-01 landing=1 pin=CALL_L1_01
alarm id=L-STAFF kind=staff-alarm pin=STAFF_L
`

func startLocked(t *testing.T) *wingtest.Wing {
	t.Helper()
	w, err := config.Parse("locked.conf", strings.NewReader(lockedWing))
	require.NoError(t, err)
	return wingtest.Start(t, appliance.Config{Wing: w})
}

func kindsOf(t *testing.T, r *wingtest.Wing, subject string) []event.Kind {
	t.Helper()
	page, err := r.Query(context.Background(), event.Query{Subject: subject, Limit: 1000})
	require.NoError(t, err)
	var out []event.Kind
	for i := len(page.Records) - 1; i >= 0; i-- {
		out = append(out, page.Records[i].Event.Kind)
	}
	return out
}

func TestDoorOpenWhileLockedRaisesForcedAlarm(t *testing.T) {
	r := startLocked(t)
	r.Set(t, "L1-01#lock", true) // bolt thrown
	r.Eventually(t, "locked", func(s *wing.State) bool { return s.Locks["L1-01"].Locked })
	assert.Empty(t, r.State().ActiveAlarms())

	r.Set(t, "L1-01", true) // opened with the bolt still thrown
	r.Eventually(t, "forced alarm", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	a := r.State().ActiveAlarms()[0]
	assert.Equal(t, "L1-01", a.Point)
	assert.Equal(t, "door-forced", a.PointKind)
	assert.Equal(t, 1, a.Priority)

	// Unlocking, then opening, is a normal movement.
	r.Set(t, "L1-02#lock", true)
	r.Set(t, "L1-02#lock", false)
	r.Set(t, "L1-02", true)
	r.Eventually(t, "L1-02 open", func(s *wing.State) bool { return s.Doors["L1-02"].Open })
	assert.Len(t, r.State().ActiveAlarms(), 1, "no alarm for a door opened after unlocking")
	kinds := kindsOf(t, r, "L1-02")
	require.Len(t, kinds, 5)
	assert.ElementsMatch(t, []event.Kind{event.DoorClosed, event.DoorUnlocked}, kinds[:2], "the initial states, in either order")
	assert.Equal(t, []event.Kind{event.DoorLocked, event.DoorUnlocked, event.DoorOpened}, kinds[2:], "then each movement in order")
}

func TestWalkTestProvesInputsWithoutRaisingCellCalls(t *testing.T) {
	r := startLocked(t)
	ctx := context.Background()
	require.ErrorIs(t, r.StartWalkTest(ctx, roster.Actor{}, 0, wing.WalkTestPoints{}), officer.ErrNotAllowed, "a supervisor must be signed in")
	require.ErrorIs(t, r.StartWalkTest(ctx, wingtest.Officer("12"), 0, wing.WalkTestPoints{}), officer.ErrNotAllowed, "an officer may not")
	require.ErrorIs(t, r.StartWalkTest(ctx, wingtest.Supervisor("12"), 5*time.Hour, wing.WalkTestPoints{}), officer.ErrBadInput, "too long")
	require.NoError(t, r.StartWalkTest(ctx, wingtest.Supervisor("officer-12"), 10*time.Minute, wing.WalkTestPoints{}))
	w := r.State().WalkTests["L"]
	require.True(t, w.Running(time.Now()))
	assert.Equal(t, "officer-12", w.By)

	r.Set(t, "L1-01-CALL", true)
	r.Set(t, "L1-02", true)
	r.Set(t, "L1-01#lock", true)
	r.Eventually(t, "three inputs proven", func(s *wing.State) bool { return len(s.Proven) == 3 })
	s := r.State()
	assert.Empty(t, s.ActiveAlarms(), "a cell call in a walk test is proven, not raised")
	for _, id := range []string{"L1-01-CALL", "L1-02", "L1-01#lock"} {
		assert.Equal(t, "officer-12", s.Proven[id].By, id)
	}

	r.Set(t, "L-STAFF", true)
	r.Eventually(t, "staff alarm raised even in a walk test", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	r.Eventually(t, "staff alarm proven too", func(s *wing.State) bool { return s.Proven["L-STAFF"].By == "officer-12" })

	// Pressing the call again in the same walk test proves nothing new.
	r.Set(t, "L1-01-CALL", false)
	r.Set(t, "L1-01-CALL", true)
	assert.Equal(t, []event.Kind{event.InputProven}, kindsOf(t, r, "L1-01-CALL"))

	require.NoError(t, r.EndWalkTest(ctx, wingtest.Supervisor("officer-12")))
	require.False(t, r.State().WalkTests["L"].Running(time.Now()))
	r.Set(t, "L1-01-CALL", false)
	r.Set(t, "L1-01-CALL", true)
	r.Eventually(t, "cell call raises again after the walk test", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 2 })
}

func TestFlappingContactIsAFault(t *testing.T) {
	r := startLocked(t)
	for i := range 12 {
		r.Set(t, "L1-02", i%2 == 0)
	}
	r.Eventually(t, "flapping fault", func(s *wing.State) bool {
		return s.Inputs["L1-02"].Faulted && s.Inputs["L1-02"].Fault == "flapping"
	})
}

// TestWalkTestOfALandingOfTheBuiltInWing: a landing of the built-in wing
// has more inputs than one data value holds; the walk test of it is
// recorded, covers all of them, and leaves the other landings' cell
// calls raising.
func TestWalkTestOfALandingOfTheBuiltInWing(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	ctx := context.Background()
	require.NoError(t, r.StartWalkTest(ctx, wingtest.Supervisor("2001"), 10*time.Minute, wing.WalkTestPoints{Landing: "2"}))
	w := r.State().WalkTests["A"]
	require.True(t, w.Running(time.Now()))
	assert.Equal(t, "2", w.Landing)
	assert.Len(t, w.Points, 42, "the gate, the staff alarm, 20 cells and their calls")
	for _, id := range []string{"A2-GATE", "A2-STAFF", "A2-20", "A2-20-CALL", "A2-20#lock"} {
		assert.True(t, w.Covers(id), id)
	}
	r.Set(t, "A2-20-CALL", true)
	r.Set(t, "A1-20-CALL", true)
	r.Eventually(t, "the call outside the landing raises", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	r.Eventually(t, "the call on it is proven", func(s *wing.State) bool { return s.Proven["A2-20-CALL"].By == "2001" })
	assert.Equal(t, "A1-20-CALL", r.State().ActiveAlarms()[0].Point)
}
