package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

func parse(t *testing.T, text string) *Scenario {
	t.Helper()
	s, err := Parse("t.scenario", strings.NewReader(text))
	require.NoError(t, err)
	return s
}

func celsius(c float64) physic.Temperature {
	return physic.ZeroCelsius + physic.Temperature(c*float64(physic.Celsius))
}

// stepCases are good lines and the steps they parse to.
var stepCases = []struct {
	line string
	want step
}{
	{"00:05 open A1-03 for 3m", step{at: 5 * time.Second, verb: "open", point: "A1-03", active: true, hold: 3 * time.Minute}},
	{"00:05 open A1-03", step{at: 5 * time.Second, verb: "open", point: "A1-03", active: true}},
	{"1:02:03 close A1-03", step{at: time.Hour + 2*time.Minute + 3*time.Second, verb: "close", point: "A1-03"}},
	{"00:07.25 press A1-03-CALL", step{at: 7250 * time.Millisecond, verb: "press", point: "A1-03-CALL", active: true, hold: PressTime}},
	{"00:08 hold A-STAFF-1 for 10s", step{at: 8 * time.Second, verb: "hold", point: "A-STAFF-1", active: true, hold: 10 * time.Second}},
	{"00:08 release A-STAFF-1", step{at: 8 * time.Second, verb: "release", point: "A-STAFF-1"}},
	{"00:09 fault B2-11 open-circuit", step{at: 9 * time.Second, verb: "fault", point: "B2-11", state: simulate.LineOpenCircuit}},
	{"00:09 fault B2-11 short-circuit", step{at: 9 * time.Second, verb: "fault", point: "B2-11", state: simulate.LineShortCircuit}},
	{"00:09 fault B2-11 tamper", step{at: 9 * time.Second, verb: "fault", point: "B2-11", state: simulate.LineTamper}},
	{"00:09 fault B2-11 normal", step{at: 9 * time.Second, verb: "fault", point: "B2-11", state: simulate.LineNormal}},
	{"00:10 climate ENV-A1 31.5C 60%", step{at: 10 * time.Second, verb: "climate", point: "ENV-A1", temp: celsius(31.5), rh: 60 * physic.PercentRH}},
	{"00:10 climate ENV-A1 -5°C 0.5%", step{at: 10 * time.Second, verb: "climate", point: "ENV-A1", temp: celsius(-5), rh: physic.PercentRH / 2}},
	{"00:11 silent ENV-A1", step{at: 11 * time.Second, verb: "silent", point: "ENV-A1", silent: true}},
	{"00:11 answer ENV-A1", step{at: 11 * time.Second, verb: "answer", point: "ENV-A1"}},
	{"00:12 bounce A1-04 open 5", step{at: 12 * time.Second, verb: "bounce", point: "A1-04", active: true, bounces: 5}},
	{"00:12 bounce A1-04 release 1", step{at: 12 * time.Second, verb: "bounce", point: "A1-04", bounces: 1}},
	{"00:20 storm all 50/s for 10s", step{at: 20 * time.Second, verb: "storm", point: "all", interval: 20 * time.Millisecond, length: 10 * time.Second, changes: 500}},
	{"00:20 storm A1-01 3/s for 1s", step{at: 20 * time.Second, verb: "storm", point: "A1-01", interval: 333333333, length: time.Second, changes: 2}},
}

func TestParseSteps(t *testing.T) {
	for _, tt := range stepCases {
		t.Run(tt.line, func(t *testing.T) {
			s := parse(t, "# a comment\n\n"+tt.line+"   # a trailing comment\n")
			require.Len(t, s.steps, 1)
			tt.want.line = 3
			require.Equal(t, tt.want, *s.steps[0])
		})
	}
}

func TestParseRepeat(t *testing.T) {
	s := parse(t, "00:00 open A1-01 for 30s\n00:30 close A1-02\n01:00 repeat\n")
	require.Equal(t, time.Minute, s.repeat)
	require.Len(t, s.steps, 2)
	require.Zero(t, parse(t, "00:00 open A1-01\n").repeat)
}

// errorCases are bad scenarios and the errors they give, one a line.
var errorCases = []struct {
	name, text string
	want       []string // each an error line
}{
	{"bad time", "5 open A1-01\n", []string{`t.scenario:1: "5" is not a time`}},
	{"seconds over 59", "00:60 open A1-01\n", []string{`t.scenario:1: "00:60" is not a time: minutes and seconds go up to 59`}},
	{"minutes over 59", "1:60:00 open A1-01\n", []string{`t.scenario:1: "1:60:00" is not a time: minutes and seconds go up to 59`}},
	{"too many digits", "00:05.2500 open A1-01\n", []string{`t.scenario:1: "00:05.2500" is not a time: want MM:SS or H:MM:SS`}},
	{"backwards", "00:10 open A1-01\n00:05 close A1-01\n", []string{"t.scenario:2: 00:05 is before the step above (00:10)"}},
	{"no verb", "00:10\n", []string{"t.scenario:1: 00:10: no verb"}},
	{"unknown verb", "00:10 opne A1-01\n", []string{"t.scenario:1: opne: unknown verb"}},
	{"no point", "00:10 open\n", []string{"t.scenario:1: open: want open POINT [for DURATION]"}},
	{"bad id", "00:10 close A1/01\n", []string{`t.scenario:1: close: "A1/01" is not a point id`}},
	{"all outside a storm", "00:10 open all\n", []string{`t.scenario:1: open: "all" names every input only in a storm`}},
	{"for missing", "00:10 open A1-01 3m\n", []string{`t.scenario:1: open: want 'for DURATION' after the point, e.g. for 3m; got "3m"`}},
	{"for misspelt", "00:10 open A1-01 fro 3m\n", []string{"t.scenario:1: open: want 'for DURATION'"}},
	{"bad duration", "00:10 hold A-STAFF for 3 minutes\n", []string{"t.scenario:1: hold: want hold POINT for DURATION"}},
	{"unparsable duration", "00:10 hold A-STAFF for 3mins\n", []string{`t.scenario:1: hold: "3mins" is not a duration`}},
	{"zero duration", "00:10 hold A-STAFF for 0s\n", []string{"t.scenario:1: hold: duration 0s is out of range"}},
	{"duration too long", "00:10 open A1-01 for 25h\n", []string{"t.scenario:1: open: duration 25h is out of range"}},
	{"hold without for", "00:10 hold A-STAFF\n", []string{"t.scenario:1: hold: want hold POINT for DURATION"}},
	{"press takes no for", "00:10 press A1-01-CALL for 2s\n", []string{"t.scenario:1: press: want press POINT"}},
	{"bounce state", "00:10 bounce A1-01 ajar 3\n", []string{`t.scenario:1: bounce: "ajar": want open, close, press or release`}},
	{"bounce count", "00:10 bounce A1-01 open 0\n", []string{`t.scenario:1: bounce: "0" bounces`}},
	{"bounce count too big", "00:10 bounce A1-01 open 101\n", []string{`t.scenario:1: bounce: "101" bounces`}},
	{"fault state", "00:10 fault B2-11 frayed\n", []string{`t.scenario:1: fault: "frayed": want open-circuit`}},
	{"fault active is not a fault", "00:10 fault B2-11 active\n", []string{`t.scenario:1: fault: "active"`}},
	{"temperature unit", "00:10 climate ENV-A1 31.5 60%\n", []string{`t.scenario:1: climate: "31.5": want a temperature`}},
	{"temperature range", "00:10 climate ENV-A1 126C 60%\n", []string{`t.scenario:1: climate: "126C": want a temperature from -40 to 125 °C`}},
	{"temperature NaN", "00:10 climate ENV-A1 NaNC 60%\n", []string{`t.scenario:1: climate: "NaNC"`}},
	{"humidity unit", "00:10 climate ENV-A1 21C 60\n", []string{`t.scenario:1: climate: "60": want a relative humidity`}},
	{"humidity range", "00:10 climate ENV-A1 21C 100.1%\n", []string{`t.scenario:1: climate: "100.1%"`}},
	{"climate arguments", "00:10 climate ENV-A1 21C\n", []string{"t.scenario:1: climate: want climate SENSOR TEMPERATURE HUMIDITY"}},
	{"silent arguments", "00:10 silent ENV-A1 now\n", []string{"t.scenario:1: silent: want silent SENSOR"}},
	{"storm rate", "00:10 storm all 50 for 10s\n", []string{`t.scenario:1: storm: "50": want a rate`}},
	{"storm rate range", "00:10 storm all 5000/s for 10s\n", []string{"t.scenario:1: storm: rate 5000/s is out of range"}},
	{"storm rate zero", "00:10 storm all 0/s for 10s\n", []string{"t.scenario:1: storm: rate 0/s is out of range"}},
	{"storm too short", "00:10 storm all 1/s for 1500ms\n", []string{"t.scenario:1: storm: 1.5s at 1/s is too short"}},
	{"storm for", "00:10 storm all 50/s 10s\n", []string{"t.scenario:1: storm: want storm all|POINT RATE/s for DURATION"}},
	{"repeat arguments", "00:01 open A1-01\n00:10 repeat now\n", []string{"t.scenario:2: repeat takes nothing"}},
	{"repeat at zero", "00:00 open A1-01\n00:00 repeat\n", []string{"t.scenario:2: repeat at 00:00"}},
	{"repeat not last", "00:01 open A1-01\n00:10 repeat\n00:20 close A1-01\n", []string{"t.scenario:2: repeat must be the last step"}},
	{"repeat too soon", "00:01 open A1-01 for 1m\n00:02 storm all 10/s for 20s\n00:20 repeat\n",
		[]string{"t.scenario:1: open A1-01 lasts until 01:01, after the repeat at 00:20", "t.scenario:2: storm all lasts until 00:22, after the repeat at 00:20"}},
	{"empty", "# nothing\n\n", []string{"t.scenario: no steps"}},
	{"only repeat", "01:00 repeat\n", []string{"t.scenario: no steps"}},
	{"line too long", "00:01 open " + strings.Repeat("A", 70000) + "\n", []string{"t.scenario:1: bufio.Scanner: token too long"}},
	{"every problem at once", "00:10 opne A1-01\n00:11 open A1-01 for 1x\n00:12 climate ENV 199C 50%\n",
		[]string{"t.scenario:1: opne:", "t.scenario:2: open:", "t.scenario:3: climate:"}},
}

func TestParseErrors(t *testing.T) {
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("t.scenario", strings.NewReader(tt.text))
			require.Nil(t, s)
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.want), "errors: %v", err)
			for i, want := range tt.want {
				require.Contains(t, lines[i], want)
			}
		})
	}
}

func TestFormatTime(t *testing.T) {
	for _, s := range []string{"00:00", "00:05", "59:59", "1:00:00", "12:34:56.789", "00:07.250"} {
		d, err := parseTime(s)
		require.NoError(t, err)
		require.Equal(t, s, formatTime(d))
	}
}
