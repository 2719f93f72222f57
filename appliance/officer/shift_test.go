package officer

import (
	"context"
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
	"wingnode/appliance/roster"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
)

const shiftWing = `wing id=S walk_pace=3s
door id=S1-01 kind=cell landing=1 pin=P1
door id=S1-02 kind=cell landing=1 pin=P2
door id=S1-03 kind=cell landing=1 pin=P3
door id=S1-04 kind=cell landing=1 pin=P4
door id=S2-01 kind=cell landing=2 pin=P5
door id=S2-02 kind=cell landing=2 pin=P6
door id=S-OFFICE kind=office pin=P7
alarm id=S1-01-CALL kind=cell-call cell=S1-01 landing=1 pin=P8 reset=P9
alarm id=S1-04-CALL kind=cell-call cell=S1-04 landing=1 pin=P10 reset=P11
alarm id=S2-01-CALL kind=cell-call cell=S2-01 landing=2 pin=P12
regime at=07:00 mode=unlock
regime at=21:00 mode=night
`

var (
	officer1 = roster.Actor{ID: "1001", Role: roster.Officer}
	officer2 = roster.Actor{ID: "1002", Role: roster.Officer}
	sup      = roster.Actor{ID: "2001", Role: roster.Supervisor}
)

// rig is a wing's panel on a real store and a fake clock, its state
// folded from every stored event as the appliance's commit hook does.
type rig struct {
	t     *testing.T
	clock *clockwork.FakeClock
	store *store.Store
	panel *Panel

	mu    sync.Mutex
	state *wing.State
}

func newRig(t *testing.T, at time.Time) *rig {
	t.Helper()
	w, err := config.Parse("s.conf", strings.NewReader(shiftWing))
	require.NoError(t, err)
	r := &rig{t: t, clock: clockwork.NewFakeClockAt(at), state: wing.New()}
	r.store, err = store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "S", Clock: event.NewClock(r.clock.Now),
		Committed: func(batch []event.Record) {
			r.mu.Lock()
			defer r.mu.Unlock()
			for _, rec := range batch {
				r.state.Fold(rec.Event)
			}
		}})
	require.NoError(t, err)
	t.Cleanup(func() { r.store.Close() })
	r.panel = New(Config{Wing: w, Store: r.store, Read: r.read, Clock: r.clock, Rand: rand.New(rand.NewPCG(1, 2))})
	return r
}

func (r *rig) read(f func(*wing.State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.state)
}

// events returns every stored event's kind, oldest first.
func (r *rig) kinds() []event.Kind {
	recs, err := r.store.Tail(0, 1000)
	require.NoError(r.t, err)
	var out []event.Kind
	for _, rec := range recs {
		out = append(out, rec.Event.Kind)
	}
	return out
}

// presence records a presence at a cell door, as the rules do when its
// reset key switch is turned with no call active.
func (r *rig) presence(cell string) {
	_, err := r.store.Append(context.Background(), event.Draft{Kind: event.ObservationPresence, Subject: cell, Actor: event.SystemActor,
		Data: map[string]string{"point": cell + "-CALL"}})
	require.NoError(r.t, err)
}

func day(h, m int) time.Time { return time.Date(2026, 12, 1, h, m, 0, 0, time.Local) }

var plan = wing.Plan{DayPerHour: 2, NightPerHour: 4, ConversationsPerDay: 2, MaxGap: time.Hour}

// TestShiftActionsCheckRoles: every action of the shift needs a signed-in
// officer of the right role, and a refused one records nothing.
func TestShiftActionsCheckRoles(t *testing.T) {
	r := newRig(t, day(10, 0))
	ctx := context.Background()
	anyone := roster.Actor{}
	for name, err := range map[string]error{
		"plan by an officer":   r.panel.SetPlan(ctx, officer1, "S1-01", plan, ""),
		"plan ended by anyone": r.panel.EndPlan(ctx, anyone, "S1-01", ""),
		"roll by an officer":   r.panel.SetExpectedRoll(ctx, officer1, map[string]wing.CellRoll{"S1-01": {Occupants: 1}}),
		"check by anyone": func() error {
			_, err := r.panel.RecordCheck(ctx, anyone, wing.CheckEntry{Cell: "S1-01", Outcome: wing.Spoke})
			return err
		}(),
		"count by anyone":        func() error { _, err := r.panel.CountLanding(ctx, anyone, "1", 4); return err }(),
		"roll signed by officer": func() error { _, err := r.panel.SignRoll(ctx, officer1); return err }(),
		"handover by anyone":     func() error { _, err := r.panel.SignHandover(ctx, anyone, wing.HandoverEntry{}); return err }(),
		"read by anyone":         r.panel.ReadHandover(ctx, anyone, event.ID{Wing: "S", Seq: 1}),
		"correction by anyone":   r.panel.Correct(ctx, anyone, event.ID{Wing: "S", Seq: 1}, "wrong"),
	} {
		assert.ErrorIs(t, err, ErrNotAllowed, name)
	}
	assert.Empty(t, r.kinds(), "nothing recorded")
}

// TestBadInputRecordsNothing: a wrong cell, plan, outcome, landing,
// count or handover is refused with a sentence, and nothing is recorded.
func TestBadInputRecordsNothing(t *testing.T) {
	r := newRig(t, day(10, 0))
	ctx := context.Background()
	check := func(c wing.CheckEntry) error { _, err := r.panel.RecordCheck(ctx, officer1, c); return err }
	for name, err := range map[string]error{
		"unknown cell":       r.panel.SetPlan(ctx, sup, "S9-99", plan, ""),
		"office is no cell":  r.panel.SetPlan(ctx, sup, "S-OFFICE", plan, ""),
		"no gap":             r.panel.SetPlan(ctx, sup, "S1-01", wing.Plan{DayPerHour: 1}, ""),
		"too many an hour":   r.panel.SetPlan(ctx, sup, "S1-01", wing.Plan{DayPerHour: 60, MaxGap: time.Hour}, ""),
		"unknown outcome":    check(wing.CheckEntry{Cell: "S1-01", Outcome: "asleep"}),
		"unknown screen":     check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.Spoke, Screen: "9"}),
		"long note":          check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.Spoke, Note: strings.Repeat("x", 300)}),
		"out without reason": r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{"S1-01": {Occupants: 1}, "S1-02": {Occupants: 1, Out: 1}}),
		"more out than in":   r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{"S1-01": {Occupants: 1, Out: 2, Reason: "court"}}),
		"roll of no cell":    r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{"S1-01": {Occupants: 1}, "S9-01": {Occupants: 1}}),
		"unknown landing":    func() error { _, err := r.panel.CountLanding(ctx, officer1, "7", 4); return err }(),
		"negative count":     func() error { _, err := r.panel.CountLanding(ctx, officer1, "1", -1); return err }(),
		"shift ends first": func() error {
			_, err := r.panel.SignHandover(ctx, officer1, wing.HandoverEntry{From: day(9, 0), To: day(8, 0)})
			return err
		}(),
		"digest is no digest": func() error {
			_, err := r.panel.SignHandover(ctx, officer1, wing.HandoverEntry{From: day(7, 0), To: day(10, 0), Digest: "x"})
			return err
		}(),
		"bidi override in the notes": func() error {
			_, err := r.panel.SignHandover(ctx, officer1, wing.HandoverEntry{From: day(7, 0), To: day(10, 0), Digest: strings.Repeat("a", 64), Notes: "all quiet\n\u202eeton"})
			assert.ErrorIs(t, err, event.ErrText, "the notes, not the times, are refused")
			return err
		}(),
		"correction no reason": r.panel.Correct(ctx, officer1, event.ID{Wing: "S", Seq: 1}, " "),
		"another wing's":       r.panel.Correct(ctx, officer1, event.ID{Wing: "T", Seq: 1}, "wrong"),
	} {
		assert.ErrorIs(t, err, ErrBadInput, name)
	}
	_, err := r.panel.CountLanding(ctx, officer1, "1", 4)
	assert.ErrorIs(t, err, wing.ErrNoExpectedRoll)
	assert.Empty(t, r.kinds(), "nothing recorded")
}

// TestChecksOnAPlan: a plan's first check is due within its window; a
// check draws the next, never past the maximum gap; a late check says
// so; a check faster than the walk, or on another landing's screen, is
// flagged; no response raises a priority-1 alarm at once.
func TestChecksOnAPlan(t *testing.T) {
	r := newRig(t, day(10, 0))
	ctx := context.Background()
	require.NoError(t, r.panel.SetPlan(ctx, sup, "S1-01", plan, "ACCT opened"))
	var due wing.Due
	r.read(func(s *wing.State) { due, _ = s.NextDue("S1-01") })
	assert.False(t, due.At.Before(day(10, 0).Add(30*time.Minute/4)), "no sooner than the window opens: %s", due.At)
	assert.False(t, due.At.After(day(10, 30)), "2 an hour: within 30 minutes: %s", due.At)

	r.clock.Advance(due.At.Sub(r.clock.Now()) + 2*time.Minute)
	c, err := r.panel.RecordCheck(ctx, officer1, wing.CheckEntry{Cell: "S1-01", Outcome: wing.Spoke, Screen: "1"})
	require.NoError(t, err)
	assert.True(t, c.Late, "two minutes after it was due")
	assert.Equal(t, due.At, c.Due)
	assert.Equal(t, wing.CheckedAtPanel, c.How)
	assert.Empty(t, c.Flags)
	require.False(t, c.Next.At.IsZero())
	assert.False(t, c.Next.At.After(c.At.Add(30*time.Minute)), "the next within the interval")
	assert.True(t, c.Next.At.After(c.At))
	r.read(func(s *wing.State) { got, _ := s.NextDue("S1-01"); assert.Equal(t, c.Next, got) })

	// Four seconds later at S1-04, three cells along (9 s at 3 s a cell).
	r.clock.Advance(4 * time.Second)
	fast, err := r.panel.RecordCheck(ctx, officer1, wing.CheckEntry{Cell: "S1-04", Outcome: wing.SeenMoving, Screen: "2"})
	require.NoError(t, err)
	assert.Equal(t, []string{wing.FlagTooFast, wing.FlagOtherLanding}, fast.Flags)
	assert.Equal(t, 4*time.Second, fast.Took)
	assert.Equal(t, 9*time.Second, fast.Needs)
	assert.Equal(t, c.ID, fast.Previous)
	assert.True(t, fast.Next.At.IsZero(), "S1-04 is on no plan")

	// Another officer's check is judged against their own previous one.
	other, err := r.panel.RecordCheck(ctx, officer2, wing.CheckEntry{Cell: "S1-02", Outcome: wing.NoResponse})
	require.NoError(t, err)
	assert.Empty(t, other.Flags)
	var a wing.Alarm
	var ok bool
	r.read(func(s *wing.State) { a, ok = s.ActiveAlarmOf("S1-02", wing.CheckNoResponse) })
	require.True(t, ok, "no response raises an alarm at once")
	assert.Equal(t, 1, a.Priority)
	_, err = r.panel.RecordCheck(ctx, officer2, wing.CheckEntry{Cell: "S1-02", Outcome: wing.NoResponse})
	require.NoError(t, err)
	n := 0
	r.read(func(s *wing.State) {
		for _, x := range s.ActiveAlarms() {
			if x.Point == "S1-02" {
				n++
			}
		}
	})
	assert.Equal(t, 1, n, "one alarm while it is active")

	require.NoError(t, r.panel.EndPlan(ctx, sup, "S1-01", "ACCT closed"))
	r.read(func(s *wing.State) { _, ok = s.NextDue("S1-01") })
	assert.False(t, ok)
	require.NoError(t, r.panel.EndPlan(ctx, sup, "S1-01", ""), "ending it again records nothing")
	assert.Equal(t, 1, count(r.kinds(), event.ObservationPlanEnded))
}

func count(ks []event.Kind, k event.Kind) int {
	n := 0
	for _, x := range ks {
		if x == k {
			n++
		}
	}
	return n
}

// TestNightChecksAtTheDoor: at night a cell with a reset key switch is
// checked at its door, after its key is turned, with a sign of life; a
// cell without one may be checked from the panel, with a sign of life.
func TestNightChecksAtTheDoor(t *testing.T) {
	r := newRig(t, day(23, 0))
	ctx := context.Background()
	check := func(c wing.CheckEntry) (wing.Check, error) { return r.panel.RecordCheck(ctx, officer1, c) }
	_, err := check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.Seen})
	assert.ErrorIs(t, err, wing.ErrNoSignOfLife, "appearing asleep is no sign of life")
	_, err = check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.SignOfLife})
	assert.ErrorIs(t, err, wing.ErrCheckAtDoor)
	_, err = check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.SignOfLife, AtDoor: true})
	assert.ErrorIs(t, err, wing.ErrNoPresence)
	assert.Empty(t, r.kinds())

	r.presence("S1-01")
	turned := r.clock.Now()
	r.clock.Advance(40 * time.Second) // back at the panel
	c, err := check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.SignOfLife})
	require.NoError(t, err)
	assert.Equal(t, wing.CheckedAtDoor, c.How)
	assert.Equal(t, wing.Night, c.Regime)
	assert.True(t, c.PresenceAt.Equal(turned), "the officer stood at the door when the key was turned")
	r.read(func(s *wing.State) {
		_, pending := s.PendingPresence("S1-01", r.clock.Now())
		assert.False(t, pending, "its check is recorded")
	})
	_, err = check(wing.CheckEntry{Cell: "S1-01", Outcome: wing.SignOfLife})
	assert.ErrorIs(t, err, wing.ErrCheckAtDoor, "the presence was used")

	c, err = check(wing.CheckEntry{Cell: "S1-04", Outcome: wing.NoResponse})
	require.NoError(t, err, "no response is never held up for the key")
	assert.Equal(t, wing.CheckedAtPanel, c.How)

	r.clock.Advance(time.Minute)
	c, err = check(wing.CheckEntry{Cell: "S2-02", Outcome: wing.Spoke})
	require.NoError(t, err, "S2-02 has no reset key switch")
	assert.Equal(t, wing.CheckedAtPanel, c.How)
}

// TestCountsAndTheSignedRoll: a count reconciles with the expected roll
// and flags open doors; a discrepancy raises an alarm and keeps the roll
// from being signed until a recount agrees.
func TestCountsAndTheSignedRoll(t *testing.T) {
	r := newRig(t, day(12, 0))
	ctx := context.Background()
	require.NoError(t, r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{
		"S1-01": {Occupants: 2}, "S1-02": {Occupants: 1, Out: 1, Reason: "hospital"}, "S1-03": {Occupants: 1}, "S1-04": {},
		"S2-01": {Occupants: 1}, "S2-02": {Occupants: 1},
	}))
	require.NoError(t, r.panel.SetExpectedRoll(ctx, sup, map[string]wing.CellRoll{"S1-01": {Occupants: 2}}), "unchanged")
	assert.Equal(t, 6, count(r.kinds(), event.RollExpectedSet))

	_, err := r.store.Append(ctx, event.Draft{Kind: event.DoorOpened, Subject: "S1-03", Actor: event.SystemActor})
	require.NoError(t, err)
	c, err := r.panel.CountLanding(ctx, officer1, "1", 3)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Expected, "2 + 0 (one out) + 1 + 0")
	assert.True(t, c.Reconciled())
	assert.Equal(t, []string{"S1-03"}, c.OpenCells, "its door was open during the count")

	short, err := r.panel.CountLanding(ctx, officer2, "2", 1)
	require.NoError(t, err)
	assert.Equal(t, -1, short.Discrepancy())
	var a wing.Alarm
	var ok bool
	r.read(func(s *wing.State) { a, ok = s.ActiveAlarmOf(wing.LandingID("S", "2"), wing.RollDiscrepancy) })
	require.True(t, ok, "a discrepancy raises an alarm")
	assert.Equal(t, 1, a.Priority)

	_, err = r.panel.SignRoll(ctx, sup)
	assert.ErrorIs(t, err, wing.ErrRollNotReconciled)
	assert.ErrorContains(t, err, "landing 2 counted 1 of 2")

	r.clock.Advance(5 * time.Minute)
	_, err = r.panel.CountLanding(ctx, officer2, "2", 2)
	require.NoError(t, err)
	sign, err := r.panel.SignRoll(ctx, sup)
	require.NoError(t, err)
	assert.Equal(t, 5, sign.Counted)
	assert.Len(t, sign.Counts, 2)
	r.read(func(s *wing.State) {
		got, ok := s.RollCorrect("S")
		require.True(t, ok)
		assert.Equal(t, sign.ID, got.ID)
	})

	r.clock.Advance(2 * time.Hour)
	_, err = r.panel.SignRoll(ctx, sup)
	assert.ErrorContains(t, err, "not counted within 1h0m0s", "a roll is signed on recent counts")
}

// TestHandoverAndCorrections: the outgoing officer signs, the incoming
// one reads once; a record is struck by its officer or a supervisor,
// once, and only records of the shift's kinds.
func TestHandoverAndCorrections(t *testing.T) {
	r := newRig(t, day(19, 5))
	ctx := context.Background()
	digest := strings.Repeat("ab", 32)
	id, err := r.panel.SignHandover(ctx, officer1, wing.HandoverEntry{From: day(7, 0), To: day(19, 0), Digest: digest, OpenItems: 2, Notes: "S1-02 at hospital"})
	require.NoError(t, err)
	assert.ErrorIs(t, r.panel.ReadHandover(ctx, officer1, id), wing.ErrOwnHandover)
	require.NoError(t, r.panel.ReadHandover(ctx, officer2, id))
	require.NoError(t, r.panel.ReadHandover(ctx, officer2, id), "read once")
	assert.Equal(t, 1, count(r.kinds(), event.HandoverRead))
	assert.ErrorIs(t, r.panel.ReadHandover(ctx, officer2, event.ID{Wing: "S", Seq: 99}), wing.ErrNoSuchHandover)
	r.read(func(s *wing.State) {
		h, ok := s.LatestHandover("S")
		require.True(t, ok)
		assert.Equal(t, "S1-02 at hospital", h.Notes)
		assert.Equal(t, digest, h.Digest)
	})

	c, err := r.panel.RecordCheck(ctx, officer1, wing.CheckEntry{Cell: "S2-02", Outcome: wing.Spoke})
	require.NoError(t, err)
	assert.ErrorIs(t, r.panel.Correct(ctx, officer2, c.ID, "not mine"), ErrNotAllowed, "another officer's record")
	require.NoError(t, r.panel.Correct(ctx, sup, c.ID, "recorded on the wrong cell"))
	assert.ErrorIs(t, r.panel.Correct(ctx, officer1, c.ID, "again"), wing.ErrAlreadyStruck)
	assert.ErrorIs(t, r.panel.Correct(ctx, sup, event.ID{Wing: "S", Seq: 99}, "gone"), wing.ErrNoSuchRecord)
	require.NoError(t, r.panel.Correct(ctx, sup, id, "signed with the wrong notes"))
	r.read(func(s *wing.State) {
		_, ok := s.LastCheck("S2-02")
		assert.False(t, ok, "struck, and no other check")
		_, ok = s.LatestHandover("S")
		assert.False(t, ok, "the handover was struck")
	})
	require.NoError(t, r.panel.SetRegime(ctx, sup, wing.LockUp))
	recs, err := r.store.Tail(0, 100)
	require.NoError(t, err)
	regime := recs[len(recs)-1].Event.ID()
	assert.ErrorIs(t, r.panel.Correct(ctx, sup, regime, "no"), wing.ErrNotCorrectable)
}
