package wing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// chain makes events of wing A on one clock, a second apart.
type chain struct {
	clock *event.Clock
	seq   uint64
}

func newChain() *chain {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return &chain{clock: event.NewClock(func() time.Time { at = at.Add(time.Second); return at })}
}

func (c *chain) mk(k event.Kind, subject, actor string, data map[string]string) event.Event {
	rd := c.clock.Now()
	c.seq++
	return event.Event{Wing: "A", Seq: c.seq, HLC: rd.HLC, Wall: rd.Wall, Kind: k, Subject: subject, Actor: actor, Data: data}
}

// TestCellCallLifecycle: a cell call is resolved only once acknowledged
// and attended at the cell door; attending from the panel is refused.
func TestCellCallLifecycle(t *testing.T) {
	c, s := newChain(), New()
	raise := c.mk(event.AlarmRaised, "A1-07-CALL", event.SystemActor, map[string]string{"point_kind": "cell-call", "priority": "2"})
	s.Fold(raise)
	id := raise.ID()
	a := s.Alarms[id]
	assert.ErrorIs(t, a.CanResolve(), ErrNotAcknowledged)
	assert.ErrorIs(t, a.CanAttendFromPanel(), ErrAttendAtSource)

	s.Fold(c.mk(event.AlarmAcknowledged, "A1-07-CALL", "1001", map[string]string{"alarm": id.String()}))
	assert.ErrorIs(t, s.Alarms[id].CanResolve(), ErrNotAttended, "acknowledged, not attended at the door")

	s.Fold(c.mk(event.AlarmAttended, "A1-07-CALL", event.SystemActor, map[string]string{"alarm": id.String(), "how": AttendedAtReset, "where": "A1-07"}))
	a = s.Alarms[id]
	require.NotNil(t, a.Attended)
	assert.Equal(t, "A1-07", a.Attended.Where)
	assert.NoError(t, a.CanResolve())
	assert.True(t, a.Active(), "latched until resolved")

	s.Fold(c.mk(event.AlarmResolved, "A1-07-CALL", "1001", map[string]string{"alarm": id.String(), "outcome": "assistance-given", "note": "needed a doctor"}))
	a = s.Alarms[id]
	assert.False(t, a.Active())
	assert.Equal(t, "assistance-given", a.Resolved.Outcome)
	assert.False(t, a.Resolved.Remote)
}

// TestRemoteCloseAndEscalations: a remote close resolves with its reason;
// each escalation reason counts once, the earliest kept.
func TestRemoteCloseAndEscalations(t *testing.T) {
	c, s := newChain(), New()
	raise := c.mk(event.AlarmRaised, "A1-07-CALL", event.SystemActor, map[string]string{"point_kind": "cell-call", "priority": "2"})
	id := raise.ID().String()
	first := c.mk(event.AlarmEscalated, "A1-07-CALL", event.SystemActor, map[string]string{"alarm": id, "reason": EscalatedUnacknowledged, "after": "1m0s"})
	again := c.mk(event.AlarmEscalated, "A1-07-CALL", event.SystemActor, map[string]string{"alarm": id, "reason": EscalatedUnacknowledged, "after": "1m0s"})
	late := c.mk(event.AlarmEscalated, "A1-07-CALL", event.SystemActor, map[string]string{"alarm": id, "reason": EscalatedUnattended, "after": "5m0s"})
	closed := c.mk(event.AlarmClosedRemotely, "A1-07-CALL", "2001", map[string]string{"alarm": id, "reason": "bell jammed by another prisoner"})
	for _, e := range []event.Event{closed, late, again, raise, first} {
		s.Fold(e)
	}
	a := s.Alarms[raise.ID()]
	require.Len(t, a.Escalations, 2)
	assert.Equal(t, first.Wall, a.Escalations[0].At, "the earliest escalation of a reason stands")
	assert.True(t, a.Escalated(EscalatedUnattended))
	assert.True(t, a.Resolved.Remote)
	assert.Equal(t, "bell jammed by another prisoner", a.Resolved.Reason)
	assert.False(t, a.Active())
}

// TestDoorAlarmsOfTwoKinds: a door can have a forced and a held-open alarm
// at once, each found by its kind.
func TestDoorAlarmsOfTwoKinds(t *testing.T) {
	c, s := newChain(), New()
	s.Fold(c.mk(event.AlarmRaised, "A1-09", event.SystemActor, map[string]string{"point_kind": DoorForced, "priority": "1"}))
	s.Fold(c.mk(event.AlarmRaised, "A1-09", event.SystemActor, map[string]string{"point_kind": DoorHeldOpen, "priority": "2"}))
	_, forced := s.ActiveAlarmOf("A1-09", DoorForced)
	held, ok := s.ActiveAlarmOf("A1-09", DoorHeldOpen)
	assert.True(t, forced)
	assert.True(t, ok)
	assert.Equal(t, DoorHeldOpen, held.PointKind)
	_, none := s.ActiveAlarmOf("A1-09", DoorOpenedAtNight)
	assert.False(t, none)
}

// TestRegimeFollowsScheduleUntilASupervisorSetsIt: the scheduled regime
// holds until a supervisor sets another, which holds until the next
// scheduled change.
func TestRegimeFollowsScheduleUntilASupervisorSetsIt(t *testing.T) {
	sched := Schedule{{At: 7*time.Hour + 30*time.Minute, Regime: Unlock}, {At: 12 * time.Hour, Regime: LockUp}, {At: 20 * time.Hour, Regime: Night}}
	day := func(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.UTC) }
	s := New()
	assert.Equal(t, Night, s.RegimeAt("A", sched, day(3, 0)), "before the morning's change, last night's")
	assert.Equal(t, Unlock, s.RegimeAt("A", sched, day(9, 0)))
	assert.Equal(t, LockUp, s.RegimeAt("A", sched, day(12, 0)))
	assert.Equal(t, Unlock, New().RegimeAt("A", nil, day(23, 0)), "no schedule: unlocked")

	s.Fold(event.Event{Wing: "A", Seq: 1, Kind: event.RegimeSet, Subject: "A", Actor: "2001", Wall: day(14, 0), Data: map[string]string{"regime": "night"}})
	assert.Equal(t, Night, s.RegimeAt("A", sched, day(15, 0)), "set by a supervisor")
	assert.Equal(t, Night, s.RegimeAt("A", sched, day(21, 0)))
	assert.Equal(t, Unlock, s.RegimeAt("A", sched, day(8, 0).AddDate(0, 0, 1)), "until the next scheduled change")
	assert.Equal(t, "2001", s.Regimes["A"].By)
}

// TestWalkTestCoversItsPoints: a walk test of chosen points covers those
// and their lock contacts, and nothing else.
func TestWalkTestCoversItsPoints(t *testing.T) {
	w := WalkTest{Active: true, Points: []string{"A1-01", "A1-02-CALL"}}
	assert.True(t, w.Covers("A1-01"))
	assert.True(t, w.Covers("A1-01#lock"))
	assert.True(t, w.Covers("A1-02-CALL"))
	assert.False(t, w.Covers("A1-03-CALL"))
	assert.True(t, WalkTest{Active: true}.Covers("A1-03-CALL"), "no points: the whole wing")
}
