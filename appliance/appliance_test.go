package appliance_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"wingnode/appliance"
	"wingnode/appliance/event"
	"wingnode/appliance/officer"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
)

func TestDoorEdgeBecomesDurableEventAndState(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	// The simulated wing starts with every door closed.
	assert.False(t, r.State().Doors["A1-07"].Open)
	before := subjectEvents(t, r, "A1-07")

	require.NoError(t, r.Sim().SetInput("A1-07", true))
	r.Eventually(t, "door A1-07 open", func(s *wing.State) bool { return s.Doors["A1-07"].Open })
	page, err := r.Query(context.Background(), event.Query{Subject: "A1-07"})
	require.NoError(t, err)
	require.NotEmpty(t, page.Records)
	assert.Equal(t, event.DoorOpened, page.Records[0].Event.Kind)
	assert.Equal(t, event.SystemActor, page.Records[0].Event.Actor)

	// A bouncing contact that settles closed records exactly one close.
	require.NoError(t, r.Sim().Bounce("A1-07", false, 5))
	r.Eventually(t, "door A1-07 closed", func(s *wing.State) bool { return !s.Doors["A1-07"].Open })
	time.Sleep(100 * time.Millisecond) // longer than the debounce: no late events
	page, err = r.Query(context.Background(), event.Query{Subject: "A1-07"})
	require.NoError(t, err)
	kinds := []event.Kind{}
	for _, rec := range page.Records {
		kinds = append(kinds, rec.Event.Kind)
	}
	assert.Equal(t, []event.Kind{event.DoorClosed, event.DoorOpened}, kinds[:2])
	assert.Len(t, kinds, 2+before)
}

// subjectEvents counts the events a subject has in the store so far.
func subjectEvents(t *testing.T, r *wingtest.Wing, subject string) int {
	page, err := r.Query(context.Background(), event.Query{Subject: subject})
	require.NoError(t, err)
	return len(page.Records)
}

func TestCellCallRaisesOnceAndOfficersAcknowledgeAndResolve(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	ctx := context.Background()
	require.NoError(t, r.Sim().SetInput("A2-03-CALL", true))
	r.Eventually(t, "alarm raised", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	r.Set(t, "A2-03-CALL", false)
	r.Set(t, "A2-03-CALL", true) // pressed again while active
	alarms := r.State().ActiveAlarms()
	require.Len(t, alarms, 1, "a second press of an active point raises nothing new")
	a := alarms[0]
	assert.Equal(t, "A2-03-CALL", a.Point)
	assert.Equal(t, "cell-call", a.PointKind)
	assert.Equal(t, 2, a.Priority)

	o, other := wingtest.Officer("4471"), wingtest.Officer("9")
	require.ErrorIs(t, r.Resolve(ctx, a.ID, o, "assistance-given", ""), wing.ErrNotAcknowledged, "acknowledge first")
	require.NoError(t, r.Acknowledge(ctx, a.ID, o))
	require.NoError(t, r.Acknowledge(ctx, a.ID, other), "acknowledging twice is harmless")
	assert.Equal(t, "4471", r.State().Alarms[a.ID].Acknowledged.By)
	r.Set(t, "A2-03-CALL", false)
	require.ErrorIs(t, r.Attend(ctx, a.ID, o), wing.ErrAttendAtSource, "a cell call is not attended from the panel")
	require.ErrorIs(t, r.Resolve(ctx, a.ID, o, "assistance-given", ""), wing.ErrNotAttended, "nor resolved before it is attended at the door")
	assert.True(t, r.State().Alarms[a.ID].Active(), "the call latches though its button is released")

	r.Set(t, "A2-03-CALL#reset", true) // the officer turns the reset key at the cell door
	r.Eventually(t, "attended at the door", func(s *wing.State) bool { return s.Alarms[a.ID].Attended != nil })
	att := r.State().Alarms[a.ID].Attended
	assert.Equal(t, wing.AttendedAtReset, att.How)
	assert.Equal(t, "A2-03", att.Where)
	r.Set(t, "A2-03-CALL#reset", false)
	require.ErrorIs(t, r.Resolve(ctx, a.ID, o, "cake", ""), officer.ErrBadInput, "an outcome from the wing's list")
	require.NoError(t, r.Resolve(ctx, a.ID, o, "assistance-given", "cell checked, prisoner well"))
	assert.Empty(t, r.State().ActiveAlarms())
	assert.Equal(t, "assistance-given", r.State().Alarms[a.ID].Resolved.Outcome)
	require.ErrorIs(t, r.Resolve(ctx, a.ID, o, "assistance-given", ""), wing.ErrAlarmResolved)
	require.ErrorIs(t, r.Acknowledge(ctx, event.ID{Wing: "A", Seq: 99999}, o), wing.ErrNoSuchAlarm)

	// Pressed again after resolving: a new alarm.
	r.Set(t, "A2-03-CALL", true)
	r.Eventually(t, "second alarm", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	assert.NotEqual(t, a.ID, r.State().ActiveAlarms()[0].ID)
}

func TestMissingPinIsAFaultNeverAClosedDoor(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{PinByName: func(name string) gpio.PinIO {
		if name == "DOOR_A1_05" {
			return nil // not wired
		}
		return gpioreg.ByName(name)
	}})
	s := r.State()
	assert.True(t, s.Inputs["A1-05"].Faulted)
	assert.Equal(t, "pin-missing", s.Inputs["A1-05"].Fault)
	_, known := s.Doors["A1-05"]
	assert.False(t, known, "a door whose contact cannot be read has no position")
	assert.False(t, s.Inputs["A1-04"].Faulted)
}

func TestRestartRebuildsTheSameState(t *testing.T) {
	dir := t.TempDir()
	r := wingtest.Start(t, appliance.Config{DataDir: dir, CheckpointEvery: 7})
	for i, pin := range []string{"A1-01", "A1-02", "A3-20", "A1-05-CALL", "A1-GATE"} {
		r.Set(t, pin, true)
		if i%2 == 0 {
			r.Set(t, pin, false)
		}
	}
	// The gate's first reading at start is closed too: wait for the close
	// that follows its opening, recorded after A1-02 opened.
	r.Eventually(t, "gate opened and closed again, A1-02 open", func(s *wing.State) bool {
		gate, a102 := s.Doors["A1-GATE"], s.Doors["A1-02"]
		return !gate.Open && a102.Open && gate.Key.Seq > a102.Key.Seq+1
	})
	before := r.State()
	require.NoError(t, r.Stop())

	// Restart with a checkpoint, and compare with folding every event.
	a, err := appliance.New(appliance.Config{DataDir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer a.Close()
	after := a.Screens().State()
	full := wing.New()
	require.NoError(t, a.Store().Scan(0, func(rec event.Record) error { full.Fold(rec.Event); return nil }))
	assert.Equal(t, full, after, "checkpoint plus tail must equal a full fold")
	assert.Equal(t, before.Doors, after.Doors)
	assert.Equal(t, before.ActiveAlarms(), after.ActiveAlarms())
	assert.False(t, after.Wings["A"].Running, "a clean stop is recorded")
	recs, err := a.Store().Tail(0, 1000)
	require.NoError(t, err)
	assert.Equal(t, event.ApplianceStarted, recs[0].Event.Kind)
	assert.Equal(t, event.ApplianceStopped, recs[len(recs)-1].Event.Kind)
}

// TestRunRebuildsADamagedCheckpoint: a store whose state checkpoint has a
// flipped byte opens, and the wing state is folded from every event
// instead, with a warning that says so.
func TestRunRebuildsADamagedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	a, err := appliance.New(appliance.Config{DataDir: dir, Simulate: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.NoError(t, a.Close()) // saves a checkpoint
	path := filepath.Join(dir, "wing.db")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	i := bytes.Index(b, []byte(`"doors"`))
	require.Positive(t, i, "the checkpoint is in the file")
	b[i+2] ^= 0x01
	require.NoError(t, os.WriteFile(path, b, 0o600))

	var log wingtest.Log
	a, err = appliance.New(appliance.Config{DataDir: dir, Simulate: true, Log: slog.New(slog.NewTextHandler(&log, nil))})
	require.NoError(t, err)
	defer a.Close()
	assert.Contains(t, log.String(), "the state checkpoint is damaged; rebuilding the wing state from every event instead")
}
