package scenario

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"periph.io/x/conn/v3/physic"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sensors/simulate"
)

// The verbs.
const (
	verbOpen    = "open"
	verbClose   = "close"
	verbPress   = "press"
	verbHold    = "hold"
	verbRelease = "release"
	verbBounce  = "bounce"
	verbFault   = "fault"
	verbClimate = "climate"
	verbSilent  = "silent"
	verbAnswer  = "answer"
	verbStorm   = "storm"
	verbLock    = "lock"
	verbUnlock  = "unlock"
	verbReset   = "reset"
	verbRegime  = "regime"
	verbCheck   = "check"
	verbCount   = "count"
	verbSign    = "sign"
	verbRepeat  = "repeat"
)

// signRoll is what sign signs: the roll.
const signRoll = "roll"

// maxCount bounds a landing's count.
const maxCount = 9999

// allInputs is the point a storm of every input names.
const allInputs = "all"

// Limits on values.
const (
	maxDuration = 24 * time.Hour
	maxBounces  = 100
	minRate     = 0.01 // changes a second
	maxRate     = 1000
	minCelsius  = -40 // the SHT3x's specified range
	maxCelsius  = 125
)

var (
	timePattern   = regexp.MustCompile(`^(?:(\d{1,2}):)?(\d{2}):(\d{2})(?:\.(\d{1,3}))?$`)
	numberPattern = regexp.MustCompile(`^-?\d+(?:\.\d+)?$`)
)

// faultStates are what fault accepts.
var faultStates = []simulate.LineState{simulate.LineOpenCircuit, simulate.LineShortCircuit, simulate.LineTamper, simulate.LineNormal}

// Parse reads a scenario (see the package documentation for the format).
// name is used in messages, usually the file's name. Every problem is
// reported at once, each as "name:LINE: what is wrong". Point ids are not
// checked here: see Check.
func Parse(name string, r io.Reader) (*Scenario, error) {
	s := &Scenario{name: name}
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	sc := bufio.NewScanner(r)
	var (
		n               int
		last            time.Duration // the latest step's offset so far
		repeatLine      int
		repeatMisplaced bool
	)
	for sc.Scan() {
		n++
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if repeatLine != 0 {
			fail(repeatLine, "repeat must be the last step")
			repeatLine, repeatMisplaced = 0, true
		}
		at, err := parseTime(fields[0])
		if err != nil {
			fail(n, "%v", err)
			continue
		}
		if at < last {
			fail(n, "%s is before the step above (%s): steps go in time order", formatTime(at), formatTime(last))
		}
		last = max(last, at)
		if len(fields) < 2 {
			fail(n, "%s: no verb after the time", fields[0])
			continue
		}
		if fields[1] == verbRepeat {
			switch {
			case len(fields) > 2:
				fail(n, "repeat takes nothing after it; got %q", strings.Join(fields[2:], " "))
			case at == 0:
				fail(n, "repeat at 00:00 would never play anything")
			}
			s.repeat, repeatLine = at, n
			continue
		}
		st, err := parseStep(fields[1], fields[2:])
		if err != nil {
			fail(n, "%s: %v", fields[1], err)
			continue
		}
		st.line, st.at = n, at
		s.steps = append(s.steps, st)
	}
	if err := sc.Err(); err != nil {
		fail(n+1, "%v", err)
	}
	if len(s.steps) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no steps", name))
	}
	if s.repeat > 0 && !repeatMisplaced {
		for _, st := range s.steps {
			if end := st.end(); end > s.repeat {
				fail(st.line, "%s %s lasts until %s, after the repeat at %s", st.verb, st.point, formatTime(end), formatTime(s.repeat))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// parseStep parses a step's verb and arguments.
func parseStep(verb string, args []string) (*step, error) {
	st := &step{verb: verb}
	var err error
	switch verb {
	case verbOpen:
		err = st.parseArgs(args, "open POINT [for DURATION]", 1, 3)
		st.active = true
		if err == nil && len(args) > 1 {
			st.hold, err = parseFor(args[1:])
		}
	case verbClose, verbRelease:
		err = st.parseArgs(args, verb+" POINT", 1, 1)
	case verbPress:
		err = st.parseArgs(args, "press POINT", 1, 1)
		st.active, st.hold = true, PressTime
	case verbHold:
		err = st.parseArgs(args, "hold POINT for DURATION", 3, 3)
		st.active = true
		if err == nil {
			st.hold, err = parseFor(args[1:])
		}
	case verbBounce:
		err = st.parseArgs(args, "bounce POINT open|close|press|release COUNT", 3, 3)
		if err == nil {
			err = st.parseBounce(args[1], args[2])
		}
	case verbFault:
		err = st.parseArgs(args, "fault LINE open-circuit|short-circuit|tamper|normal", 2, 2)
		if err == nil {
			err = st.parseFault(args[1])
		}
	case verbClimate:
		err = st.parseArgs(args, "climate SENSOR TEMPERATURE HUMIDITY, e.g. climate ENV-A1 21.5C 45%", 3, 3)
		if err == nil {
			err = st.parseClimate(args[1], args[2])
		}
	case verbSilent, verbAnswer:
		err = st.parseArgs(args, verb+" SENSOR", 1, 1)
		st.silent = verb == verbSilent
	case verbStorm:
		err = st.parseArgs(args, "storm all|POINT RATE/s for DURATION, e.g. storm all 50/s for 10s", 4, 4)
		if err == nil {
			err = st.parseStorm(args[1], args[2:])
		}
	case verbLock:
		err = st.parseArgs(args, "lock DOOR [for DURATION]", 1, 3)
		st.point += wing.LockSuffix
		st.active = true
		if err == nil && len(args) > 1 {
			st.hold, err = parseFor(args[1:])
		}
	case verbUnlock:
		err = st.parseArgs(args, "unlock DOOR", 1, 1)
		st.point += wing.LockSuffix
	case verbReset:
		err = st.parseArgs(args, "reset CELL-CALL", 1, 1)
		st.point += wing.ResetSuffix
		st.active, st.hold = true, PressTime
	case verbRegime:
		if len(args) != 1 {
			return nil, errors.New("want regime unlock|lockup|night")
		}
		if _, err := wing.ParseRegime(args[0]); err != nil {
			return nil, err
		}
		st.point = args[0]
	case verbCheck:
		err = st.parseArgs(args, "check CELL spoke|seen-moving|sign-of-life|seen|no-response", 2, 2)
		if err == nil {
			var o wing.CheckOutcome
			o, err = wing.ParseCheckOutcome(args[1])
			st.outcome = string(o)
		}
	case verbCount:
		err = st.parseArgs(args, "count LANDING NUMBER, e.g. count 1 18", 2, 2)
		if err == nil {
			st.counted, err = strconv.Atoi(args[1])
			if err != nil || st.counted < 0 || st.counted > maxCount {
				err = fmt.Errorf("%q: want a whole number from 0 to %d", args[1], maxCount)
			}
		}
	case verbSign:
		if len(args) != 1 || args[0] != signRoll {
			return nil, errors.New("want sign roll")
		}
		st.point = signRoll
	default:
		return nil, fmt.Errorf("unknown verb (want open, close, press, hold, release, bounce, fault, climate, silent, answer, storm, lock, unlock, reset, regime, check, count, sign or repeat)")
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// parseArgs checks the number of arguments, between least and most, and
// the point id that comes first.
func (st *step) parseArgs(args []string, usage string, least, most int) error {
	if len(args) < least || len(args) > most {
		return fmt.Errorf("want %s", usage)
	}
	st.point = args[0]
	switch {
	case st.point == allInputs && st.verb != verbStorm:
		return fmt.Errorf("%q names every input only in a storm", allInputs)
	case !event.ValidID(st.point):
		return fmt.Errorf("%q is not a point id (letters, digits, '.', '-', '_')", st.point)
	}
	return nil
}

// parseFor parses "for DURATION".
func parseFor(args []string) (time.Duration, error) {
	if len(args) != 2 || args[0] != "for" {
		return 0, fmt.Errorf("want 'for DURATION' after the point, e.g. for 3m; got %q", strings.Join(args, " "))
	}
	return parseDuration(args[1])
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration such as 500ms, 10s, 3m or 1h30m", s)
	case d <= 0 || d > maxDuration:
		return 0, fmt.Errorf("duration %s is out of range (more than 0, at most %s)", s, maxDuration)
	}
	return d, nil
}

func (st *step) parseBounce(state, count string) error {
	switch state {
	case "open", "press":
		st.active = true
	case "close", "release":
	default:
		return fmt.Errorf("%q: want open, close, press or release", state)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 1 || n > maxBounces {
		return fmt.Errorf("%q bounces: want a whole number from 1 to %d", count, maxBounces)
	}
	st.bounces = n
	return nil
}

func (st *step) parseFault(state string) error {
	for _, s := range faultStates {
		if string(s) == state {
			st.state = s
			return nil
		}
	}
	return fmt.Errorf("%q: want open-circuit, short-circuit, tamper or normal (repaired)", state)
}

func (st *step) parseClimate(temp, rh string) error {
	c, ok := strings.CutSuffix(temp, "C")
	if ok {
		c = strings.TrimSuffix(c, "°")
	}
	celsius, err := strconv.ParseFloat(c, 64)
	if !ok || !numberPattern.MatchString(c) || err != nil || celsius < minCelsius || celsius > maxCelsius {
		return fmt.Errorf("%q: want a temperature from %d to %d °C, e.g. 21.5C", temp, minCelsius, maxCelsius)
	}
	p, ok := strings.CutSuffix(rh, "%")
	percent, err := strconv.ParseFloat(p, 64)
	if !ok || !numberPattern.MatchString(p) || err != nil || percent < 0 || percent > 100 {
		return fmt.Errorf("%q: want a relative humidity from 0 to 100%%, e.g. 45%%", rh)
	}
	st.temp = physic.ZeroCelsius + physic.Temperature(celsius*float64(physic.Celsius))
	st.rh = physic.RelativeHumidity(percent * float64(physic.PercentRH))
	return nil
}

func (st *step) parseStorm(rate string, args []string) error {
	r, ok := strings.CutSuffix(rate, "/s")
	perSecond, err := strconv.ParseFloat(r, 64)
	if !ok || !numberPattern.MatchString(r) || err != nil {
		return fmt.Errorf("%q: want a rate such as 50/s", rate)
	}
	d, err := parseFor(args)
	if err != nil {
		return err
	}
	return st.setStorm(perSecond, d)
}

// setStorm sets a storm's timing: each input changes rate times a second
// for d, an even number of times, so that it ends as it started.
func (st *step) setStorm(rate float64, d time.Duration) error {
	if !(rate >= minRate && rate <= maxRate) {
		return fmt.Errorf("rate %g/s is out of range (%g/s to %d/s)", rate, minRate, maxRate)
	}
	st.interval = time.Duration(float64(time.Second) / rate)
	st.length = d
	st.changes = int(d/st.interval) &^ 1
	if st.changes == 0 {
		return fmt.Errorf("%s at %g/s is too short for a change and its undoing", d, rate)
	}
	return nil
}

// parseTime parses an offset from the start: MM:SS or H:MM:SS, with
// optional milliseconds (00:05.250).
func parseTime(s string) (time.Duration, error) {
	m := timePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a time: want MM:SS or H:MM:SS from the start, e.g. 01:30", s)
	}
	h, _ := strconv.Atoi(m[1]) // "" when absent: 0
	mins, _ := strconv.Atoi(m[2])
	sec, _ := strconv.Atoi(m[3])
	if mins > 59 || sec > 59 {
		return 0, fmt.Errorf("%q is not a time: minutes and seconds go up to 59", s)
	}
	ms, _ := strconv.Atoi((m[4] + "000")[:3])
	return time.Duration(h)*time.Hour + time.Duration(mins)*time.Minute + time.Duration(sec)*time.Second + time.Duration(ms)*time.Millisecond, nil
}

// formatTime formats an offset as parseTime reads it.
func formatTime(d time.Duration) string {
	h, m, s, ms := int(d/time.Hour), int(d/time.Minute%60), int(d/time.Second%60), int(d/time.Millisecond%1000)
	var out string
	if h > 0 {
		out = fmt.Sprintf("%d:%02d:%02d", h, m, s)
	} else {
		out = fmt.Sprintf("%02d:%02d", m, s)
	}
	if ms > 0 {
		out += fmt.Sprintf(".%03d", ms)
	}
	return out
}
