package shift

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/officer"
	"wingnode/appliance/roster"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/sync/export"
)

const roomWing = `wing id=H walk_pace=3s
door id=H1-01 kind=cell landing=1 pin=P1
door id=H1-02 kind=cell landing=1 pin=P2
door id=H1-03 kind=cell landing=1 pin=P3
door id=H-EXIT kind=exit pin=P4
alarm id=H1-01-CALL kind=cell-call cell=H1-01 landing=1 pin=P5 reset=P6
alarm id=H1-02-CALL kind=cell-call cell=H1-02 landing=1 pin=P7 reset=P8
alarm id=H-STAFF kind=staff-alarm pin=P9
`

var (
	o1  = roster.Actor{ID: "1001", Role: roster.Officer}
	o2  = roster.Actor{ID: "1002", Role: roster.Officer}
	sup = roster.Actor{ID: "2001", Role: roster.Supervisor}
)

// rig is a wing's store, state, panel and shift room on a fake clock.
type rig struct {
	t     *testing.T
	clock *clockwork.FakeClock
	store *store.Store
	panel *officer.Panel
	room  *Room

	mu    sync.Mutex
	state *wing.State
}

var start = time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)

func newRig(t *testing.T) *rig {
	t.Helper()
	w, err := config.Parse("h.conf", strings.NewReader(roomWing))
	require.NoError(t, err)
	r := &rig{t: t, clock: clockwork.NewFakeClockAt(start), state: wing.New()}
	r.store, err = store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "H", Clock: event.NewClock(r.clock.Now),
		Committed: func(batch []event.Record) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, rec := range batch {
				r.state.Fold(rec.Event)
			}
		}})
	require.NoError(t, err)
	t.Cleanup(func() { r.store.Close() })
	r.panel = officer.New(officer.Config{Wing: w, Store: r.store, Read: r.read, Clock: r.clock, Rand: rand.New(rand.NewPCG(4, 4))})
	r.room = New(Config{Wing: w, Store: r.store, Read: r.read, Clock: r.clock})
	return r
}

func (r *rig) read(f func(*wing.State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.state)
}

// at moves the clock to start+d.
func (r *rig) at(d time.Duration) { r.clock.Advance(start.Add(d).Sub(r.clock.Now())) }

// rec records what the system or an officer records.
func (r *rig) rec(kind event.Kind, subject, actor string, data map[string]string) event.ID {
	r.t.Helper()
	rec, err := r.store.Append(context.Background(), event.Draft{Kind: kind, Subject: subject, Actor: actor, Data: data})
	require.NoError(r.t, err)
	return rec.Event.ID()
}

func (r *rig) raise(point, kind string, priority string) event.ID {
	return r.rec(event.AlarmRaised, point, event.SystemActor, map[string]string{"point_kind": kind, "priority": priority})
}

func (r *rig) step(kind event.Kind, alarm event.ID, point, actor string, data map[string]string) {
	if data == nil {
		data = map[string]string{}
	}
	data["alarm"] = alarm.String()
	r.rec(kind, point, actor, data)
}

// attendedCall raises a cell call, acknowledged after ack and attended
// at its door after attend, then resolved.
func (r *rig) attendedCall(at time.Duration, point string, ack, attend time.Duration) event.ID {
	r.at(at)
	id := r.raise(point, wing.CellCall, "2")
	r.at(at + ack)
	r.step(event.AlarmAcknowledged, id, point, o1.ID, nil)
	r.at(at + attend)
	r.step(event.AlarmAttended, id, point, event.SystemActor, map[string]string{"how": wing.AttendedAtReset, "where": strings.TrimSuffix(point, "-CALL")})
	r.step(event.AlarmResolved, id, point, o1.ID, map[string]string{"outcome": "assistance-given"})
	return id
}

// TestFiguresOfAShift: raise to acknowledge and to attend, median and
// worst, the alarms still waiting counted in the worst; the share of cell
// calls attended at the door within 5 minutes; remote closes.
func TestFiguresOfAShift(t *testing.T) {
	r := newRig(t)
	r.attendedCall(time.Minute, "H1-01-CALL", 20*time.Second, time.Minute)
	r.attendedCall(10*time.Minute, "H1-02-CALL", 40*time.Second, 3*time.Minute)
	r.attendedCall(20*time.Minute, "H1-01-CALL", 60*time.Second, 7*time.Minute)
	r.at(30 * time.Minute)
	closed := r.raise("H1-02-CALL", wing.CellCall, "2")
	r.at(31 * time.Minute)
	r.step(event.AlarmAcknowledged, closed, "H1-02-CALL", o1.ID, nil)
	r.step(event.AlarmClosedRemotely, closed, "H1-02-CALL", sup.ID, map[string]string{"reason": "bell jammed"})
	r.at(50 * time.Minute)
	r.raise("H-STAFF", "staff-alarm", "1") // still waiting at the end
	r.at(time.Hour)

	f, err := r.room.Figures(context.Background(), "H", start, start.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 5, f.Alarms)
	assert.Equal(t, Response{Done: 4, Median: 50 * time.Second, Worst: 10 * time.Minute, Waiting: 1, WorstWaiting: true}, f.Acknowledge,
		"20, 40, 60 s and 1 min; the staff alarm has waited 10 minutes")
	assert.Equal(t, Response{Done: 3, Median: 3 * time.Minute, Worst: 10 * time.Minute, Waiting: 1, WorstWaiting: true}, f.Attend)
	assert.Equal(t, 4, f.CellCalls)
	assert.Equal(t, 2, f.CellCallsInTime)
	assert.InDelta(t, 0.5, f.InTimeShare, 1e-9)
	assert.Equal(t, 1, f.RemoteCloses)

	_, err = r.room.Figures(context.Background(), "H", start, start.Add(-time.Minute))
	assert.ErrorContains(t, err, "is empty")
	_, err = r.room.Figures(context.Background(), "H", start.Add(-25*time.Hour), start)
	assert.ErrorContains(t, err, "longer than 24h")
}

// TestDraftOfAShift: the draft lists the shift's alarms with response
// times, door anomalies, checks done, late, missed and flagged, counts,
// the signed roll, walk tests, faults and other open items with owners,
// and corrections with the records they struck; its digest is of its
// contents.
func TestDraftOfAShift(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	// Before the shift: an unacknowledged staff alarm and a plan.
	r.at(-time.Hour)
	staff := r.raise("H-STAFF", "staff-alarm", "1")
	require.NoError(t, r.panel.SetPlan(ctx, sup, "H1-01", wing.Plan{DayPerHour: 2, NightPerHour: 2, MaxGap: time.Hour}, ""))
	require.NoError(t, r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{
		"H1-01": {Occupants: 1}, "H1-02": {Occupants: 1}, "H1-03": {Occupants: 1, Out: 1, Reason: "hospital"}}))

	// The shift.
	call := r.attendedCall(5*time.Minute, "H1-02-CALL", 30*time.Second, 2*time.Minute)
	r.at(10 * time.Minute)
	forced := r.raise("H-EXIT", wing.DoorForced, "1")
	var due wing.Due
	r.read(func(s *wing.State) { due, _ = s.NextDue("H1-01") })
	overdue := r.rec(event.AlarmRaised, "H1-01", event.SystemActor, map[string]string{"point_kind": wing.CheckOverdue, "priority": "2", "due": due.At.Format(time.RFC3339)})
	r.at(12 * time.Minute)
	late, err := r.panel.RecordCheck(ctx, o1, wing.CheckEntry{Cell: "H1-01", Outcome: wing.Spoke, Screen: "1"})
	require.NoError(t, err)
	r.step(event.AlarmResolved, overdue, "H1-01", event.SystemActor, map[string]string{"outcome": wing.OutcomeCheckRecorded, "check": late.ID.String()})
	r.clock.Advance(2 * time.Second)
	fast, err := r.panel.RecordCheck(ctx, o1, wing.CheckEntry{Cell: "H1-03", Outcome: wing.SeenMoving})
	require.NoError(t, err)
	wrong, err := r.panel.RecordCheck(ctx, o2, wing.CheckEntry{Cell: "H1-02", Outcome: wing.Seen})
	require.NoError(t, err)
	require.NoError(t, r.panel.Correct(ctx, o2, wrong.ID, "it was H1-03"))

	r.at(20 * time.Minute)
	require.NoError(t, r.panel.StartWalkTest(ctx, sup, 30*time.Minute, wing.WalkTestPoints{Landing: "1"}))
	r.rec(event.InputProven, "H1-01", sup.ID, nil)
	r.rec(event.InputProven, "H1-01-CALL", sup.ID, nil)
	require.NoError(t, r.panel.EndWalkTest(ctx, sup))
	r.rec(event.InputFault, "H1-02", event.SystemActor, map[string]string{"fault": "open-circuit", "detail": "cut"})

	r.at(30 * time.Minute)
	short, err := r.panel.CountLanding(ctx, o1, "1", 1)
	require.NoError(t, err)
	_, err = r.panel.CountLanding(ctx, o1, "1", 2)
	require.NoError(t, err)
	sign, err := r.panel.SignRoll(ctx, sup)
	require.NoError(t, err)
	r.at(12 * time.Hour)
	r.rec(event.DoorOpened, "H1-01", event.SystemActor, nil) // after the shift

	d, err := r.room.Draft(ctx, start, start.Add(12*time.Hour))
	require.NoError(t, err)
	var alarms []string
	for _, a := range d.Alarms {
		alarms = append(alarms, a.PointKind+"@"+a.Point)
	}
	assert.Equal(t, []string{"cell-call@H1-02-CALL", "roll-discrepancy@H-landing-1"}, alarms, "raised in the shift; the staff alarm was raised before it")
	require.Equal(t, call, d.Alarms[0].ID)
	assert.Equal(t, 30*time.Second, d.Alarms[0].Acknowledged.After)
	assert.Equal(t, 2*time.Minute, d.Alarms[0].Attended.After)
	assert.Equal(t, wing.AttendedAtReset, d.Alarms[0].Attended.How)
	require.Len(t, d.DoorAnomalies, 1)
	assert.Equal(t, forced, d.DoorAnomalies[0].ID)

	assert.Equal(t, 2, d.Checks.Done, "the struck check is not counted")
	require.Len(t, d.Checks.Records, 3)
	assert.NotNil(t, d.Checks.Records[2].Struck, "shown struck through")
	require.Len(t, d.Checks.Late, 1)
	assert.Equal(t, late.ID, d.Checks.Late[0].ID)
	require.Len(t, d.Checks.Flagged, 1)
	assert.Equal(t, fast.ID, d.Checks.Flagged[0].ID)
	assert.Equal(t, []string{wing.FlagTooFast}, d.Checks.Flagged[0].Flags)
	require.Len(t, d.Checks.Missed, 1)
	assert.Equal(t, Missed{Cell: "H1-01", Due: due.At.UTC(), Alarm: overdue, Checked: start.Add(12 * time.Minute)}, d.Checks.Missed[0])

	require.Len(t, d.Counts, 2)
	assert.Equal(t, short.ID, d.Counts[0].ID)
	assert.Equal(t, -1, d.Counts[0].Discrepancy())
	require.Len(t, d.Rolls, 1)
	assert.Equal(t, sign.ID, d.Rolls[0].ID)
	assert.Equal(t, 2, d.Rolls[0].Counted)
	require.Len(t, d.WalkTests, 1)
	assert.Equal(t, WalkTestItem{Started: start.Add(20 * time.Minute), By: sup.ID, Until: start.Add(50 * time.Minute), Ended: start.Add(20 * time.Minute),
		Landing: "1", Points: []string{"H1-01", "H1-02", "H1-03", "H1-01-CALL", "H1-02-CALL"}, Proven: 2}, d.WalkTests[0])
	assert.Equal(t, []Fault{{Input: "H1-02", Fault: "open-circuit", Detail: "cut", Since: start.Add(20 * time.Minute)}}, d.Faults)

	var open []string
	for _, it := range d.OpenItems {
		open = append(open, it.What+" "+it.Subject+" "+it.Owner)
	}
	assert.Contains(t, open, "alarm H-STAFF "+OwnerInCharge)
	assert.Contains(t, open, "fault H1-02 "+OwnerInCharge)
	assert.Contains(t, open, "out-of-wing H1-03 "+sup.ID)
	assert.Contains(t, open, "overdue-check H1-01 "+o1.ID, "12 hours on, the check is overdue; its last checker owns it")
	for _, it := range d.OpenItems {
		if it.Ref == staff {
			assert.Equal(t, "staff-alarm, not acknowledged", it.Detail)
		}
	}

	require.Len(t, d.Corrections, 1)
	assert.Equal(t, wrong.ID, d.Corrections[0].Record.ID())
	assert.Equal(t, "it was H1-03", d.Corrections[0].Correction.Reason)
	assert.Equal(t, 1, d.Figures.OverdueChecks)
	assert.Equal(t, 1, d.Figures.LateChecks)

	// The digest is of the contents, the same when drafted again.
	b, err := json.Marshal(func() Draft { c := d; c.Digest = ""; return c }())
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	assert.Equal(t, d.Digest, hex.EncodeToString(sum[:]))
	again, err := r.room.Draft(ctx, start, start.Add(12*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, d.Digest, again.Digest)
	id, err := r.panel.SignHandover(ctx, o1, wing.HandoverEntry{From: d.From, To: d.To, Digest: d.Digest, OpenItems: len(d.OpenItems), Notes: "see the open items"})
	require.NoError(t, err)
	r.read(func(s *wing.State) {
		h, ok := s.LatestHandover("H")
		require.True(t, ok)
		assert.Equal(t, id, h.ID)
		assert.Equal(t, d.Digest, h.Digest)
	})
}

// TestTimelineAroundAnAlarmAcrossTheSite: an alarm's timeline holds every
// door, alarm, check and roll event of the site in the hour around it,
// struck records marked, with response times; its NDJSON lines are the
// central pull's records and verify as they do.
func TestTimelineAroundAnAlarmAcrossTheSite(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.at(-45 * time.Minute)
	r.rec(event.DoorOpened, "H1-03", event.SystemActor, nil) // before the hour
	r.at(-10 * time.Minute)
	r.rec(event.DoorOpened, "H1-01", event.SystemActor, nil)
	r.rec(event.ClimateCondition, "ENV-H1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "31°C"}) // not a timeline kind
	call := r.attendedCall(0, "H1-01-CALL", 30*time.Second, 90*time.Second)
	ingestWing(t, r.store, "B", start.Add(5*time.Minute))
	r.at(20 * time.Minute)
	c, err := r.panel.RecordCheck(ctx, o1, wing.CheckEntry{Cell: "H1-02", Outcome: wing.Spoke})
	require.NoError(t, err)
	require.NoError(t, r.panel.Correct(ctx, o1, c.ID, "wrong cell"))
	r.at(40 * time.Minute)
	r.rec(event.DoorClosed, "H1-01", event.SystemActor, nil) // after the hour

	tl, err := r.room.Timeline(ctx, TimelineRequest{Alarm: call})
	require.NoError(t, err)
	assert.Equal(t, start.Add(-Around), tl.From)
	assert.Equal(t, start.Add(Around), tl.To)
	require.NotNil(t, tl.Alarm)
	assert.Equal(t, 90*time.Second, tl.Alarm.Attended.After)
	var got []string
	for _, en := range tl.Entries {
		got = append(got, en.Event.Wing+" "+string(en.Event.Kind)+" "+en.Event.Subject)
	}
	assert.Equal(t, []string{
		"H door.opened H1-01",
		"H alarm.raised H1-01-CALL", "H alarm.acknowledged H1-01-CALL", "H alarm.attended H1-01-CALL", "H alarm.resolved H1-01-CALL",
		"B door.opened B1-01", "B alarm.raised B1-01-CALL",
		"H observation.checked H1-02", "H record.corrected H1-02",
	}, got)
	assert.NotNil(t, tl.Entries[1].Alarm, "a raise carries its response times")
	assert.NotNil(t, tl.Entries[7].Struck, "the corrected check is struck")

	var buf bytes.Buffer
	require.NoError(t, tl.WriteNDJSON(&buf))
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var ce export.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ce), "a line is a record of the central pull")
		sum := sha256.Sum256(ce.Body)
		assert.Equal(t, ce.Event.Hash, event.Hash(sum), "SHA-256 of the body is the hash")
		assert.Equal(t, ce.Event.Prev[:], ce.Body[len(ce.Body)-32:], "the body ends with prev")
		decoded, err := event.Unmarshal(append(ce.Body, ce.Event.Hash[:]...))
		require.NoError(t, err)
		assert.Equal(t, tl.Entries[n].Event, decoded, "the JSON agrees with the body")
		n++
	}
	assert.Equal(t, len(tl.Entries), n)

	cell, err := r.room.Timeline(ctx, TimelineRequest{Place: "H1-01", From: start.Add(-time.Hour), To: start.Add(time.Hour)})
	require.NoError(t, err)
	got = nil
	for _, en := range cell.Entries {
		got = append(got, string(en.Event.Kind)+" "+en.Event.Subject)
	}
	assert.Equal(t, []string{"door.opened H1-01", "alarm.raised H1-01-CALL", "alarm.acknowledged H1-01-CALL", "alarm.attended H1-01-CALL",
		"alarm.resolved H1-01-CALL", "door.closed H1-01"}, got, "a cell brings its call")

	_, err = r.room.Timeline(ctx, TimelineRequest{Alarm: event.ID{Wing: "H", Seq: 999}})
	assert.ErrorIs(t, err, wing.ErrNoSuchAlarm)
}

// ingestWing stores two events of another wing of the site, as
// replication does.
func ingestWing(t *testing.T, st *store.Store, w string, at time.Time) {
	t.Helper()
	var evs []event.Event
	var prev event.Hash
	for i, d := range []event.Draft{
		{Kind: event.DoorOpened, Subject: w + "1-01", Actor: event.SystemActor},
		{Kind: event.AlarmRaised, Subject: w + "1-01-CALL", Actor: event.SystemActor, Data: map[string]string{"point_kind": "cell-call", "priority": "2"}},
	} {
		wall := at.Add(time.Duration(i) * time.Second)
		e := event.Event{Wing: w, Seq: uint64(i + 1), HLC: event.HLC{WallNanos: wall.UnixNano()}, Wall: wall, ClockTrusted: true,
			Kind: d.Kind, Subject: d.Subject, Actor: d.Actor, Data: d.Data}
		e.Seal(prev)
		prev = e.Hash
		evs = append(evs, e)
	}
	refused, err := st.Ingest(context.Background(), store.Batch{Entries: []store.Entry{{Events: evs}}})
	require.NoError(t, err)
	require.NoError(t, refused[0])
}

// TestCheckHistoryOfACell: a cell's checks, newest first, struck ones
// marked.
func TestCheckHistoryOfACell(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	first, err := r.panel.RecordCheck(ctx, o1, wing.CheckEntry{Cell: "H1-02", Outcome: wing.Spoke})
	require.NoError(t, err)
	r.at(10 * time.Minute)
	second, err := r.panel.RecordCheck(ctx, o1, wing.CheckEntry{Cell: "H1-02", Outcome: wing.SignOfLife})
	require.NoError(t, err)
	require.NoError(t, r.panel.Correct(ctx, sup, first.ID, "another cell"))
	got, err := r.room.CheckHistory(ctx, "H1-02", 0)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, second.ID, got[0].ID)
	assert.Nil(t, got[0].Struck)
	assert.Equal(t, "another cell", got[1].Struck.Reason)
}
