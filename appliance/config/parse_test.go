package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wingnode/appliance/wing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const good = `# B wing, two landings
wing id=B name="B wing"
door id=B1-01 kind=cell landing=1 pin=GPIO5
door id=B1-GATE kind=gate landing=1 pin=GPIO6 name="Landing 1 gate" debounce=50ms
alarm id=B1-01-CALL kind=cell-call cell=B1-01 landing=1 pin=GPIO13   # call button
alarm id=B-STAFF kind=staff-alarm pin=GPIO19 active=high pull=down priority=1
door id=B-OFFICE kind=office pin=GPIO20 pull=none
`

func TestParseReadsEveryField(t *testing.T) {
	w, err := Parse("b.conf", strings.NewReader(good))
	require.NoError(t, err)
	assert.Equal(t, "B", w.ID)
	assert.Equal(t, "B wing", w.Name)
	assert.Equal(t, []string{"1"}, w.Landings)
	require.Len(t, w.Doors, 3)
	assert.Equal(t, Door{ID: "B1-GATE", Name: "Landing 1 gate", Kind: LandingGate, Landing: "1", Line: 4, HeldOpen: 2 * time.Minute,
		Input: Input{Pin: "GPIO6", Pull: PullUp, Debounce: 50 * time.Millisecond}}, w.Doors[1])
	assert.Equal(t, PullNone, w.Doors[2].Input.Pull)
	require.Len(t, w.AlarmPoints, 2)
	call := w.AlarmPoints[0]
	assert.Equal(t, "B1-01", call.Cell)
	assert.True(t, call.Input.ActiveLow, "buttons are active low by default")
	assert.Equal(t, 2, call.Priority)
	assert.Equal(t, DefaultButtonDebounce, call.Input.Debounce)
	staff := w.AlarmPoints[1]
	assert.False(t, staff.Input.ActiveLow)
	assert.Equal(t, PullDown, staff.Input.Pull)
	assert.Equal(t, 1, staff.Priority)
	assert.False(t, w.Doors[0].Input.ActiveLow, "door contacts are active high by default")
}

func TestParseNamesLineAndFieldOfEveryProblem(t *testing.T) {
	bad := `wing id=C
door id=C1-01 kind=cell pin=GPIO5
door id=C1-02 kind=cell pin=GPIO5
door id=C1-01 kind=cel pin=GPIO7
door kind=cell pin=GPIO8
alarm id=C1-01-CALL kind=cell-call pin=GPIO9
alarm id=C1-02-CALL kind=cell-call cell=C9-99 pin=GPIO10 priority=11
gate id=X
door id=C1-03 kind=cell pin=GPIO11 colour=red debounce=fast
door id=C1-04 kind=cell pin="GPIO12
wing id=D
`
	_, err := Parse("c.conf", strings.NewReader(bad))
	var ps Problems
	require.True(t, errors.As(err, &ps), "want Problems, got %v", err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Error()
	}
	assert.Equal(t, []string{
		`c.conf:3: pin: GPIO5 is already wired to door C1-01 (line 2)`,
		`c.conf:4: kind: unknown kind "cel" (want one of cell, gate, office, exit, service)`,
		`c.conf:4: id: C1-01 is already used on line 2`,
		`c.conf:5: id: missing`,
		`c.conf:6: cell: a cell-call needs the cell door it belongs to`,
		`c.conf:7: priority: "11" must be a whole number from 1 (most urgent) to 9`,
		`c.conf:7: cell: no door C9-99 in this file`,
		`c.conf:8: unknown record "gate" (want wing, door, alarm, sensor, output or regime)`,
		`c.conf:9: debounce: "fast" must be a duration from 1ms to 5s, such as 20ms`,
		`c.conf:9: colour: unknown field for a door record`,
		`c.conf:10: unterminated quote`,
		`c.conf:11: second wing record (the first is on line 1)`,
	}, got)
}

const hardware = `wing id=H prove_days=14
door id=H1-01 kind=cell landing=1 pin=gpiochip0/5 lock=gpiochip0/6
door id=H1-02 kind=cell landing=1 adc=1/0x48/0 stuck_after=72h
door id=H-GATE kind=gate adc=1/0x48/1 lock=GPIO7 lock_active=high
alarm id=H1-01-CALL kind=cell-call cell=H1-01 adc=1/0x49/3
sensor id=ENV-H1 kind=sht3x bus=1 addr=0x44 landing=1 cell=H1-01 hot=30 cold=12 humid=70
output id=H-SOUNDER kind=sounder pin=GPIO20
output id=H-STROBE kind=strobe pin=GPIO21 active=low
`

func TestParseHardwareMapping(t *testing.T) {
	w, err := Parse("h.conf", strings.NewReader(hardware))
	require.NoError(t, err)
	assert.Equal(t, 14*24*time.Hour, w.ProveEvery)
	assert.Equal(t, "gpiochip0/5", w.Doors[0].Input.Pin)
	require.NotNil(t, w.Doors[0].Lock)
	assert.Equal(t, Input{Pin: "gpiochip0/6", ActiveLow: true, Pull: PullUp, Debounce: DefaultDebounce}, *w.Doors[0].Lock)
	assert.Equal(t, &ADCChannel{Bus: "1", Addr: 0x48, Channel: 0}, w.Doors[1].Input.ADC)
	assert.Equal(t, 72*time.Hour, w.Doors[1].Input.StuckAfter)
	assert.False(t, w.Doors[2].Lock.ActiveLow)
	assert.Equal(t, "1/0x49/3", w.AlarmPoints[0].Input.Wiring())
	require.Len(t, w.Sensors, 1)
	sn := w.Sensors[0]
	assert.Equal(t, uint16(0x44), sn.Addr)
	assert.Equal(t, 30.0, *sn.HotAboveC)
	assert.Equal(t, 12.0, *sn.ColdBelowC)
	assert.Equal(t, 70.0, *sn.HumidAbove)
	require.Len(t, w.Outputs, 2)
	assert.Equal(t, Output{ID: "H-STROBE", Name: "H-STROBE", Kind: Strobe, Pin: "GPIO21", ActiveLow: true, Line: 8}, w.Outputs[1])

	simulated, err := Simulated("A")
	require.NoError(t, err)
	assert.Equal(t, DefaultProveEvery, simulated.ProveEvery)
}

func TestParseCatchesWiringConflicts(t *testing.T) {
	bad := `wing id=H
door id=D1 kind=cell pin=gpiochip0/5 lock=gpiochip0/5
door id=D2 kind=cell adc=1/0x48/0
door id=D3 kind=cell adc=1/0x48/0
door id=D4 kind=cell pin=P4 adc=1/0x48/2
door id=D5 kind=cell adc=1/0x50/9
sensor id=S1 kind=sht3x bus=1 addr=0x48
sensor id=S2 kind=sht3x bus=1 addr=0x44 hot=20 cold=25
sensor id=S3 kind=sht3x bus=1 addr=0x44 cell=D9
output id=O1 kind=siren pin=P4
output id=O2 kind=led pin=gpiochip0/x
door id=D6 kind=cell pin=P6 lock_active=low
`
	_, err := Parse("w.conf", strings.NewReader(bad))
	var ps Problems
	require.True(t, errors.As(err, &ps), "%v", err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Error()
	}
	assert.Equal(t, []string{
		`w.conf:2: lock: gpiochip0/5 is already wired to door D1 (line 2)`,
		`w.conf:4: adc: 1/0x48/0 is already wired to door D2 (line 3)`,
		`w.conf:5: adc: give pin (a plain input) or adc (a supervised line), not both`,
		`w.conf:6: adc: address "0x50" must be from 0x48 to 0x4b`,
		`w.conf:6: adc: channel "9" must be 0 to 3`,
		`w.conf:7: addr: address "0x48" must be from 0x44 to 0x45`,
		`w.conf:8: cold: 25°C is not below hot=20°C`,
		`w.conf:9: addr: bus 1 address 0x44 is already used by sensor S2 (line 8)`,
		`w.conf:9: cell: no cell door D9 in this file`,
		`w.conf:10: kind: unknown kind "siren" (want one of sounder, strobe, led)`,
		`w.conf:11: pin: "gpiochip0/x" is not CHIP/LINE, such as gpiochip0/17`,
		`w.conf:12: lock_active: given without a lock contact (lock=PIN)`,
	}, got)
}

func TestParseNeedsAWing(t *testing.T) {
	_, err := Parse("x.conf", strings.NewReader("door id=A kind=cell pin=P\n"))
	require.ErrorContains(t, err, "x.conf:1: no wing record")
	_, err = Parse("y.conf", strings.NewReader("wing id=Y\n"))
	require.ErrorContains(t, err, "y.conf:1: the wing has no doors and no alarm points")
	_, err = Parse("z.conf", strings.NewReader("wing id=Z\ndoor id=Z1 kind=cell pin=P\ndoor id=Z2 kind=cell pin=Q\nalarm id=Z1-CALL kind=cell-call cell=Z-GATE pin=R\ndoor id=Z-GATE kind=gate pin=S\n"))
	require.ErrorContains(t, err, "z.conf:4: cell: door Z-GATE is a gate, not a cell")
}

func TestLoadReportsMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.conf"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestSimulatedWingIsValidAndComplete(t *testing.T) {
	w, err := Simulated("A")
	require.NoError(t, err)
	assert.Equal(t, []string{"1", "2", "3"}, w.Landings)
	cells, calls, staff := 0, 0, 0
	for _, d := range w.Doors {
		if d.Kind == CellDoor {
			cells++
		}
	}
	for _, a := range w.AlarmPoints {
		switch a.Kind {
		case CellCall:
			calls++
		case StaffAlarm:
			staff++
		}
	}
	assert.Equal(t, 60, cells)
	assert.Equal(t, 60, calls)
	assert.Equal(t, 3, staff)
	assert.Len(t, w.Doors, 65, "60 cells, 3 gates, office, exit")
	assert.Len(t, w.Sensors, 3)
	assert.Len(t, w.Outputs, 3)
	supervised := 0
	for _, d := range w.Doors {
		if d.Input.ADC != nil {
			supervised++
			assert.Equal(t, "A2-11", d.ID)
		}
	}
	assert.Equal(t, 1, supervised)
}

func FuzzParse(f *testing.F) {
	f.Add(good)
	f.Add(SimulatedText("A", 1, 2))
	f.Add("wing id=\"x y\"\ndoor id=1 kind=cell pin=\"\"\n")
	f.Add("alarm id=a kind=cell-call cell=a pin=p priority=-1 debounce=1h")
	f.Fuzz(func(t *testing.T, text string) {
		w, err := Parse("fuzz.conf", strings.NewReader(text))
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			for _, p := range ps {
				if p.Line < 1 || p.Msg == "" {
					t.Fatalf("problem without a line or message: %+v", p)
				}
			}
			return
		}
		if w.ID == "" {
			t.Fatalf("accepted a file without a wing id")
		}
		pins := map[string]bool{}
		for _, d := range w.Doors {
			if d.Input.Pin == "" || pins[d.Input.Pin] {
				t.Fatalf("accepted a missing or repeated pin %q", d.Input.Pin)
			}
			pins[d.Input.Pin] = true
		}
	})
}

func TestParseAlarmHandling(t *testing.T) {
	good := `wing id=N escalate_ack=90s escalate_attend=3m outcomes=assistance-given,false-alarm
door id=N1-01 kind=cell landing=1 pin=P1 held_open=7m
door id=N-OFFICE kind=office pin=P2
door id=N-EXIT kind=exit pin=P3 held_open=off
alarm id=N1-01-CALL kind=cell-call cell=N1-01 pin=P4 reset=P5
regime at=19:45 mode=night
regime at=07:30 mode=unlock
regime at=12:15 mode=lockup
`
	w, err := Parse("n.conf", strings.NewReader(good))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, w.EscalateUnacknowledged)
	assert.Equal(t, 3*time.Minute, w.EscalateUnattended)
	assert.Equal(t, []string{"assistance-given", "false-alarm"}, w.Outcomes)
	assert.Equal(t, 7*time.Minute, w.Doors[0].HeldOpen)
	assert.Zero(t, w.Doors[1].HeldOpen, "an office door may stand open")
	assert.Zero(t, w.Doors[2].HeldOpen, "off")
	require.NotNil(t, w.AlarmPoints[0].Reset)
	assert.Equal(t, "P5", w.AlarmPoints[0].Reset.Pin)
	assert.True(t, w.AlarmPoints[0].Reset.ActiveLow)
	assert.Equal(t, wing.Schedule{{At: 7*time.Hour + 30*time.Minute, Regime: wing.Unlock}, {At: 12*time.Hour + 15*time.Minute, Regime: wing.LockUp},
		{At: 19*time.Hour + 45*time.Minute, Regime: wing.Night}}, w.Schedule, "in order of time of day")
	assert.Equal(t, "Assistance given", OutcomeLabel("assistance-given"))

	d, err := Parse("d.conf", strings.NewReader("wing id=D\ndoor id=D1 kind=cell pin=P1\n"))
	require.NoError(t, err)
	assert.Equal(t, DefaultOutcomes(), d.Outcomes)
	assert.Equal(t, time.Minute, d.EscalateUnacknowledged)
	assert.Equal(t, 5*time.Minute, d.EscalateUnattended)

	bad := `wing id=M escalate_ack=1s outcomes=ok,ok,"no way"
door id=M1 kind=cell pin=P1 held_open=3s
alarm id=M-STAFF kind=staff-alarm pin=P2 reset=P3
alarm id=M1-CALL kind=cell-call cell=M1 pin=P4 reset=P1
regime at=25:00 mode=night
regime at=08:00 mode=dusk
regime at=09:00 mode=unlock
regime at=09:00 mode=lockup
`
	_, err = Parse("m.conf", strings.NewReader(bad))
	var ps Problems
	require.True(t, errors.As(err, &ps), "want Problems, got %v", err)
	got := make([]string, len(ps))
	for i, p := range ps {
		got[i] = p.Error()
	}
	assert.Equal(t, []string{
		`m.conf:1: escalate_ack: "1s" must be a duration from 10s to 1h0m0s`,
		`m.conf:1: outcomes: ok is listed twice`,
		`m.conf:1: outcomes: "no way" is not an outcome id (letters, digits, '.', '-', '_'; e.g. assistance-given)`,
		`m.conf:2: held_open: "3s" must be a duration from 10s to 24h, such as 5m, or off`,
		`m.conf:3: reset: only a cell call has a reset key switch at its cell door`,
		`m.conf:4: reset: P1 is already wired to door M1 (line 2)`,
		`m.conf:5: at: "25:00" is not a time of day HH:MM, such as 19:45`,
		`m.conf:6: mode: unknown mode "dusk" (want one of unlock, lockup, night)`,
		`m.conf:8: at: 09:00 already starts another regime`,
	}, got)
}

// TestParseStopsOnNonsense: a file that is not a configuration (random
// bytes, a device, something huge) is refused quickly, with a sentence,
// however long it would go on.
func TestParseStopsOnNonsense(t *testing.T) {
	_, err := Load("/dev/urandom")
	require.ErrorContains(t, err, "is not a regular file")

	garbage := strings.Repeat("gate id=X\n", 10_000)
	_, err = Parse("g.conf", strings.NewReader(garbage))
	var ps Problems
	require.True(t, errors.As(err, &ps))
	assert.LessOrEqual(t, len(ps), 101)
	assert.Contains(t, ps[len(ps)-1].Error(), "stopped after 100 problems")

	endless := io.MultiReader(strings.NewReader("wing id=E\n"), strings.NewReader(strings.Repeat("# a comment\n", maxFile/12+1000)))
	_, err = Parse("e.conf", endless)
	require.ErrorContains(t, err, "more than 4194304 bytes")
}

func TestParseSignOutIdleAndHosts(t *testing.T) {
	const door = "door id=B1-01 kind=cell pin=GPIO5\n"
	w, err := Parse("w.conf", strings.NewReader("wing id=B signout_idle=90s hosts=B-Wing.site.lan,10.1.2.3,::1\n"+door))
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, w.SignOutIdle)
	assert.Equal(t, []string{"b-wing.site.lan", "10.1.2.3", "::1"}, w.Hosts)

	w, err = Parse("w.conf", strings.NewReader("wing id=B\n"+door))
	require.NoError(t, err)
	assert.Equal(t, DefaultSignOutIdle, w.SignOutIdle)
	assert.Empty(t, w.Hosts)

	_, err = Parse("w.conf", strings.NewReader("wing id=B signout_idle=2s hosts=b-wing.site.lan:8080,http://x,,ok.lan\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `w.conf:1: signout_idle: "2s" must be a duration from 10s to 8h`)
	assert.Contains(t, err.Error(), `w.conf:1: hosts: "b-wing.site.lan:8080" is not a host name or address`)
	assert.Contains(t, err.Error(), `w.conf:1: hosts: "http://x" is not a host name`)
	assert.Contains(t, err.Error(), `w.conf:1: hosts: "" is not a host name`)
}

// TestParseWalkPaceAndCellOrder: the walking pace of checks, and the
// cells of a landing in their order along it.
func TestParseWalkPaceAndCellOrder(t *testing.T) {
	w, err := Parse("p.conf", strings.NewReader(`wing id=P walk_pace=5s
door id=P1-02 kind=cell landing=1 pin=P1
door id=P1-GATE kind=gate landing=1 pin=P2
door id=P1-01 kind=cell landing=1 pin=P3
door id=P2-01 kind=cell landing=2 pin=P4
alarm id=P1-01-CALL kind=cell-call cell=P1-01 pin=P5
`))
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, w.WalkPace)
	var ids []string
	for _, d := range w.Cells("1") {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []string{"P1-02", "P1-01"}, ids, "in the file's order, cells only")
	assert.Len(t, w.Cells(""), 3)
	call, ok := w.CellCall("P1-01")
	require.True(t, ok)
	assert.Equal(t, "P1-01-CALL", call.ID)
	_, ok = w.CellCall("P1-02")
	assert.False(t, ok)
	d, ok := w.Door("P2-01")
	require.True(t, ok)
	assert.Equal(t, "2", d.Landing)

	d2, err := Parse("d.conf", strings.NewReader("wing id=D\ndoor id=D1 kind=cell pin=P1\n"))
	require.NoError(t, err)
	assert.Equal(t, DefaultWalkPace, d2.WalkPace)
	_, err = Parse("q.conf", strings.NewReader("wing id=Q walk_pace=0s\ndoor id=Q1 kind=cell pin=P1\n"))
	require.ErrorContains(t, err, `q.conf:1: walk_pace: "0s" must be a duration from 1s to 1m0s`)
}
