package wing

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// TestObservationDueFollowsPlanChecksAndCorrections: a plan's first due
// time holds until a check draws the next; a struck check gives way to
// the one before; an ended plan has nothing due.
func TestObservationDueFollowsPlanChecksAndCorrections(t *testing.T) {
	c, s := newChain(), New()
	at := func(min int) time.Time { return time.Date(2026, 12, 1, 10, min, 0, 0, time.UTC) }
	plan := Plan{DayPerHour: 2, NightPerHour: 4, ConversationsPerDay: 3, MaxGap: time.Hour}
	data := plan.Data()
	Due{At: at(20)}.Data(data)
	set := c.mk(event.ObservationPlanSet, "A1-07", "2001", data)
	check := func(outcome CheckOutcome, next time.Time) event.Event {
		d := map[string]string{"outcome": string(outcome), "how": CheckedAtPanel}
		Due{At: next, Conversation: true}.Data(d)
		return c.mk(event.ObservationChecked, "A1-07", "1001", d)
	}
	first, second := check(Spoke, at(45)), check(SeenMoving, at(70))
	strike := c.mk(event.RecordCorrected, "A1-07", "1001", map[string]string{"record": second.ID().String(), "kind": string(event.ObservationChecked), "reason": "wrong cell"})

	s.Fold(set)
	due, ok := s.NextDue("A1-07")
	require.True(t, ok)
	assert.Equal(t, at(20), due.At, "drawn when the plan was set")
	assert.Equal(t, plan, s.Observations["A1-07"].Plan.Plan)

	for _, e := range []event.Event{strike, second, first} {
		s.Fold(e)
	}
	due, _ = s.NextDue("A1-07")
	assert.Equal(t, at(45), due.At, "the struck check gives way to the one before")
	assert.True(t, due.Conversation)
	last, ok := s.LastCheck("A1-07")
	require.True(t, ok)
	assert.Equal(t, first.ID(), last.ID)
	assert.Equal(t, "wrong cell", s.Struck[second.ID()].Reason)
	assert.Equal(t, 1, s.ConversationsOn("A1-07", first.Wall), "one conversation that day")

	list := s.ChecksDue("A", at(50))
	require.Len(t, list, 1)
	assert.True(t, list[0].Overdue)
	assert.Empty(t, s.ChecksDue("B", at(50)), "another wing's cells are its own")

	s.Fold(c.mk(event.ObservationPlanEnded, "A1-07", "2001", nil))
	_, ok = s.NextDue("A1-07")
	assert.False(t, ok, "off the plan")
	assert.Empty(t, s.ChecksDue("A", at(50)))
}

// TestPresenceWaitsForItsCheck: a presence at the door is pending until a
// check follows it, or for PresenceWindow.
func TestPresenceWaitsForItsCheck(t *testing.T) {
	c, s := newChain(), New()
	p := c.mk(event.ObservationPresence, "A1-07", event.SystemActor, map[string]string{"point": "A1-07-CALL"})
	s.Fold(p)
	got, ok := s.PendingPresence("A1-07", p.Wall.Add(time.Minute))
	require.True(t, ok)
	assert.Equal(t, "A1-07-CALL", got.Point)
	_, ok = s.PendingPresence("A1-07", p.Wall.Add(PresenceWindow+time.Second))
	assert.False(t, ok, "too long ago")

	check := c.mk(event.ObservationChecked, "A1-07", "1001", map[string]string{"outcome": "sign-of-life", "how": CheckedAtDoor,
		"presence": p.ID().String(), "presence_at": p.Wall.Format(time.RFC3339Nano)})
	s.Fold(check)
	_, ok = s.PendingPresence("A1-07", p.Wall.Add(time.Minute))
	assert.False(t, ok, "its check is recorded")
	last, _ := s.LastCheck("A1-07")
	assert.Equal(t, p.Wall, last.AtCell(), "the officer stood at the cell when the key was turned")
	assert.Equal(t, last.ID, s.CheckedBy["1001"].ID)
}

// TestRollCorrectUntilADiscrepancy: a signed roll stands until a landing
// of its wing is counted with a discrepancy; a struck signing does not.
func TestRollCorrectUntilADiscrepancy(t *testing.T) {
	c, s := newChain(), New()
	s.Fold(c.mk(event.RollExpectedSet, "A1-01", "2001", map[string]string{"occupants": "2", "out": "1", "reason": "court"}))
	s.Fold(c.mk(event.RollExpectedSet, "A1-02", "2001", map[string]string{"occupants": "1"}))
	expected, unset := s.ExpectedOn([]string{"A1-01", "A1-02", "A1-03"})
	assert.Equal(t, 2, expected)
	assert.Equal(t, []string{"A1-03"}, unset)

	count := func(n int) event.Event {
		return c.mk(event.RollCounted, LandingID("A", "1"), "1001", map[string]string{"landing": "1", "counted": strconv.Itoa(n), "expected": "2"})
	}
	ok1 := count(2)
	s.Fold(ok1)
	_, ok := s.RollCorrect("A")
	assert.False(t, ok, "not signed yet")
	signed := c.mk(event.RollSigned, "A", "2001", map[string]string{"counted": "2", "expected": "2", "counts": ok1.ID().String()})
	s.Fold(signed)
	r, ok := s.RollCorrect("A")
	require.True(t, ok)
	assert.Equal(t, signed.Wall, r.At, "correct since it was signed")
	assert.Equal(t, []event.ID{ok1.ID()}, r.Counts)

	bad := count(1)
	s.Fold(bad)
	_, ok = s.RollCorrect("A")
	assert.False(t, ok, "a later count is short")
	last, _ := s.LastCount("A", "1")
	assert.Equal(t, -1, last.Discrepancy())

	s.Fold(c.mk(event.RecordCorrected, LandingID("A", "1"), "1001", map[string]string{"record": bad.ID().String(), "kind": string(event.RollCounted), "reason": "miscounted"}))
	_, ok = s.RollCorrect("A")
	assert.True(t, ok, "the short count was struck")
	s.Fold(c.mk(event.RecordCorrected, "A", "2001", map[string]string{"record": signed.ID().String(), "kind": string(event.RollSigned), "reason": "signed too soon"}))
	_, ok = s.RollCorrect("A")
	assert.False(t, ok, "the signing was struck")
}

// TestHandoverSignedAndRead: a handover is read by each incoming officer
// once (the first reading stands), whichever record arrives first.
func TestHandoverSignedAndRead(t *testing.T) {
	c, s := newChain(), New()
	data := map[string]string{"from": "2026-12-01T07:00:00Z", "to": "2026-12-01T19:00:00Z", "digest": "ab", "open_items": "2"}
	notes := strings.Repeat("é", 300) + " end" // 604 bytes: four fields
	NotesData(notes, data)
	assert.Equal(t, notes, NotesFromData(data))
	for k, v := range data {
		assert.LessOrEqual(t, len(v), event.MaxNote, k)
	}
	sign := c.mk(event.HandoverSigned, "A", "1001", data)
	read := c.mk(event.HandoverRead, "A", "1002", map[string]string{"handover": sign.ID().String()})
	again := c.mk(event.HandoverRead, "A", "1002", map[string]string{"handover": sign.ID().String()})
	s.Fold(again)
	s.Fold(read)
	_, ok := s.LatestHandover("A")
	assert.False(t, ok, "read before its signing arrived")
	s.Fold(sign)
	h, ok := s.LatestHandover("A")
	require.True(t, ok)
	assert.Equal(t, notes, h.Notes)
	assert.Equal(t, time.Date(2026, 12, 1, 19, 0, 0, 0, time.UTC), h.To)
	require.Len(t, h.Reads, 1)
	r, ok := h.ReadBy("1002")
	require.True(t, ok)
	assert.Equal(t, read.Wall, r.At, "the first reading stands")
}
