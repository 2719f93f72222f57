package wing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// site generates a plausible history for several wings, each with its own
// clock, including acknowledgements and clears of other wings' alarms.
func site(r *rand.Rand, n int) []event.Event {
	wings := []string{"A", "B", "C"}
	clocks := map[string]*event.Clock{}
	seqs := map[string]uint64{}
	prev := map[string]event.Hash{}
	base := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	for i, w := range wings {
		offset := time.Duration(i) * 3 * time.Second // clocks disagree a little
		step := 0
		clocks[w] = event.NewClock(func() time.Time {
			step++
			return base.Add(offset + time.Duration(step)*time.Second)
		})
	}
	var raised, records []event.ID
	var out []event.Event
	for range n {
		w := wings[r.IntN(len(wings))]
		var d event.Draft
		switch x := r.IntN(24); {
		case x >= 16:
			d = shiftDraft(r, w, base, records)
		case x >= 10:
			d = otherDraft(r, w, x)
		case x < 5:
			d = event.Draft{Kind: event.DoorOpened, Subject: fmt.Sprintf("%s1-%02d", w, r.IntN(5)), Actor: event.SystemActor}
			if r.IntN(2) == 0 {
				d.Kind = event.DoorClosed
			}
		case x < 7:
			d = event.Draft{Kind: event.AlarmRaised, Subject: fmt.Sprintf("%s1-%02d-CALL", w, r.IntN(5)), Actor: event.SystemActor,
				Data: map[string]string{"point_kind": "cell-call", "priority": "2"}}
		case x < 9 && len(raised) > 0:
			id := raised[r.IntN(len(raised))]
			d = event.Draft{Kind: event.AlarmAcknowledged, Subject: "point", Actor: fmt.Sprintf("officer-%d", r.IntN(3)),
				Data: map[string]string{"alarm": id.String()}}
			switch r.IntN(6) {
			case 0:
				d.Kind, d.Data["outcome"] = event.AlarmResolved, "assistance-given"
			case 1:
				d.Kind, d.Data["how"], d.Data["where"] = event.AlarmAttended, []string{"reset", "panel"}[r.IntN(2)], "A1-01"
			case 2:
				d.Kind, d.Data["reason"] = event.AlarmClosedRemotely, "bell stuck"
			case 3:
				d.Kind, d.Data["reason"], d.Data["after"] = event.AlarmEscalated, []string{"unacknowledged", "unattended"}[r.IntN(2)], "1m0s"
			case 4:
				d.Kind = event.AlarmCleared
			}
		default:
			d = event.Draft{Kind: event.InputFault, Subject: fmt.Sprintf("%s1-%02d", w, r.IntN(5)), Actor: event.SystemActor,
				Data: map[string]string{"fault": "pin-missing"}}
			if r.IntN(2) == 0 {
				d.Kind, d.Data = event.InputRestored, nil
			}
		}
		rd := clocks[w].Now()
		seqs[w]++
		e := event.Event{Wing: w, Seq: seqs[w], HLC: rd.HLC, Wall: rd.Wall, ClockTrusted: rd.Trusted,
			Kind: d.Kind, Subject: d.Subject, Actor: d.Actor, Data: d.Data}
		e.Seal(prev[w])
		prev[w] = e.Hash
		if e.Kind == event.AlarmRaised {
			raised = append(raised, e.ID())
		}
		if Correctable(e.Kind) {
			records = append(records, e.ID())
		}
		out = append(out, e)
	}
	return out
}

// otherDraft makes the kinds beyond doors, alarms and faults.
func otherDraft(r *rand.Rand, w string, x int) event.Draft {
	subject := fmt.Sprintf("%s1-%02d", w, r.IntN(5))
	switch x {
	case 10:
		k := event.DoorLocked
		if r.IntN(2) == 0 {
			k = event.DoorUnlocked
		}
		return event.Draft{Kind: k, Subject: subject, Actor: event.SystemActor}
	case 11:
		return event.Draft{Kind: event.InputProven, Subject: subject, Actor: fmt.Sprintf("officer-%d", r.IntN(3))}
	case 12:
		return event.Draft{Kind: event.ClimateCondition, Subject: "ENV-" + w, Actor: event.SystemActor,
			Data: map[string]string{"condition": []string{"too-hot", "too-humid"}[r.IntN(2)], "active": fmt.Sprint(r.IntN(2) == 0), "value": fmt.Sprint(r.IntN(40))}}
	case 13:
		d := event.Draft{Kind: event.WalkTestStarted, Subject: w, Actor: "officer-1", Data: map[string]string{"until": "2026-11-25T10:00:00Z"}}
		if r.IntN(2) == 0 {
			d.Data["points"], d.Data["landing"] = w+"1-01,"+w+"1-02-CALL", "1"
		}
		return d
	case 14:
		switch r.IntN(3) {
		case 0:
			return event.Draft{Kind: event.LockdownDeclared, Subject: "site", Actor: "sup-1", Data: map[string]string{"reason": "fire"}}
		case 1:
			return event.Draft{Kind: event.LockdownEnded, Subject: "site", Actor: "sup-1"}
		}
		return event.Draft{Kind: event.RegimeSet, Subject: w, Actor: "sup-1", Data: map[string]string{"regime": string(Regimes()[r.IntN(3)])}}
	}
	return event.Draft{Kind: event.WalkTestEnded, Subject: w, Actor: event.SystemActor}
}

// shiftDraft makes the kinds of the officer's shift: plans, checks,
// presence, expected rolls, counts, signed rolls, handovers and their
// readings, and corrections of earlier records.
func shiftDraft(r *rand.Rand, w string, base time.Time, records []event.ID) event.Draft {
	cell := fmt.Sprintf("%s1-%02d", w, r.IntN(5))
	officer := fmt.Sprintf("officer-%d", r.IntN(3))
	at := func() string { return base.Add(time.Duration(r.IntN(7200)) * time.Second).Format(time.RFC3339) }
	switch r.IntN(11) {
	case 0:
		p := Plan{DayPerHour: float64(r.IntN(5)), NightPerHour: 0.5 * float64(r.IntN(5)), ConversationsPerDay: r.IntN(4), MaxGap: time.Duration(10+r.IntN(50)) * time.Minute}
		data := p.Data()
		Due{At: base.Add(time.Duration(r.IntN(3600)) * time.Second), Conversation: r.IntN(2) == 0}.Data(data)
		return event.Draft{Kind: event.ObservationPlanSet, Subject: cell, Actor: "sup-1", Data: data}
	case 1:
		return event.Draft{Kind: event.ObservationPlanEnded, Subject: cell, Actor: "sup-1"}
	case 2, 3:
		data := map[string]string{"outcome": string(CheckOutcomes()[r.IntN(5)]), "how": CheckedAtPanel, "due": at(), "next_due": at(), "screen": "1"}
		if r.IntN(2) == 0 {
			data["how"], data["presence"], data["presence_at"] = CheckedAtDoor, fmt.Sprintf("%s/%d", w, 1+r.IntN(20)), at()
		}
		if r.IntN(3) == 0 {
			data["flags"], data["late"], data["previous"], data["took"], data["needs"] = FlagTooFast+","+FlagOtherLanding, "true", w+"/3", "4s", "27s"
		}
		return event.Draft{Kind: event.ObservationChecked, Subject: cell, Actor: officer, Data: data}
	case 4:
		return event.Draft{Kind: event.ObservationPresence, Subject: cell, Actor: event.SystemActor, Data: map[string]string{"point": cell + "-CALL"}}
	case 5:
		return event.Draft{Kind: event.RollExpectedSet, Subject: cell, Actor: "sup-1",
			Data: map[string]string{"occupants": fmt.Sprint(1 + r.IntN(2)), "out": fmt.Sprint(r.IntN(2)), "reason": "court"}}
	case 6:
		landing := fmt.Sprint(1 + r.IntN(2))
		return event.Draft{Kind: event.RollCounted, Subject: LandingID(w, landing), Actor: officer,
			Data: map[string]string{"landing": landing, "counted": fmt.Sprint(18 + r.IntN(3)), "expected": "19", "open_doors": "1", "open_cells": cell}}
	case 7:
		return event.Draft{Kind: event.RollSigned, Subject: w, Actor: "sup-1", Data: map[string]string{"counted": "38", "expected": "38", "counts": w + "/4," + w + "/9"}}
	case 8:
		data := map[string]string{"from": at(), "to": at(), "digest": "ab12", "open_items": fmt.Sprint(r.IntN(4))}
		NotesData("all quiet; "+cell+" on a plan", data)
		return event.Draft{Kind: event.HandoverSigned, Subject: w, Actor: officer, Data: data}
	case 9:
		if len(records) > 0 {
			return event.Draft{Kind: event.HandoverRead, Subject: w, Actor: officer, Data: map[string]string{"handover": records[r.IntN(len(records))].String()}}
		}
	}
	if len(records) == 0 {
		return event.Draft{Kind: event.ObservationPresence, Subject: cell, Actor: event.SystemActor, Data: map[string]string{"point": cell + "-CALL"}}
	}
	return event.Draft{Kind: event.RecordCorrected, Subject: cell, Actor: "sup-1",
		Data: map[string]string{"record": records[r.IntN(len(records))].String(), "kind": string(event.ObservationChecked), "reason": "wrong cell"}}
}

func fold(events []event.Event) *State {
	s := New()
	for _, e := range events {
		s.Fold(e)
	}
	return s
}

// TestFoldIsIndependentOfArrivalOrder is the property replication relies
// on: every wing folds the same set of events, in whatever order they
// arrived and however often, into the same state.
func TestFoldIsIndependentOfArrivalOrder(t *testing.T) {
	for seed := range uint64(50) {
		r := rand.New(rand.NewPCG(seed, 1))
		events := site(r, 200+r.IntN(300))
		want := fold(events)
		for round := range 5 {
			shuffled := append([]event.Event(nil), events...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			// Replays deliver some events twice.
			for range r.IntN(20) {
				shuffled = append(shuffled, events[r.IntN(len(events))])
			}
			got := fold(shuffled)
			require.Equal(t, want, got, "seed %d round %d: state depends on arrival order", seed, round)
			require.Equal(t, want.ActiveAlarms(), got.ActiveAlarms(), "seed %d round %d", seed, round)
		}
	}
}

func TestDoorShowsLatestPositionAndSince(t *testing.T) {
	c := event.NewClock(func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) })
	mk := func(seq uint64, k event.Kind) event.Event {
		rd := c.Now()
		return event.Event{Wing: "A", Seq: seq, HLC: rd.HLC, Wall: rd.Wall, Kind: k, Subject: "A1-01", Actor: event.SystemActor}
	}
	opened, closed := mk(1, event.DoorOpened), mk(2, event.DoorClosed)
	s := New()
	s.Fold(closed)
	s.Fold(opened) // arrives late: must not win
	assert.False(t, s.Doors["A1-01"].Open)
	assert.Equal(t, closed.Wall, s.Doors["A1-01"].Since)
}

func TestAlarmLifecycleAndOfficerOrder(t *testing.T) {
	var t0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	step := 0
	c := event.NewClock(func() time.Time { step++; return t0.Add(time.Duration(step) * time.Second) })
	seq := uint64(0)
	mk := func(k event.Kind, subject, actor string, data map[string]string) event.Event {
		seq++
		rd := c.Now()
		return event.Event{Wing: "A", Seq: seq, HLC: rd.HLC, Wall: rd.Wall, Kind: k, Subject: subject, Actor: actor, Data: data}
	}
	s := New()
	call := mk(event.AlarmRaised, "A1-01-CALL", event.SystemActor, map[string]string{"point_kind": "cell-call", "priority": "2"})
	staff := mk(event.AlarmRaised, "A-STAFF-1", event.SystemActor, map[string]string{"point_kind": "staff-alarm", "priority": "1"})
	older := mk(event.AlarmRaised, "A1-02-CALL", event.SystemActor, map[string]string{"point_kind": "cell-call", "priority": "2"})
	for _, e := range []event.Event{call, staff, older} {
		s.Fold(e)
	}
	ids := func() (out []string) {
		for _, a := range s.ActiveAlarms() {
			out = append(out, a.Point)
		}
		return out
	}
	assert.Equal(t, []string{"A-STAFF-1", "A1-01-CALL", "A1-02-CALL"}, ids(), "priority first, then oldest")

	s.Fold(mk(event.AlarmAcknowledged, "A-STAFF-1", "officer-7", map[string]string{"alarm": staff.ID().String()}))
	assert.Equal(t, []string{"A1-01-CALL", "A1-02-CALL", "A-STAFF-1"}, ids(), "acknowledged alarms go below unacknowledged ones")
	s.Fold(mk(event.AlarmAcknowledged, "A-STAFF-1", "officer-9", map[string]string{"alarm": staff.ID().String()}))
	assert.Equal(t, "officer-7", s.Alarms[staff.ID()].Acknowledged.By, "the first acknowledgement stands")

	a, ok := s.ActiveAlarmOn("A1-01-CALL")
	require.True(t, ok)
	assert.Equal(t, call.ID(), a.ID)
	s.Fold(mk(event.AlarmResolved, "A1-01-CALL", "officer-7", map[string]string{"alarm": call.ID().String(), "outcome": "false-alarm"}))
	_, ok = s.ActiveAlarmOn("A1-01-CALL")
	assert.False(t, ok)
	assert.Equal(t, "false-alarm", s.Alarms[call.ID()].Resolved.Outcome)
	_, err := s.Actionable(call.ID())
	assert.ErrorIs(t, err, ErrAlarmResolved)
	_, err = s.Actionable(event.ID{Wing: "A", Seq: 999})
	assert.ErrorIs(t, err, ErrNoSuchAlarm)

	// An acknowledgement that arrives before its raise does not make an alarm active.
	early := New()
	early.Fold(mk(event.AlarmAcknowledged, "B1-01-CALL", "officer-1", map[string]string{"alarm": "B/5"}))
	assert.Empty(t, early.ActiveAlarms())
	_, err = early.Actionable(event.ID{Wing: "B", Seq: 5})
	assert.ErrorIs(t, err, ErrNotRaised)
}

func TestCloneIsIndependent(t *testing.T) {
	s := fold(site(rand.New(rand.NewPCG(3, 3)), 300))
	c := s.Clone()
	require.Equal(t, s, c)
	for id, a := range c.Alarms {
		if a.Acknowledged != nil {
			a.Acknowledged.By = "changed"
			assert.NotEqual(t, "changed", s.Alarms[id].Acknowledged.By)
			break
		}
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	s := fold(site(rand.New(rand.NewPCG(5, 5)), 500))
	b, err := s.MarshalCheckpoint()
	require.NoError(t, err)
	got, err := UnmarshalCheckpoint(b)
	require.NoError(t, err)
	require.Equal(t, s, got)

	_, err = UnmarshalCheckpoint([]byte(`{"version":99}`))
	require.ErrorIs(t, err, ErrCheckpointVersion)
	_, err = UnmarshalCheckpoint([]byte(`{`))
	require.Error(t, err)
}

// The index of active alarms answers as a search of every alarm would,
// after folding in any order, cloning and a checkpoint's round trip.
func TestActiveAlarmIndexAgreesWithTheAlarms(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	events := site(r, 600)
	r.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	s := fold(events)
	b, err := s.MarshalCheckpoint()
	require.NoError(t, err)
	restored, err := UnmarshalCheckpoint(b)
	require.NoError(t, err)
	searched := *s
	searched.active = nil
	points := map[string]bool{}
	for _, a := range s.Alarms {
		points[a.Point] = true
	}
	require.NotEmpty(t, points)
	active := 0
	for name, st := range map[string]*State{"folded": s, "cloned": s.Clone(), "restored": restored} {
		assert.Equal(t, searched.ActiveAlarms(), st.ActiveAlarms(), name)
		for p := range points {
			for _, kind := range []string{"", "cell-call", "forced", "held-open"} {
				want, wantOK := searched.ActiveAlarmOf(p, kind)
				got, ok := st.ActiveAlarmOf(p, kind)
				assert.Equal(t, wantOK, ok, "%s: %s %s", name, p, kind)
				assert.Equal(t, want, got, "%s: %s %s", name, p, kind)
				if ok && kind == "" {
					active++
				}
			}
		}
	}
	assert.Positive(t, active, "some points have active alarms")
}
