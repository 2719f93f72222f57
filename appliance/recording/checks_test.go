package recording

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// TestResetWithNoCallIsPresenceAtTheDoor: the reset key switch turned with
// no call active records a presence at the cell door and raises nothing,
// so nothing sounds or lights; in a walk test that covers it, it is only
// proven.
func TestResetWithNoCallIsPresenceAtTheDoor(t *testing.T) {
	r := newRig(t)
	r.set("R1-01-CALL#reset", true)
	r.eventually("presence at the door", func(s *wing.State) bool {
		p, ok := s.PendingPresence("R1-01", r.clock.Now())
		return ok && p.Point == "R1-01-CALL"
	})
	r.set("R1-01-CALL#reset", false)
	r.pass(2 * time.Second)
	assert.Empty(t, r.alarms(), "silent: no alarm")
	assert.Equal(t, 1, countKind(t, r.store, event.ObservationPresence, ""))

	r.append(event.Draft{Kind: event.WalkTestStarted, Subject: "R", Actor: "2001",
		Data: map[string]string{"until": r.clock.Now().Add(time.Hour).Format(time.RFC3339)}}) // the whole wing
	r.set("R1-01-CALL#reset", true)
	r.eventually("proven", func(s *wing.State) bool { _, ok := s.Proven["R1-01-CALL#reset"]; return ok })
	r.pass(2 * time.Second)
	assert.Equal(t, 1, countKind(t, r.store, event.ObservationPresence, ""), "a walk test's turn is no presence")
}

// TestOverdueCheckRaisesEscalatesAndResolves: a cell's check past its due
// time raises one alarm, which escalates unacknowledged like any other and
// is resolved by the system once the check is recorded; a new due time
// passing raises again, and an ended plan resolves it.
func TestOverdueCheckRaisesEscalatesAndResolves(t *testing.T) {
	r := newRig(t)
	plan := wing.Plan{DayPerHour: 2, NightPerHour: 2, MaxGap: time.Hour}.Data()
	wing.Due{At: r.clock.Now().Add(10 * time.Second)}.Data(plan)
	r.append(event.Draft{Kind: event.ObservationPlanSet, Subject: "R1-02", Actor: "2001", Data: plan})
	r.pass(5 * time.Second)
	assert.Empty(t, r.alarms(), "not due yet")
	r.pass(7 * time.Second)
	r.eventually("overdue", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-02", wing.CheckOverdue); return ok })
	a, _ := r.active("R1-02", wing.CheckOverdue)
	assert.Equal(t, 2, a.Priority)
	r.pass(61 * time.Second)
	r.eventually("escalated like an alarm", func(s *wing.State) bool { return s.Alarms[a.ID].Escalated(wing.EscalatedUnacknowledged) })
	assert.Equal(t, 1, countKind(t, r.store, event.AlarmRaised, wing.CheckOverdue), "one alarm for one due time")

	check := map[string]string{"outcome": "spoke", "how": "panel"}
	wing.Due{At: r.clock.Now().Add(20 * time.Second)}.Data(check)
	r.append(event.Draft{Kind: event.ObservationChecked, Subject: "R1-02", Actor: "1001", Data: check})
	r.pass(2 * time.Second)
	r.eventually("resolved by the check", func(s *wing.State) bool {
		res := s.Alarms[a.ID].Resolved
		return res != nil && res.Outcome == wing.OutcomeCheckRecorded && res.By == event.SystemActor
	})
	r.pass(20 * time.Second)
	r.eventually("the next due time passes", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-02", wing.CheckOverdue); return ok })
	r.append(event.Draft{Kind: event.ObservationPlanEnded, Subject: "R1-02", Actor: "2001"})
	r.pass(2 * time.Second)
	r.eventually("resolved: off the plan", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-02", wing.CheckOverdue); return !ok })
	r.pass(5 * time.Second)
	assert.Equal(t, 2, countKind(t, r.store, event.AlarmResolved, ""), "each resolved once")
	require.Equal(t, 2, countKind(t, r.store, event.AlarmRaised, wing.CheckOverdue))
}
