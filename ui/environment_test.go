package ui

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

func TestEnvironmentPanelShowsEachSensor(t *testing.T) {
	f := fittedWing()
	f.setClimate(
		ClimateReading{Sensor: "ENV-1", TemperatureC: 21.44, HumidityPct: 48.6, At: f.ago(12 * time.Second)},
		ClimateReading{Sensor: "ENV-2", TemperatureC: 19, HumidityPct: 55, At: f.ago(3 * time.Second)},
	)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	panel := doc.Find(`[data-testid="environment"]`)
	require.Equal(t, 1, panel.Length())
	assert.Equal(t, []string{"sensor-ENV-1", "sensor-ENV-2"}, testIDs(panel.Find(".tile")), "configuration order")
	one := panel.Find(`[data-testid="sensor-ENV-1"]`)
	assert.Equal(t, "Landing 1", one.Find(".name").Text())
	assert.Equal(t, "ENV-2", panel.Find(`[data-testid="sensor-ENV-2"] .name`).Text(), "the id when there is no name")
	assert.Equal(t, "ok", one.AttrOr("data-state", ""))
	assert.Equal(t, "false", one.AttrOr("data-alert", ""))
	assert.Equal(t, "21.4 °C", one.Find(`[data-testid="temperature-ENV-1"]`).Text())
	assert.Equal(t, "49 %", one.Find(`[data-testid="humidity-ENV-1"]`).Text())
	assert.Equal(t, "12 s", one.Find(".age").Text())
	assert.Equal(t, "/events?subject=ENV-1", one.AttrOr("href", ""))
	assert.Zero(t, one.Find(".condition").Length())

	sections := doc.Find("main > section").Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("id", s.AttrOr("class", "")) })
	assert.Equal(t, []string{"alarms", "environment"}, sections[:2], "the environment comes after the alarms, before the doors")
}

func TestEnvironmentPanelAlerts(t *testing.T) {
	f := fittedWing()
	f.setClimate(ClimateReading{Sensor: "ENV-1", TemperatureC: 31.25, HumidityPct: 72.5, At: f.ago(0)})
	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-humid", "active": "true", "value": "72.5%rH"})
	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "31.250°C"})
	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-cold", "active": "false", "value": "16.5°C"})
	f.record(event.ClimateCondition, "ENV-9", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "40°C"})
	_, ts := serve(t, f)

	one := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="sensor-ENV-1"]`)

	assert.Equal(t, "true", one.AttrOr("data-alert", ""))
	assert.True(t, one.HasClass("alert"))
	assert.Equal(t, []string{"condition-ENV-1-too-hot", "condition-ENV-1-too-humid"}, testIDs(one.Find(".condition")),
		"active conditions only, hot before humid")
	assert.Equal(t, "TOO HOT 31.3 °C", one.Find(`[data-testid="condition-ENV-1-too-hot"]`).Text(), "written as the reading beside it is")
	assert.Equal(t, "TOO HUMID 72.5%rH", one.Find(`[data-testid="condition-ENV-1-too-humid"]`).Text())
	assert.Equal(t, "31.3 °C", one.Find(`[data-testid="temperature-ENV-1"]`).Text(), "the reading is shown beside the alert")

	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "false", "value": "27.1°C"})
	one = getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="sensor-ENV-1"]`)
	assert.Equal(t, []string{"condition-ENV-1-too-humid"}, testIDs(one.Find(".condition")))
}

func TestEnvironmentPanelNeverShowsAnOldReadingAsCurrent(t *testing.T) {
	f := fittedWing()
	f.setClimate(
		ClimateReading{Sensor: "ENV-1", TemperatureC: 19.75, HumidityPct: 51, At: f.ago(5 * time.Minute)},
		ClimateReading{Sensor: "ENV-2", TemperatureC: 23.5, HumidityPct: 40, At: f.ago(time.Minute)},
	)
	f.record(event.InputFault, "ENV-2", event.SystemActor, map[string]string{"fault": "silent", "detail": "i2c: no ack"})
	f.advance(2 * time.Minute)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	silent := doc.Find(`[data-testid="sensor-ENV-2"]`)
	assert.Equal(t, "silent", silent.AttrOr("data-state", ""))
	assert.Equal(t, "NO READING", silent.Find(`[data-testid="reading-ENV-2"]`).Text())
	assert.NotContains(t, silent.Text(), "23.5", "the last reading of a silent sensor is not shown")
	assert.NotContains(t, silent.Text(), "40 %")
	assert.Contains(t, silent.Text(), "for 3 min", "silent since its last good reading, a minute before the fault was seen")

	stale := doc.Find(`[data-testid="sensor-ENV-1"]`)
	assert.Equal(t, "stale", stale.AttrOr("data-state", ""), "7 minutes old, though not yet declared silent")
	assert.Contains(t, stale.Text(), "OLD READING")
	assert.Equal(t, "7 min", stale.Find(".age").Text())

	f.record(event.InputFault, "ENV-1", event.SystemActor, map[string]string{"fault": "adc-error"})
	f.record(event.InputRestored, "ENV-2", event.SystemActor, nil)
	f.setClimate(ClimateReading{Sensor: "ENV-2"}) // restored, no good reading yet
	doc = getPage(t, ts, "/", http.StatusOK)
	faulted := doc.Find(`[data-testid="sensor-ENV-1"]`)
	assert.Equal(t, "fault", faulted.AttrOr("data-state", ""))
	assert.Contains(t, faulted.Text(), "adc-error")
	assert.NotContains(t, faulted.Text(), "19.8")
	waiting := doc.Find(`[data-testid="sensor-ENV-2"]`)
	assert.Equal(t, "waiting", waiting.AttrOr("data-state", ""))
	assert.Equal(t, "no reading yet", waiting.Find(`[data-testid="reading-ENV-2"]`).Text())
}

// TestSilentSensorAfterARestart: with no reading held (the appliance
// restarted), a silent sensor's silence counts from the last good
// reading its fault recorded, not from when the fault was seen.
func TestSilentSensorAfterARestart(t *testing.T) {
	f := fittedWing()
	f.record(event.InputFault, "ENV-2", event.SystemActor, map[string]string{"fault": "silent",
		"last_reading": f.ago(20 * time.Second).UTC().Format(time.RFC3339Nano)})
	_, ts := serve(t, f)
	silent := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="sensor-ENV-2"]`)
	assert.Equal(t, "silent", silent.AttrOr("data-state", ""))
	assert.Contains(t, silent.Text(), "for 21 s")
}

func TestConditionValueReadsAsTheTile(t *testing.T) {
	for in, want := range map[string]string{"32.501°C": "32.5 °C", "-0.04°C": "0.0 °C", "70.6%": "71 %", " 21 °C": "21.0 °C", "hot": "hot", "": ""} {
		assert.Equal(t, want, conditionValue(in), in)
	}
}

func TestEnvironmentPanelOnlyWhenTheWingHasSensors(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	doc := getPage(t, ts, "/", http.StatusOK)
	assert.Zero(t, doc.Find(`#environment`).Length())
}

func TestFormatClimate(t *testing.T) {
	for in, want := range map[float64]string{21.44: "21.4 °C", 21.45: "21.5 °C", -0.04: "0.0 °C", -3.26: "-3.3 °C", 0: "0.0 °C"} {
		assert.Equal(t, want, formatTemperature(in), in)
	}
	for in, want := range map[float64]string{48.6: "49 %", 0.2: "0 %", 100: "100 %"} {
		assert.Equal(t, want, formatHumidity(in), in)
	}
	assert.Equal(t, "TOO HOT", climateAlert{Condition: "too-hot"}.label())
	assert.True(t, strings.HasPrefix(climateAlert{Condition: "too-dusty"}.label(), "TOO DUSTY"), "a condition this build does not know still shows")
}
