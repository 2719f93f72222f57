package recording

import (
	"context"
	"io"
	"log/slog"
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
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/sensors"
)

const rulesWing = `wing id=R escalate_ack=60s escalate_attend=5m
door id=R1-01 kind=cell landing=1 pin=P1 lock=P2 held_open=2m
door id=R1-02 kind=cell landing=1 pin=P3
door id=R1-GATE kind=gate landing=1 pin=P4
door id=R-OFFICE kind=office pin=P5
alarm id=R1-01-CALL kind=cell-call cell=R1-01 landing=1 pin=P6 reset=P7
alarm id=R1-02-CALL kind=cell-call cell=R1-02 landing=1 pin=P8
alarm id=R-STAFF kind=staff-alarm pin=P9
`

// rig runs the rules of a wing on a real store, on a fake clock, folding
// every stored event as the appliance's commit hook does; the test feeds
// it readings as the hardware would.
type rig struct {
	t        *testing.T
	clock    *clockwork.FakeClock
	store    *store.Store
	rec      *Recorder
	readings chan sensors.Reading

	mu    sync.Mutex
	state *wing.State
}

func newRig(t *testing.T) *rig {
	t.Helper()
	w, err := config.Parse("r.conf", strings.NewReader(rulesWing))
	require.NoError(t, err)
	r := &rig{t: t, clock: clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)), state: wing.New(),
		readings: make(chan sensors.Reading)}
	r.store, err = store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "R", Clock: event.NewClock(r.clock.Now),
		Committed: func(batch []event.Record) {
			r.mu.Lock()
			for _, rec := range batch {
				r.state.Fold(rec.Event)
			}
			r.mu.Unlock()
			r.rec.Committed(batch)
		}})
	require.NoError(t, err)
	t.Cleanup(func() { r.store.Close() })
	r.rec = New(Config{Wing: w, Store: r.store, Clock: r.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Read: r.read})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.rec.Run(ctx, r.readings) }()
	t.Cleanup(func() { cancel(); <-done })
	require.NoError(t, r.clock.BlockUntilContext(t.Context(), 2)) // the rules' and the spool's tickers
	return r
}

func (r *rig) read(f func(*wing.State)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(r.state)
}

// set feeds a reading of point and waits until the rules have taken it.
func (r *rig) set(point string, active bool) {
	r.readings <- sensors.Reading{Point: point, Active: active, At: r.clock.Now()}
}

// pass lets d go by, a second at a time, so the rules' ticker fires.
func (r *rig) pass(d time.Duration) {
	for range int(d / time.Second) {
		r.clock.Advance(time.Second)
		r.set("R-OFFICE", false) // a reading the rules take after the tick: the tick is done
	}
}

// append records a draft as an officer's action would.
func (r *rig) append(d event.Draft) {
	_, err := r.store.Append(context.Background(), d)
	require.NoError(r.t, err)
}

// alarms returns the active alarms as kind@point, once what the rules
// submitted is stored.
func (r *rig) alarms() []string {
	r.t.Helper()
	var out []string
	require.Eventually(r.t, func() bool {
		out = nil
		r.read(func(s *wing.State) {
			for _, a := range s.ActiveAlarms() {
				out = append(out, a.PointKind+"@"+a.Point)
			}
		})
		return true
	}, time.Second, time.Millisecond)
	return out
}

func (r *rig) eventually(what string, cond func(*wing.State) bool) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		ok := false
		r.read(func(s *wing.State) { ok = cond(s) })
		return ok
	}, 5*time.Second, time.Millisecond, what)
}

func (r *rig) active(point, kind string) (a wing.Alarm, ok bool) {
	r.read(func(s *wing.State) { a, ok = s.ActiveAlarmOf(point, kind) })
	return a, ok
}

// TestHeldOpenRaisesOnceAndLatches: a door open past its threshold raises
// one held-open alarm, which stays when the door shuts.
func TestHeldOpenRaisesOnceAndLatches(t *testing.T) {
	r := newRig(t)
	r.set("R1-01", false)
	r.set("R1-01", true)
	r.pass(110 * time.Second)
	_, raised := r.active("R1-01", wing.DoorHeldOpen)
	assert.False(t, raised, "not yet")
	r.pass(15 * time.Second)
	r.eventually("held open", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-01", wing.DoorHeldOpen); return ok })
	r.pass(5 * time.Minute)
	r.set("R1-01", false)
	r.pass(2 * time.Second)
	assert.Equal(t, 1, countKind(t, r.store, event.AlarmRaised, "door-held-open"), "one alarm for one opening")
	_, still := r.active("R1-01", wing.DoorHeldOpen)
	assert.True(t, still, "latched until resolved, though the door is shut")
	r.set("R1-GATE", true)
	r.pass(3 * time.Minute)
	r.eventually("a gate's threshold is 2 minutes by default", func(s *wing.State) bool {
		_, ok := s.ActiveAlarmOf("R1-GATE", wing.DoorHeldOpen)
		return ok
	})
	r.set("R-OFFICE", true)
	r.pass(10 * time.Minute)
	_, office := r.active("R-OFFICE", wing.DoorHeldOpen)
	assert.False(t, office, "an office door may stand open")
}

// TestForcedDoor: a door that opens while its lock reads locked raises a
// priority-1 forced alarm.
func TestForcedDoor(t *testing.T) {
	r := newRig(t)
	r.set("R1-01#lock", true)
	r.set("R1-01", true)
	r.eventually("forced", func(s *wing.State) bool {
		a, ok := s.ActiveAlarmOf("R1-01", wing.DoorForced)
		return ok && a.Priority == 1
	})
}

// TestCellCallEscalatesAndIsAttendedAtTheDoor: an unacknowledged call
// escalates after 60 s, an unattended one after 5 min; the reset key at the
// door attends it, with no further escalation.
func TestCellCallEscalatesAndIsAttendedAtTheDoor(t *testing.T) {
	r := newRig(t)
	r.set("R1-01-CALL", true)
	r.set("R1-01-CALL", false)
	r.eventually("raised", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-01-CALL", "cell-call"); return ok })
	r.pass(59 * time.Second)
	a, _ := r.active("R1-01-CALL", "cell-call")
	assert.Empty(t, a.Escalations)
	r.pass(2 * time.Second)
	r.eventually("escalated unacknowledged", func(s *wing.State) bool { return s.Alarms[a.ID].Escalated(wing.EscalatedUnacknowledged) })
	r.append(event.Draft{Kind: event.AlarmAcknowledged, Subject: "R1-01-CALL", Actor: "1001", Data: map[string]string{"alarm": a.ID.String()}})
	r.pass(4 * time.Minute)
	r.eventually("escalated unattended after 5 minutes", func(s *wing.State) bool { return s.Alarms[a.ID].Escalated(wing.EscalatedUnattended) })
	assert.Equal(t, 2, countKind(t, r.store, event.AlarmEscalated, ""), "each reason once")

	r.set("R1-01-CALL#reset", true)
	r.eventually("attended at the door", func(s *wing.State) bool {
		at := s.Alarms[a.ID].Attended
		return at != nil && at.How == wing.AttendedAtReset && at.Where == "R1-01"
	})
	r.set("R1-01-CALL#reset", false)
	r.set("R1-01-CALL#reset", true)
	r.pass(2 * time.Second)
	assert.Equal(t, 1, countKind(t, r.store, event.AlarmAttended, ""), "attended once")
}

// TestDoorsOpenedAtNightOrInLockdown: at night a cell door opening raises
// an alarm (an office door does not); in a lockdown a gate does too.
func TestDoorsOpenedAtNightOrInLockdown(t *testing.T) {
	r := newRig(t)
	r.set("R1-02", true)
	r.set("R1-02", false)
	assert.Empty(t, r.alarms(), "unlocked by day")
	r.append(event.Draft{Kind: event.RegimeSet, Subject: "R", Actor: "2001", Data: map[string]string{"regime": "night"}})
	r.set("R1-02", true)
	r.set("R-OFFICE", true)
	r.eventually("opened at night", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-02", wing.DoorOpenedAtNight); return ok })
	_, office := r.active("R-OFFICE", wing.DoorOpenedAtNight)
	assert.False(t, office)

	r.append(event.Draft{Kind: event.LockdownDeclared, Subject: "site", Actor: "2001", Data: map[string]string{"reason": "disturbance"}})
	r.set("R1-GATE", true)
	r.eventually("opened in lockdown", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-GATE", wing.DoorOpenedInLockdown); return ok })
}

// TestWalkTestOfChosenPoints: a walk test proves the cell calls it covers
// without raising them; a cell call outside it raises.
func TestWalkTestOfChosenPoints(t *testing.T) {
	r := newRig(t)
	r.append(event.Draft{Kind: event.WalkTestStarted, Subject: "R", Actor: "2001",
		Data: map[string]string{"until": r.clock.Now().Add(time.Hour).Format(time.RFC3339), "points": "R1-01,R1-01-CALL"}})
	r.set("R1-01-CALL", true)
	r.set("R1-01-CALL", false)
	r.set("R1-02-CALL", true)
	r.eventually("R1-02-CALL raises", func(s *wing.State) bool { _, ok := s.ActiveAlarmOf("R1-02-CALL", "cell-call"); return ok })
	r.eventually("R1-01-CALL proven", func(s *wing.State) bool { return s.Proven["R1-01-CALL"].By == "2001" })
	_, raised := r.active("R1-01-CALL", "cell-call")
	assert.False(t, raised, "a covered cell call is proven, not raised")
	proven := false
	r.read(func(s *wing.State) { _, proven = s.Proven["R1-02-CALL"] })
	assert.False(t, proven, "a point outside the walk test is not proven")
}

// countKind counts the stored events of kind, of a point kind when given.
func countKind(t *testing.T, st *store.Store, kind event.Kind, pointKind string) int {
	t.Helper()
	n := 0
	require.NoError(t, st.Scan(0, func(r event.Record) error {
		if r.Event.Kind == kind && (pointKind == "" || r.Event.Data["point_kind"] == pointKind) {
			n++
		}
		return nil
	}))
	return n
}

// TestReadingSaysWhatAnInputReadsNow: the screens learn that a latched
// call's button is back to normal, though a release is not an event; a
// faulted input reads as unknown.
func TestReadingSaysWhatAnInputReadsNow(t *testing.T) {
	r := newRig(t)
	_, known := r.rec.Reading("R-STAFF")
	assert.False(t, known, "not read since the start")
	reads := func(id string, active bool) func() bool {
		return func() bool { a, ok := r.rec.Reading(id); return ok && a == active }
	}
	r.set("R-STAFF", true)
	require.Eventually(t, reads("R-STAFF", true), time.Second, time.Millisecond, "pressed")
	r.set("R-STAFF", false)
	require.Eventually(t, reads("R-STAFF", false), time.Second, time.Millisecond, "released: back to normal")
	r.readings <- sensors.Reading{Point: "R-STAFF", Fault: "open-circuit", At: r.clock.Now()}
	require.Eventually(t, func() bool { _, ok := r.rec.Reading("R-STAFF"); return !ok }, time.Second, time.Millisecond, "faulted: unknown")
}
