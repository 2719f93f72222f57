package climate

import (
	"context"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/physic"
)

// Defaults for a Monitor's zero fields.
const (
	DefaultInterval              = 10 * time.Second
	DefaultSilentAfter           = 3
	DefaultTemperatureHysteresis = 500 * physic.MilliCelsius
	DefaultHumidityHysteresis    = 2 * physic.PercentRH
)

// The kinds of Condition.
const (
	ConditionTooHot   = "too-hot"   // above Limits.HotAbove
	ConditionTooCold  = "too-cold"  // below Limits.ColdBelow
	ConditionTooHumid = "too-humid" // above Limits.HumidAbove
	// ConditionSilent: the sensor failed Monitor.SilentAfter reads in a row.
	ConditionSilent = "silent"
)

// Device is a sensor the Monitor can read; *SHT3x is one.
type Device interface {
	// Sense takes one measurement. The Monitor calls it from one goroutine
	// at a time and waits for it, so it must return in well under the
	// Monitor's Interval.
	Sense() (Reading, error)
}

// Sensor is one configured sensor.
type Sensor struct {
	ID     string // the name Samples and Conditions carry, e.g. "landing-2"
	Device Device
	Limits Limits
}

// Limits are the readings that raise a Condition. A zero field means no
// limit.
//
// Temperatures are absolute, as physic.Temperature counts from absolute
// zero: 30 °C is physic.ZeroCelsius + 30*physic.Celsius, not
// 30*physic.Celsius (which is 30 K).
type Limits struct {
	HotAbove   physic.Temperature      // too-hot while the temperature is above it
	ColdBelow  physic.Temperature      // too-cold while the temperature is below it
	HumidAbove physic.RelativeHumidity // too-humid while the humidity is above it
}

// Event is what a Monitor sends: a Sample or a Condition. Consumers switch
// on its type.
type Event interface{ event() }

// Sample is a sensor's successful reading.
type Sample struct {
	Sensor string // Sensor.ID
	Reading
	At time.Time // when the reading was taken
}

// Condition reports that a sensor entered (Active) or left a condition.
// The Monitor sends one only when a condition changes; all conditions start
// inactive.
type Condition struct {
	Sensor string // Sensor.ID
	Kind   string // one of the Condition constants
	Active bool
	// Value says what changed it: for a limit, the reading with its unit
	// ("31.250°C", "72.5%rH"); for silent becoming active, the last read
	// error; for silent clearing, "".
	Value string
	At    time.Time
}

func (Sample) event()    {}
func (Condition) event() {}

// Monitor polls sensors and reports their readings and conditions. Its zero
// fields take the defaults above and the real clock.
type Monitor struct {
	Sensors []Sensor
	// Interval is the time between polls. Zero means DefaultInterval.
	Interval time.Duration
	// SilentAfter is how many failed reads in a row make a sensor silent.
	// Zero means DefaultSilentAfter.
	SilentAfter int
	// TemperatureHysteresis is how far back over a temperature limit a
	// reading must come to clear its condition, so that a reading hovering
	// at the limit does not flap. Zero means DefaultTemperatureHysteresis.
	TemperatureHysteresis physic.Temperature
	// HumidityHysteresis is the same for the humidity limit. Zero means
	// DefaultHumidityHysteresis.
	HumidityHysteresis physic.RelativeHumidity
	// Clock times the polls. Nil means the real clock.
	Clock clockwork.Clock
}

// Run polls every sensor, in the order given, at once and then every
// Interval until ctx is done, and sends to out, for each sensor polled:
// a Sample if the read succeeded, then a Condition for each condition that
// read changed, silent first and then too-hot, too-cold, too-humid. Events
// of one sensor therefore arrive in order. Run returns an error, before
// polling, only if the configuration is invalid; otherwise it returns nil
// once ctx is done. It never closes out.
//
// A condition is active from the first reading beyond its limit until a
// reading back inside the limit by at least the hysteresis: too-hot clears
// at or below HotAbove − TemperatureHysteresis, too-cold at or above
// ColdBelow + TemperatureHysteresis, too-humid at or below HumidAbove −
// HumidityHysteresis. A sensor becomes silent at its SilentAfter-th failed
// read in a row and clears at its next good read. While it is silent its
// limit conditions keep their state: nothing is known to have changed, and
// a too-hot cell must not look cleared because its sensor died.
//
// A slow reader of out, or a slow Device, delays the following polls;
// polls that fall due meanwhile are skipped, not queued.
func (m *Monitor) Run(ctx context.Context, out chan<- Event) error {
	cfg, err := m.withDefaults()
	if err != nil {
		return err
	}
	states := make([]sensorState, len(cfg.Sensors))
	ticker := cfg.Clock.NewTicker(cfg.Interval)
	defer ticker.Stop()
	for {
		for i, s := range cfg.Sensors {
			for _, e := range cfg.poll(s, &states[i]) {
				select {
				case out <- e:
				case <-ctx.Done():
					return nil
				}
			}
		}
		select {
		case <-ticker.Chan():
		case <-ctx.Done():
			return nil
		}
	}
}

// withDefaults validates m and returns a copy with its zero fields set.
func (m *Monitor) withDefaults() (Monitor, error) {
	c := *m
	switch {
	case c.Interval < 0:
		return c, fmt.Errorf("climate: negative interval %s", c.Interval)
	case c.SilentAfter < 0:
		return c, fmt.Errorf("climate: negative SilentAfter %d", c.SilentAfter)
	case c.TemperatureHysteresis < 0:
		return c, fmt.Errorf("climate: negative temperature hysteresis (%d nK)", int64(c.TemperatureHysteresis))
	case c.HumidityHysteresis < 0:
		return c, fmt.Errorf("climate: negative humidity hysteresis %s", c.HumidityHysteresis)
	}
	if err := validateSensors(c.Sensors); err != nil {
		return c, err
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = DefaultSilentAfter
	}
	if c.TemperatureHysteresis == 0 {
		c.TemperatureHysteresis = DefaultTemperatureHysteresis
	}
	if c.HumidityHysteresis == 0 {
		c.HumidityHysteresis = DefaultHumidityHysteresis
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	return c, nil
}

// lowestLimit is the lowest temperature limit accepted. Anything colder is
// almost certainly a Celsius value written without physic.ZeroCelsius.
const lowestLimit = physic.ZeroCelsius - 100*physic.Celsius

func validateSensors(sensors []Sensor) error {
	ids := make(map[string]bool, len(sensors))
	for i, s := range sensors {
		l := s.Limits
		switch {
		case s.ID == "":
			return fmt.Errorf("climate: sensor %d has no id", i)
		case ids[s.ID]:
			return fmt.Errorf("climate: sensor id %q is used twice", s.ID)
		case s.Device == nil:
			return fmt.Errorf("climate: sensor %q has no device", s.ID)
		case l.HotAbove != 0 && l.HotAbove < lowestLimit, l.ColdBelow != 0 && l.ColdBelow < lowestLimit:
			return fmt.Errorf("climate: sensor %q has a temperature limit below -100°C: limits are absolute, "+
				"write physic.ZeroCelsius + 30*physic.Celsius for 30°C", s.ID)
		case l.HotAbove != 0 && l.ColdBelow != 0 && l.HotAbove <= l.ColdBelow:
			return fmt.Errorf("climate: sensor %q: hot limit %s is not above cold limit %s", s.ID, l.HotAbove, l.ColdBelow)
		case l.HumidAbove < 0 || l.HumidAbove > 100*physic.PercentRH:
			return fmt.Errorf("climate: sensor %q: humidity limit %s is outside 0–100%%", s.ID, l.HumidAbove)
		}
		ids[s.ID] = true
	}
	return nil
}

// sensorState is what the Monitor remembers about a sensor between polls.
type sensorState struct {
	failures int             // failed reads in a row
	active   map[string]bool // by condition kind
}

// poll reads s and returns the events to send.
func (m *Monitor) poll(s Sensor, st *sensorState) []Event {
	r, err := s.Device.Sense()
	now := m.Clock.Now()
	if st.active == nil {
		st.active = make(map[string]bool)
	}
	var events []Event
	set := func(kind string, active bool, value string) {
		if st.active[kind] != active {
			st.active[kind] = active
			events = append(events, Condition{Sensor: s.ID, Kind: kind, Active: active, Value: value, At: now})
		}
	}
	if err != nil {
		st.failures++
		if st.failures >= m.SilentAfter {
			set(ConditionSilent, true, err.Error())
		}
		return events
	}
	st.failures = 0
	events = append(events, Sample{Sensor: s.ID, Reading: r, At: now})
	set(ConditionSilent, false, "")
	t, rh, l := r.Temperature, r.Humidity, s.Limits
	if l.HotAbove != 0 {
		set(ConditionTooHot, beyond(st.active[ConditionTooHot], t, l.HotAbove, m.TemperatureHysteresis), t.String())
	}
	if l.ColdBelow != 0 {
		set(ConditionTooCold, beyond(st.active[ConditionTooCold], -t, -l.ColdBelow, m.TemperatureHysteresis), t.String())
	}
	if l.HumidAbove != 0 {
		set(ConditionTooHumid, beyond(st.active[ConditionTooHumid], rh, l.HumidAbove, m.HumidityHysteresis), rh.String())
	}
	return events
}

// beyond reports whether a condition with an upper limit is active after
// reading v: it becomes active above limit and, once active, stays so until
// v is at or below limit − hysteresis. Lower limits are passed negated.
func beyond[T physic.Temperature | physic.RelativeHumidity](active bool, v, limit, hysteresis T) bool {
	if active {
		return v > limit-hysteresis
	}
	return v > limit
}
