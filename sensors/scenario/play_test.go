package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

// recorder is a Target that records each call with the time since start.
type recorder struct {
	clock clockwork.Clock
	start time.Time
	Points
	fail map[string]error // by point: the error its calls return

	mu    sync.Mutex
	calls []string
}

func newRecorder(clock clockwork.Clock, p Points) *recorder {
	return &recorder{clock: clock, start: clock.Now(), Points: p}
}

func (r *recorder) Inputs() []string  { return r.Points.Inputs }
func (r *recorder) Lines() []string   { return r.Points.Lines }
func (r *recorder) Sensors() []string { return r.Points.Sensors }

func (r *recorder) record(point, format string, args ...any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, formatTime(r.clock.Since(r.start))+" "+fmt.Sprintf(format, args...))
	return r.fail[point]
}

func (r *recorder) SetInput(point string, active bool) error {
	return r.record(point, "input %s %t", point, active)
}

func (r *recorder) Bounce(point string, active bool, n int) error {
	return r.record(point, "bounce %s %t %d", point, active, n)
}

func (r *recorder) SetLine(point string, state simulate.LineState) error {
	return r.record(point, "line %s %s", point, state)
}

func (r *recorder) SetClimate(sensor string, t physic.Temperature, rh physic.RelativeHumidity) error {
	return r.record(sensor, "climate %s %s %s", sensor, t, rh)
}

func (r *recorder) SetSilent(sensor string, silent bool) error {
	return r.record(sensor, "silent %s %t", sensor, silent)
}

func (r *recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

var testPoints = Points{
	Inputs:  []string{"A1-01", "A1-02", "A1-03", "A1-01-CALL", "A-STAFF"},
	Lines:   []string{"A1-02"},
	Sensors: []string{"ENV-A1"},
}

var testStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// play plays s on a fake clock, advancing it by step until Play returns or
// until has passed and Play has made the changes due, and returns what
// Play returned (context.Canceled when it was stopped).
func play(t *testing.T, s *Scenario, target Target, clock *clockwork.FakeClock, step, until time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	playCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = s.Play(playCtx, target, clock)
	}()
	start := clock.Now()
	for {
		// Once Play waits on the clock, it has made every change due.
		waiting, stopWaiting := context.WithCancel(ctx)
		go func() {
			select {
			case <-done:
				stopWaiting()
			case <-waiting.Done():
			}
		}()
		blockErr := clock.BlockUntilContext(waiting, 1)
		stopWaiting()
		if blockErr != nil || clock.Since(start) >= until {
			break // Play returned, or it is time to stop it
		}
		clock.Advance(step)
	}
	stop()
	<-done
	require.NoError(t, ctx.Err(), "the test timed out")
	return err
}

func TestPlaySequence(t *testing.T) {
	s := parse(t, `
00:01 open A1-01 for 2s
00:01.500 press A1-01-CALL
00:02 bounce A1-02 open 3       # at the same time as the release above: after it
00:03 fault A1-02 short-circuit
00:03 hold A-STAFF for 1500ms
00:03 climate ENV-A1 31.5C 60%
00:04 silent ENV-A1
00:05 answer ENV-A1
00:05 close A1-02
00:06 storm A1-03 2/s for 2s
00:09 fault A1-02 normal
`)
	clock := clockwork.NewFakeClockAt(testStart)
	r := newRecorder(clock, testPoints)
	require.NoError(t, play(t, s, r, clock, 100*time.Millisecond, time.Minute))
	require.Equal(t, []string{
		"00:01 input A1-01 true",
		"00:01.500 input A1-01-CALL true",
		"00:02 input A1-01-CALL false",
		"00:02 bounce A1-02 true 3",
		"00:03 input A1-01 false",
		"00:03 line A1-02 short-circuit",
		"00:03 input A-STAFF true",
		"00:03 climate ENV-A1 31.500°C 60%rH",
		"00:04 silent ENV-A1 true",
		"00:04.500 input A-STAFF false",
		"00:05 silent ENV-A1 false",
		"00:05 input A1-02 false",
		"00:06 input A1-03 true",
		"00:06.500 input A1-03 false",
		"00:07 input A1-03 true",
		"00:07.500 input A1-03 false",
		"00:09 line A1-02 normal",
	}, r.Calls())
}

func TestPlayIsTheSameHoweverTheClockIsAdvanced(t *testing.T) {
	text := "00:00.100 open A1-01 for 1100ms\n00:00.700 storm all 5/s for 1s\n00:01.300 press A1-01-CALL\n"
	var runs [][]string
	for _, step := range []time.Duration{time.Millisecond, 70 * time.Millisecond, time.Hour} {
		clock := clockwork.NewFakeClockAt(testStart)
		r := newRecorder(clock, testPoints)
		require.NoError(t, play(t, parse(t, text), r, clock, step, time.Minute))
		var order []string // the calls without their times, which depend on the steps
		for _, c := range r.Calls() {
			order = append(order, c[strings.Index(c, " ")+1:])
		}
		runs = append(runs, order)
	}
	require.Len(t, runs[0], 2+len(testPoints.Inputs)*4+2)
	require.Equal(t, runs[0], runs[1])
	require.Equal(t, runs[0], runs[2])
}

func TestPlayRepeat(t *testing.T) {
	s := parse(t, "00:01 press A1-01-CALL\n00:03 open A1-01 for 2s\n00:05 repeat\n")
	clock := clockwork.NewFakeClockAt(testStart)
	r := newRecorder(clock, testPoints)
	err := play(t, s, r, clock, 500*time.Millisecond, 12*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, []string{
		"00:01 input A1-01-CALL true",
		"00:01.500 input A1-01-CALL false",
		"00:03 input A1-01 true",
		"00:05 input A1-01 false",
		"00:06 input A1-01-CALL true",
		"00:06.500 input A1-01-CALL false",
		"00:08 input A1-01 true",
		"00:10 input A1-01 false",
		"00:11 input A1-01-CALL true",
		"00:11.500 input A1-01-CALL false",
	}, r.Calls())
}

// TestPlayStorm is the storm of a 200-input wing: 200 × 50/s × 1 s.
func TestPlayStorm(t *testing.T) {
	var inputs []string
	for l := 1; l <= 4; l++ {
		for c := 1; c <= 50; c++ {
			inputs = append(inputs, fmt.Sprintf("A%d-%02d", l, c))
		}
	}
	s, err := Storm(inputs, 50, time.Second)
	require.NoError(t, err)
	clock := clockwork.NewFakeClockAt(testStart)
	r := newRecorder(clock, Points{Inputs: inputs})
	require.NoError(t, play(t, s, r, clock, time.Second, time.Minute))

	calls := r.Calls()
	require.Len(t, calls, 10_000)
	changes := map[string][]bool{}
	for _, c := range calls {
		var at, point string
		var active bool
		_, err := fmt.Sscanf(c, "%s input %s %t", &at, &point, &active)
		require.NoError(t, err)
		changes[point] = append(changes[point], active)
	}
	require.Len(t, changes, 200)
	for point, states := range changes {
		require.Len(t, states, 50, point)
		for i, active := range states {
			require.Equal(t, i%2 == 0, active, "%s change %d", point, i)
		}
	}

	// A storm's timing: two inputs at 2/s for 1s, the second half an
	// interval behind the first.
	s = parse(t, "00:10 storm all 2/s for 1s\n")
	clock = clockwork.NewFakeClockAt(testStart)
	r = newRecorder(clock, Points{Inputs: []string{"A", "B"}})
	require.NoError(t, play(t, s, r, clock, 50*time.Millisecond, time.Minute))
	require.Equal(t, []string{"00:10 input A true", "00:10.250 input B true", "00:10.500 input A false", "00:10.750 input B false"}, r.Calls())
}

func TestStormErrors(t *testing.T) {
	_, err := Storm(nil, 50, time.Second)
	require.Error(t, err)
	_, err = Storm([]string{"A/1"}, 50, time.Second)
	require.Error(t, err)
	_, err = Storm([]string{"A1"}, 5000, time.Second)
	require.ErrorContains(t, err, "out of range")
	_, err = Storm([]string{"A1"}, 50, 0)
	require.ErrorContains(t, err, "out of range")
	_, err = Storm([]string{"A1"}, 50, 10*time.Millisecond)
	require.ErrorContains(t, err, "too short")
}

func TestCheck(t *testing.T) {
	s := parse(t, `00:01 open A1-01
00:02 press A9-99-CALL
00:03 fault A1-01 tamper
00:04 climate A1-02 20C 40%
00:05 silent ENV-B1
00:06 storm A9-01 5/s for 1s
00:07 storm all 5/s for 1s
00:08 fault A1-02 normal
`)
	err := s.Check(testPoints)
	require.Error(t, err)
	require.Equal(t, strings.Join([]string{
		"t.scenario:2: press A9-99-CALL: no door or alarm point A9-99-CALL on this wing",
		"t.scenario:3: fault A1-01: no supervised line A1-01 on this wing",
		"t.scenario:4: climate A1-02: no environment sensor A1-02 on this wing",
		"t.scenario:5: silent ENV-B1: no environment sensor ENV-B1 on this wing",
		"t.scenario:6: storm A9-01: no door or alarm point A9-01 on this wing",
	}, "\n"), err.Error())

	storm, err := Storm([]string{"A1-01", "B1-01"}, 10, time.Second)
	require.NoError(t, err)
	require.ErrorContains(t, storm.Check(testPoints), "storm B1-01: no door or alarm point B1-01")

	// Play checks first, and plays nothing of a scenario that does not fit.
	clock := clockwork.NewFakeClockAt(testStart)
	r := newRecorder(clock, testPoints)
	require.ErrorContains(t, s.Play(t.Context(), r, clock), "A9-99-CALL")
	require.Empty(t, r.Calls())
}

func TestPlayStopsAtATargetError(t *testing.T) {
	s := parse(t, "00:01 open A1-01\n00:02 silent ENV-A1\n00:03 open A1-02\n")
	clock := clockwork.NewFakeClockAt(testStart)
	r := newRecorder(clock, testPoints)
	dead := errors.New("no answer on the bus")
	r.fail = map[string]error{"ENV-A1": dead}
	err := play(t, s, r, clock, time.Second, time.Minute)
	require.ErrorIs(t, err, dead)
	require.ErrorContains(t, err, "t.scenario:2: silent:")
	require.Equal(t, []string{"00:01 input A1-01 true", "00:02 silent ENV-A1 true"}, r.Calls())
}

// regimeRecorder is a recorder that can also set the wing's regime.
type regimeRecorder struct{ *recorder }

func (r regimeRecorder) SetRegime(regime string) error { return r.record(regime, "regime %s", regime) }

func TestPlayLocksResetsAndRegimes(t *testing.T) {
	s := parse(t, `
00:01 lock A1-01 for 2s
00:02 reset A1-01-CALL
00:04 regime night
00:05 unlock A1-02
`)
	points := Points{Inputs: []string{"A1-01", "A1-01#lock", "A1-02", "A1-02#lock", "A1-01-CALL", "A1-01-CALL#reset"}}
	clock := clockwork.NewFakeClockAt(testStart)
	r := regimeRecorder{newRecorder(clock, points)}
	require.NoError(t, play(t, s, r, clock, 100*time.Millisecond, time.Minute))
	require.Equal(t, []string{
		"00:01 input A1-01#lock true",
		"00:02 input A1-01-CALL#reset true",
		"00:02.500 input A1-01-CALL#reset false",
		"00:03 input A1-01#lock false",
		"00:04 regime night",
		"00:05 input A1-02#lock false",
	}, r.Calls())

	// A wing without the lock contact, or a simulation that cannot set
	// regimes, plays nothing and says why.
	plain := newRecorder(clock, testPoints)
	err := s.Play(t.Context(), plain, clock)
	require.ErrorContains(t, err, "lock A1-01#lock: no lock contact A1-01#lock on this wing")
	require.ErrorContains(t, err, "regime night: this wing's simulation cannot set a regime")
	require.Empty(t, plain.Calls())

	_, err = Parse("t.scenario", strings.NewReader("00:01 regime dusk\n00:02 reset\n"))
	require.ErrorContains(t, err, `t.scenario:1: regime: "dusk" is not a regime`)
	require.ErrorContains(t, err, "t.scenario:2: reset: want reset CELL-CALL")
}

// shiftRecorder is a recorder whose wing has officers for the shift's
// steps.
type shiftRecorder struct {
	*recorder
	cells, landings []string
}

func (r shiftRecorder) Cells() []string    { return r.cells }
func (r shiftRecorder) Landings() []string { return r.landings }
func (r shiftRecorder) Check(cell, outcome string) error {
	return r.record(cell, "check %s %s", cell, outcome)
}
func (r shiftRecorder) Count(landing string, n int) error {
	return r.record(landing, "count %s %d", landing, n)
}
func (r shiftRecorder) SignRoll() error { return r.record("roll", "sign roll") }

func TestPlayChecksCountsAndTheRoll(t *testing.T) {
	s := parse(t, `
00:01 reset A1-01-CALL           # a quiet check at the door ...
00:02 check A1-01 sign-of-life   # ... and its outcome
00:03 count 1 19
00:04 sign roll
`)
	points := Points{Inputs: []string{"A1-01", "A1-01-CALL", "A1-01-CALL#reset"}}
	clock := clockwork.NewFakeClockAt(testStart)
	r := shiftRecorder{recorder: newRecorder(clock, points), cells: []string{"A1-01"}, landings: []string{"1"}}
	require.NoError(t, play(t, s, r, clock, 100*time.Millisecond, time.Minute))
	require.Equal(t, []string{
		"00:01 input A1-01-CALL#reset true",
		"00:01.500 input A1-01-CALL#reset false",
		"00:02 check A1-01 sign-of-life",
		"00:03 count 1 19",
		"00:04 sign roll",
	}, r.Calls())

	// A wing without officers, or without the cell or landing, plays
	// nothing and says why.
	plain := newRecorder(clock, points)
	err := s.Play(t.Context(), plain, clock)
	require.ErrorContains(t, err, "t.scenario:3: check A1-01: this wing's simulation has no officers to do it")
	require.ErrorContains(t, err, "t.scenario:5: sign roll: this wing's simulation has no officers to do it")
	other := shiftRecorder{recorder: newRecorder(clock, points), cells: []string{"A1-02"}, landings: []string{"2"}}
	err = s.Play(t.Context(), other, clock)
	require.ErrorContains(t, err, "t.scenario:3: check A1-01: no cell A1-01 on this wing")
	require.ErrorContains(t, err, "t.scenario:4: count 1: no landing 1 on this wing")
	require.Empty(t, other.Calls())

	_, err = Parse("t.scenario", strings.NewReader("00:01 check A1-01 asleep\n00:02 count 1 lots\n00:03 sign handover\n00:04 check A1-01\n"))
	require.ErrorContains(t, err, `t.scenario:1: check: "asleep" is not a check outcome`)
	require.ErrorContains(t, err, `t.scenario:2: count: "lots": want a whole number from 0 to 9999`)
	require.ErrorContains(t, err, "t.scenario:3: sign: want sign roll")
	require.ErrorContains(t, err, "t.scenario:4: check: want check CELL")
}
