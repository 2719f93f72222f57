package ui

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
)

// climateStaleAfter is the age beyond which a reading is shown as old even
// though its sensor has not been declared silent (the appliance reads every
// sensor every few seconds and faults it as silent after a few failures).
const climateStaleAfter = 2 * time.Minute

// faultSilent is the fault of an environment sensor that gives no readings.
const faultSilent = "silent"

// sensorState is what a sensor tile says of its reading, and its data-state.
type sensorState string

// The sensor states. A sensor that is silent or faulted never shows its
// last reading: it would look current.
const (
	sensorOK      sensorState = "ok"
	sensorStale   sensorState = "stale"   // the reading is old, though no fault is recorded
	sensorWaiting sensorState = "waiting" // no reading since the appliance started
	sensorSilent  sensorState = "silent"  // input fault "silent": NO READING
	sensorFault   sensorState = "fault"   // any other input fault
)

// environmentPanel is the overview's environment sensors, in configuration
// order; it is not shown when the wing has none.
type environmentPanel struct {
	Sensors []sensorTile
}

// sensorTile is one environment sensor.
type sensorTile struct {
	ID          string
	Name        string
	State       sensorState
	Temperature string // "21.4 °C", when State is ok or stale
	Humidity    string // "48 %", when State is ok or stale
	Read        since  // when the reading shown was taken
	Fault       string // the fault's name when State is sensorFault
	FaultSince  since
	Alerts      []climateAlert // the active conditions
}

// historyPath is the event log of this sensor: its conditions and faults.
func (t sensorTile) historyPath() string { return "/events?subject=" + url.QueryEscape(t.ID) }

// climateAlert is an active condition of a sensor.
type climateAlert struct {
	Condition string // too-hot, too-cold, too-humid
	Value     string // the reading that raised it, as the appliance recorded it
	Since     since
}

// conditionOrder is the order alerts are listed in; others follow by name.
var conditionOrder = []string{"too-hot", "too-cold", "too-humid"}

// label is the alert's words on the tile: "TOO HOT".
func (a climateAlert) label() string {
	return strings.ToUpper(strings.ReplaceAll(a.Condition, "-", " "))
}

// formatTemperature writes a temperature with one decimal: "21.4 °C".
func formatTemperature(c float64) string {
	c = math.Round(c*10) / 10
	if c == 0 {
		c = 0 // no "-0.0"
	}
	return strconv.FormatFloat(c, 'f', 1, 64) + " °C"
}

// conditionValue writes the reading a condition recorded as the tile
// writes readings: "32.501°C" is "32.5 °C" and "70.2%" is "70 %". What it
// cannot read is shown as recorded.
func conditionValue(recorded string) string {
	v := strings.TrimSpace(recorded)
	for suffix, format := range map[string]func(float64) string{"°C": formatTemperature, "%": formatHumidity} {
		if num, ok := strings.CutSuffix(v, suffix); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(num), 64); err == nil {
				return format(f)
			}
		}
	}
	return recorded
}

// formatHumidity writes a relative humidity as a whole percentage: "48 %".
func formatHumidity(pct float64) string {
	return strconv.FormatFloat(math.Round(pct), 'f', 0, 64) + " %"
}

// sensorByID finds an environment sensor of the layout.
func (v view) sensorByID(id string) (config.Sensor, bool) {
	i := slices.IndexFunc(v.layout.Sensors, func(s config.Sensor) bool { return s.ID == id })
	if i < 0 {
		return config.Sensor{}, false
	}
	return v.layout.Sensors[i], true
}

// conditions returns the active conditions of a sensor, in conditionOrder.
func (v view) conditions(sensor string) []climateAlert {
	var out []climateAlert
	for _, c := range v.state.Conditions {
		if c.Sensor == sensor && c.Active {
			out = append(out, climateAlert{Condition: c.Condition, Value: conditionValue(c.Value), Since: sinceOf(c.Since, v.now)})
		}
	}
	rank := func(c string) int {
		if i := slices.Index(conditionOrder, c); i >= 0 {
			return i
		}
		return len(conditionOrder)
	}
	slices.SortFunc(out, func(a, b climateAlert) int {
		return cmp.Or(cmp.Compare(rank(a.Condition), rank(b.Condition)), strings.Compare(a.Condition, b.Condition))
	})
	return out
}

// environment renders every sensor from its latest reading (readings are
// not events, so they come from Wing.Climate) and the folded state.
func (v view) environment() environmentPanel {
	var p environmentPanel
	for _, s := range v.layout.Sensors {
		p.Sensors = append(p.Sensors, v.sensor(s))
	}
	return p
}

// lastReading is when a silent sensor last gave a good reading: the
// latest reading the appliance holds, or after a restart the one its
// fault recorded (data last_reading); zero when neither is known.
func (v view) lastReading(sensor string, fault wing.Input) time.Time {
	if r, ok := v.climate[sensor]; ok && !r.At.IsZero() {
		return r.At
	}
	if v.faultData == nil {
		return time.Time{}
	}
	t, _ := time.Parse(time.RFC3339Nano, v.faultData(sensor, fault)["last_reading"])
	return t
}

func (v view) sensor(s config.Sensor) sensorTile {
	t := sensorTile{ID: s.ID, Name: cmp.Or(s.Name, s.ID), Alerts: v.conditions(s.ID)}
	if in, ok := v.state.Inputs[s.ID]; ok && in.Faulted {
		t.State, t.FaultSince = sensorFault, sinceOf(in.Since, v.now)
		if in.Fault == faultSilent {
			// Silent since its last good reading, which came some reads
			// before the fault was seen.
			t.State = sensorSilent
			if last := v.lastReading(s.ID, in); !last.IsZero() && last.Before(in.Since) {
				t.FaultSince = sinceOf(last, v.now)
			}
		} else {
			t.Fault = cmp.Or(in.Fault, "fault")
		}
		return t
	}
	r, ok := v.climate[s.ID]
	if !ok || r.At.IsZero() {
		t.State = sensorWaiting
		return t
	}
	t.State = sensorOK
	if v.now.Sub(r.At) > climateStaleAfter {
		t.State = sensorStale
	}
	t.Temperature, t.Humidity, t.Read = formatTemperature(r.TemperatureC), formatHumidity(r.HumidityPct), sinceOf(r.At, v.now)
	return t
}
