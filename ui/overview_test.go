package ui

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

func TestOverviewListsActiveAlarmsInOfficerOrder(t *testing.T) {
	f := newFakeWing()
	staff := f.raise("A-STAFF", "staff-alarm", 1)
	f.raise("A1-01-CALL", "cell-call", 2)
	f.raise("A1-02-CALL", "cell-call", 2)
	gone := f.raise("A1-02-CALL", "cell-call", 2)
	f.add(event.Event{Wing: "B", Wall: f.ago(0), ClockTrusted: true, Kind: event.AlarmRaised, Subject: "B1-01-CALL", Actor: event.SystemActor})
	f.ack(t, staff, "officer-7")
	f.resolve(t, gone, "officer-7", "")
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	rows := doc.Find("#alarms article")
	assert.Equal(t, []string{"alarm-A-2", "alarm-A-3", "alarm-A-1"}, testIDs(rows),
		"unacknowledged first, oldest first; resolved alarms and other wings' alarms left out")
	first := doc.Find(`[data-testid="alarm-A-2"]`)
	assert.Contains(t, first.Text(), "Cell A1-01 call")
	assert.Contains(t, first.Text(), "Cell call")
	assert.Contains(t, first.Text(), "NOT ACKNOWLEDGED")
	assert.Contains(t, first.Find(".raised").Text(), "Raised 10:00:02", "to the second")
	assert.Equal(t, "acknowledge", first.AttrOr("data-step", ""))
	assert.Equal(t, 1, first.Find(`[data-testid="acknowledge-alarm-A-2"]`).Length())
	assert.Equal(t, "/alarms/A/2/acknowledge", first.Find("form").First().AttrOr("action", ""))
	assert.Zero(t, first.Find(`[data-testid="resolve-alarm-A-2"]`).Length(), "Resolve… only once acknowledged")
	assert.Zero(t, first.Find(`input[type="text"]`).Length(), "no text field near the buttons")

	acked := doc.Find(`[data-testid="alarm-A-1"]`)
	assert.Equal(t, "true", acked.AttrOr("data-acknowledged", ""))
	assert.Contains(t, acked.Find(`[data-testid="alarm-A-1-ack"]`).Text(), "Acknowledged by officer-7 at 10:00:05")
	assert.Zero(t, acked.Find(`[data-testid="acknowledge-alarm-A-1"]`).Length(), "an acknowledged alarm offers no Acknowledge")
	assert.Equal(t, "resolve", acked.AttrOr("data-step", ""))
	assert.Equal(t, 1, acked.Find(`[data-testid="attend-alarm-A-1"]`).Length(), "a staff alarm is attended from the panel")
	assert.Equal(t, "/alarms/A/1/resolve", acked.Find(`[data-testid="resolve-alarm-A-1"]`).AttrOr("href", ""), "Resolve… opens its confirmation")
	assert.Zero(t, doc.Find(`[data-testid="no-alarms"]`).Length())
	bar := doc.Find(`[data-testid="alarm-bar"]`)
	assert.Equal(t, "3", bar.AttrOr("data-count", ""))
	assert.Equal(t, "2", bar.AttrOr("data-unacked", ""))
	assert.Contains(t, bar.Text(), "3 active alarms")
}

// TestAlarmCardShowsTheLifecycle: each step with who, when, where and
// how; escalations; a cell call waits to be attended at its door; a
// latched alarm whose input is back to normal says so.
func TestAlarmCardShowsTheLifecycle(t *testing.T) {
	f := newFakeWing()
	call := f.raise("A1-01-CALL", "cell-call", 2) // A/1 at 10:00:01
	f.ack(t, call, "officer-7")                   // 10:00:02
	f.record(event.AlarmEscalated, "A1-01-CALL", event.SystemActor, map[string]string{"alarm": "A/1", "reason": "unattended", "after": "5m0s"})
	staff := f.raise("A-STAFF", "staff-alarm", 1) // A/4
	f.ack(t, staff, "1001")
	require.NoError(t, f.Attend(t.Context(), staff, officer("1001")))
	f.setReading("A-STAFF", false)
	f.setReading("A1-01-CALL", true)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)

	doc := docOf(t, getAs(t, ts, sup, "/"))
	c := doc.Find(`[data-testid="alarm-A-1"]`)
	assert.Equal(t, "attend-at-door", c.AttrOr("data-step", ""))
	assert.Equal(t, "true", c.AttrOr("data-escalated", ""))
	assert.Contains(t, c.Find(`[data-testid="alarm-A-1-attend-at-door"]`).Text(), "go to A1-01 and turn its reset key")
	assert.Contains(t, c.Find(`[data-testid="alarm-A-1-escalated-unattended"]`).Text(), "ESCALATED at 10:00:03: not attended at the cell door in 5 min")
	assert.Zero(t, c.Find(`[data-testid="resolve-alarm-A-1"]`).Length(), "a cell call is resolved once attended at its door")
	assert.Zero(t, c.Find(`[data-testid="attend-alarm-A-1"]`).Length(), "never attended from the panel")
	assert.Equal(t, "/alarms/A/1/close-remotely", c.Find(`[data-testid="close-remotely-alarm-A-1"]`).AttrOr("href", ""), "a supervisor may close it remotely")
	assert.Zero(t, c.Find(`[data-testid="alarm-A-1-normal"]`).Length(), "the call button still reads pressed")

	s := doc.Find(`[data-testid="alarm-A-4"]`)
	assert.Contains(t, s.Find(`[data-testid="alarm-A-4-attended"]`).Text(), "Attended by 1001, reported at the panel at 10:00:06")
	assert.Contains(t, s.Find(`[data-testid="alarm-A-4-normal"]`).Text(), "back to normal: the alarm stays until it is resolved")
	assert.Zero(t, s.Find(`[data-testid="attend-alarm-A-4"]`).Length(), "attended once")
	assert.Equal(t, 1, s.Find(`[data-testid="resolve-alarm-A-4"]`).Length())

	off := signIn(t, ts, "1001", "1111")
	assert.Zero(t, docOf(t, getAs(t, ts, off, "/")).Find(`[data-testid="close-remotely-alarm-A-1"]`).Length(), "an officer does not close remotely")

	f.record(event.AlarmAttended, "A1-01-CALL", event.SystemActor, map[string]string{"alarm": "A/1", "how": wing.AttendedAtReset, "where": "A1-01"})
	c = getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="alarm-A-1"]`)
	assert.Contains(t, c.Find(`[data-testid="alarm-A-1-attended"]`).Text(), "Attended at the cell door A1-01 (reset key turned) at 10:00:07")
	assert.Equal(t, "resolve", c.AttrOr("data-step", ""))
	assert.Equal(t, 1, c.Find(`[data-testid="resolve-alarm-A-1"]`).Length())
}

func TestOverviewSaysWhenThereAreNoAlarms(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "No active alarms · no input faults", strings.TrimSpace(doc.Find(`[data-testid="no-alarms"]`).Text()))
	assert.Zero(t, doc.Find("#alarms article").Length())

	// A cut door line is an active problem: the header counts it.
	f.record(event.InputFault, "A2-01", event.SystemActor, map[string]string{"fault": "open-circuit"})
	doc = getPage(t, ts, "/", http.StatusOK)
	bar := doc.Find(`[data-testid="alarm-bar"]`)
	assert.Zero(t, bar.Find(`[data-testid="no-alarms"]`).Length(), "not \"No active alarms\" alone while a line is cut")
	assert.Equal(t, "1", bar.AttrOr("data-faults", ""))
	assert.Equal(t, "1", bar.AttrOr("data-problems", ""))
	assert.Contains(t, bar.Find(`[data-testid="fault-count"]`).Text(), "1 input fault")
	assert.Contains(t, doc.Find(`[data-testid="point-fault-A2-01"]`).Text(), "A2-01 door contact (open-circuit)")
	for _, path := range []string{"/events", "/walktest", "/site", "/plan", "/regime"} {
		bar := getPage(t, ts, path, http.StatusOK).Find(`[data-testid="alarm-bar"]`)
		assert.Equal(t, "/", bar.AttrOr("href", ""), "%s: the bar opens the overview", path)
		assert.Contains(t, bar.Text(), "A2-01 door contact: open-circuit", path)
	}
}

func TestOverviewDoorTiles(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	f.record(event.DoorClosed, "A1-02", event.SystemActor, nil)
	f.record(event.InputFault, "A1-02", event.SystemActor, map[string]string{"fault": "read-error"})
	f.record(event.DoorClosed, "A-GATE1", event.SystemActor, nil)
	f.record(event.DoorOpened, "A2-01", event.SystemActor, nil)
	f.record(event.InputFault, "A2-01", event.SystemActor, map[string]string{"fault": "pin-missing"})
	f.record(event.InputRestored, "A2-01", event.SystemActor, nil)
	f.now = f.now.Add(3*time.Minute + 10*time.Second)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	var groups []string
	doc.Find("section.doors").Each(func(_ int, s *goquery.Selection) {
		groups = append(groups, s.Find("h2").Text()+": "+strings.Join(testIDs(s.Find(".tile")), " "))
	})
	assert.Equal(t, []string{
		"Landing 1: door-A1-01 door-A1-02 door-A1-03",
		"Landing 2: door-A2-01",
		"Other doors: door-A-GATE1 door-A-OFFICE",
	}, groups, "cells by landing in configuration order, then the other doors")

	for _, c := range []struct{ door, state, word string }{
		{"A1-01", "open", "OPEN"},
		{"A1-02", "fault", "FAULT"}, // its last reading was closed: a faulted input must not look closed
		{"A1-03", "unknown", "no reading"},
		{"A-GATE1", "closed", "closed"},
		{"A2-01", "open", "OPEN"}, // restored after the fault: the door's reading shows again
		{"A-OFFICE", "unknown", "no reading"},
	} {
		tile := doc.Find(`[data-testid="door-` + c.door + `"]`)
		require.Equal(t, 1, tile.Length(), c.door)
		assert.Equal(t, "door-"+c.door, tile.AttrOr("id", ""), c.door)
		assert.Equal(t, c.state, tile.AttrOr("data-state", ""), c.door)
		assert.Equal(t, c.word, tile.Find(".state").Text(), c.door)
		assert.True(t, tile.HasClass(c.state), "%s has class %s (colour as well as words)", c.door, c.state)
	}
	faulted := doc.Find(`[data-testid="door-A1-02"]`)
	assert.NotContains(t, faulted.Text(), "closed")
	assert.Contains(t, faulted.Text(), "read-error")

	open := doc.Find(`[data-testid="door-A1-01"] .age`)
	assert.Equal(t, "3 min", open.Text(), "opened 3 min 16 s before now")
	assert.Equal(t, testNow.Add(time.Second).Format(time.RFC3339), open.AttrOr("data-since", ""))
	assert.Zero(t, doc.Find(`[data-testid="door-A1-03"] .age`).Length(), "no age without a reading")
	assert.Equal(t, "Gate 1", doc.Find(`[data-testid="door-A-GATE1"] .name`).Text())
	assert.Equal(t, "/events?subject=A1-01", doc.Find(`[data-testid="door-A1-01"]`).AttrOr("href", ""))
}

func TestOverviewBadgesCellWithActiveCall(t *testing.T) {
	f := newFakeWing()
	f.raise("A1-01-CALL", "cell-call", 2)
	acked := f.raise("A1-02-CALL", "cell-call", 2)
	cleared := f.raise("A1-02-CALL", "cell-call", 2)
	f.raise("A-STAFF", "staff-alarm", 1)
	f.ack(t, acked, "officer-7")
	f.resolve(t, cleared, "officer-7", "")
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	assert.Equal(t, []string{"badge-A1-01", "badge-A1-02"}, testIDs(doc.Find(".badge")))
	assert.Equal(t, "CALL", strings.TrimSpace(doc.Find(`[data-testid="badge-A1-01"]`).Text()))
	assert.Equal(t, "CALL · ack", strings.TrimSpace(doc.Find(`[data-testid="badge-A1-02"]`).Text()),
		"A1-02 still has an acknowledged call, though a later one was cleared")
}

func TestOverviewShowsAlarmPointFaults(t *testing.T) {
	f := newFakeWing()
	f.record(event.InputFault, "A-STAFF", event.SystemActor, map[string]string{"fault": "pin-missing"})
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	fault := doc.Find(`[data-testid="point-fault-A-STAFF"]`)
	require.Equal(t, 1, fault.Length())
	assert.Contains(t, fault.Text(), "FAULT")
	assert.Contains(t, fault.Text(), "Office staff alarm (pin-missing)")
	assert.Contains(t, fault.Text(), "it cannot raise alarms")
}

func TestOverviewHeader(t *testing.T) {
	f := newFakeWing()
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "A wing", doc.Find(`[data-testid="wing-name"]`).Text())
	assert.Equal(t, "1.2.3-test", doc.Find(`[data-testid="version"]`).Text())
	assert.Equal(t, "connecting…", doc.Find(`#live-status`).Text())
	assert.Equal(t, "true", doc.Find(`[data-testid="clock-status"]`).AttrOr("data-trusted", ""))
	assert.Empty(t, doc.Find(`[data-testid="clock-status"]`).Text())
	assert.Equal(t, "Sign in", doc.Find(`[data-testid="signed-out"]`).Text(), "the kiosk reads signed out, and offers to sign in")

	f.add(event.Event{Wing: "A", Wall: time.Unix(60, 0), ClockTrusted: false, Kind: event.ApplianceStarted, Subject: "A", Actor: event.SystemActor})
	f.add(event.Event{Wing: "B", Wall: f.ago(0), ClockTrusted: true, Kind: event.ApplianceStarted, Subject: "B", Actor: event.SystemActor})
	doc = getPage(t, ts, "/", http.StatusOK)
	clock := doc.Find(`[data-testid="clock-status"]`)
	assert.Equal(t, "false", clock.AttrOr("data-trusted", ""), "this wing's clock is not trusted, whatever other wings say")
	assert.Contains(t, clock.Text(), "Clock not set")
}

func TestOptionsDefaults(t *testing.T) {
	srv := New(newFakeWing(), Options{})
	defer srv.Close()
	assert.Equal(t, config.DefaultSignOutIdle, srv.opt.SignOutIdle)
	assert.Equal(t, "dev", srv.opt.Version)
}

func TestEveryResponseHasContentSecurityPolicy(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	for _, path := range []string{"/", "/events", "/walktest", "/site", "/events?kind=nonsense", "/static/app.css", "/static/app.js", "/api/v1/state", "/api/v1/site", "/api/v1/nothing", "/healthz", "/no-such-page"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'", path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
	}
}

func TestPagesLoadNothingInlineOrFromOutside(t *testing.T) {
	f := fittedWing()
	f.setClimate(ClimateReading{Sensor: "ENV-1", TemperatureC: 20, HumidityPct: 50, At: f.ago(0)})
	f.raise("A1-01-CALL", "cell-call", 2)
	f.raiseOn("B", "B1-04-CALL", "cell-call", 2, f.ago(time.Minute))
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	st := threeWingSite(f)
	st.Isolated, st.IsolatedSince, st.Waiting = true, f.ago(time.Minute), 3
	st.Lockdown = wing.Lockdown{Active: true, Reason: "fight", By: "officer-7", Since: f.ago(time.Minute)}
	f.setSite(st)
	_, ts := serve(t, f)

	require.NoError(t, f.StartWalkTest(t.Context(), officer(testOfficer), 30*time.Minute, wing.WalkTestPoints{}))
	for _, path := range []string{"/", "/events", "/walktest", "/site"} {
		doc := getPage(t, ts, path, http.StatusOK)
		assert.Zero(t, doc.Find("style, [style]").Length(), "%s: inline style", path)
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			assert.Contains(t, []string{"/static/app.js", "/static/shift.js"}, s.AttrOr("src", ""), "%s: only the embedded scripts", path)
			assert.Empty(t, strings.TrimSpace(s.Text()), "%s: inline script", path)
		})
		doc.Find("[src], [href], [action]").Each(func(_ int, s *goquery.Selection) {
			for _, attr := range []string{"src", "href", "action"} {
				if v, ok := s.Attr(attr); ok {
					assert.True(t, strings.HasPrefix(v, "/"), "%s: %s=%q leaves the appliance", path, attr, v)
				}
			}
		})
	}
}

func TestStaticAssetsAreEmbedded(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	for path, typ := range map[string]string{"/static/app.css": "text/css", "/static/app.js": "text/javascript"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, resp.Header.Get("Content-Type"), typ, path)
		assert.NotEmpty(t, body, path)
	}
	css := getBody(t, ts.URL+"/static/app.css")
	assert.Contains(t, css, "touch-action: manipulation")
	assert.NotContains(t, css, "@import")
	assert.NotContains(t, css, "url(", "no fonts or images from anywhere")
}

func TestUnknownPageIsNotFound(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	doc := getPage(t, ts, "/no-such-page", http.StatusNotFound)
	assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), "Go back to the wing overview")
}

func TestFormatAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0 s"},
		{0, "0 s"},
		{59 * time.Second, "59 s"},
		{time.Minute, "1 min"},
		{59*time.Minute + 59*time.Second, "59 min"},
		{time.Hour + 5*time.Minute, "1 h 05"},
		{23*time.Hour + 59*time.Minute, "23 h 59"},
		{50 * time.Hour, "2 d 02 h"},
	} {
		assert.Equal(t, c.want, formatAge(c.d), c.d)
	}
}

func TestAgeOfUnsetClockIsNotShown(t *testing.T) {
	assert.Equal(t, since{}, sinceOf(time.Unix(60, 0), testNow), "a 1970 wall time is an unset clock")
	assert.Equal(t, since{}, sinceOf(time.Time{}, testNow))
	assert.Equal(t, "2 min", sinceOf(testNow.Add(-2*time.Minute), testNow).Text)
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// fittedWing is a fake over fittedLayout.
func fittedWing() *fakeWing {
	f := newFakeWing()
	f.layout = fittedLayout()
	return f
}

func TestOverviewDoorTilesShowTheLock(t *testing.T) {
	f := fittedWing()
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
	f.record(event.DoorLocked, "A1-01", event.SystemActor, nil)
	f.record(event.DoorClosed, "A-GATE1", event.SystemActor, nil)
	f.record(event.DoorClosed, "A1-02", event.SystemActor, nil)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	for _, c := range []struct{ door, lock, words string }{
		{"A1-01", "locked", "locked"},
		{"A-GATE1", "unknown", "lock: no reading"}, // fitted, not read yet
		{"A1-02", "", ""},                          // no lock contact fitted
	} {
		tile := doc.Find(`[data-testid="door-` + c.door + `"]`)
		assert.Equal(t, "closed", tile.AttrOr("data-state", ""), c.door)
		assert.Equal(t, c.lock, tile.AttrOr("data-lock", "?"), c.door)
		assert.Equal(t, c.words, tile.Find(`[data-testid="lock-`+c.door+`"]`).Text(), c.door)
		assert.Equal(t, "false", tile.AttrOr("data-forced", ""), c.door)
		assert.Empty(t, tile.AttrOr("data-anomaly", "?"), c.door)
	}

	f.record(event.DoorUnlocked, "A1-01", event.SystemActor, nil)
	doc = getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "unlocked", doc.Find(`[data-testid="lock-A1-01"]`).Text())
}

func TestOverviewLockFaultShowsTheDoorAsFault(t *testing.T) {
	f := fittedWing()
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
	f.record(event.DoorLocked, "A1-01", event.SystemActor, nil)
	f.record(event.InputFault, "A1-01#lock", event.SystemActor, map[string]string{"fault": "open-circuit"})
	_, ts := serve(t, f)

	tile := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="door-A1-01"]`)

	assert.Equal(t, "fault", tile.AttrOr("data-state", ""), "a door whose lock cannot be read cannot be shown as secure")
	assert.Equal(t, "FAULT", tile.Find(".state").Text())
	assert.Contains(t, tile.Find(".fault").Text(), "lock open-circuit")
	assert.Zero(t, tile.Find(`[data-testid="lock-A1-01"]`).Length(), "no lock word from a faulted contact")
	assert.NotContains(t, tile.Text(), "closed")
	assert.NotContains(t, tile.Text(), "locked")

	f.record(event.InputRestored, "A1-01#lock", event.SystemActor, nil)
	tile = getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="door-A1-01"]`)
	assert.Equal(t, "closed", tile.AttrOr("data-state", ""))
	assert.Equal(t, "locked", tile.Find(`[data-testid="lock-A1-01"]`).Text())
}

func TestOverviewShowsAForcedDoor(t *testing.T) {
	f := fittedWing()
	f.record(event.DoorLocked, "A-GATE1", event.SystemActor, nil)
	f.record(event.DoorOpened, "A-GATE1", event.SystemActor, nil)
	forced := f.raise("A-GATE1", "door-forced", 1) // A/3
	f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)

	tile := doc.Find(`[data-testid="door-A-GATE1"]`)
	assert.Equal(t, "true", tile.AttrOr("data-forced", ""))
	assert.Equal(t, "door-forced", tile.AttrOr("data-anomaly", ""))
	assert.True(t, tile.HasClass("anomaly"))
	assert.Equal(t, "FORCED", strings.TrimSpace(tile.Find(`[data-testid="anomaly-A-GATE1-door-forced"]`).Text()))
	assert.Equal(t, "OPEN", tile.Find(".state").Text())
	assert.Equal(t, "locked", tile.Find(`[data-testid="lock-A-GATE1"]`).Text(), "the lock still reads locked: that is why it is forced")

	assert.Equal(t, []string{"alarm-A-3", "alarm-A-4"}, testIDs(doc.Find("#alarms article")), "priority 1 first")
	row := doc.Find(`[data-testid="alarm-A-3"]`)
	assert.Equal(t, "Gate 1", row.Find(".point").Text(), "the door's name")
	assert.Equal(t, "DOOR FORCED", row.Find(".kind").Text())
	assert.Equal(t, 1, row.Find(`[data-testid="acknowledge-alarm-A-3"]`).Length())
	assert.Equal(t, "false", doc.Find(`[data-testid="door-A1-01"]`).AttrOr("data-forced", ""), "a cell call is not a forced door")

	f.ack(t, forced, "officer-7")
	f.record(event.DoorClosed, "A-GATE1", event.SystemActor, nil)
	tile = getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="door-A-GATE1"]`)
	assert.Equal(t, "FORCED · ack", strings.TrimSpace(tile.Find(`[data-testid="anomaly-A-GATE1-door-forced"]`).Text()), "forced until resolved, even once closed")
	assert.Equal(t, "closed", tile.AttrOr("data-state", ""))
	assert.Contains(t, getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="alarm-A-3-normal"]`).Text(), "The door is closed again")

	f.resolve(t, forced, "officer-7", "contact adjusted")
	tile = getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="door-A-GATE1"]`)
	assert.Equal(t, "false", tile.AttrOr("data-forced", ""))
	assert.Zero(t, tile.Find(`[data-testid="anomaly-A-GATE1-door-forced"]`).Length())
}

// TestDoorAnomaliesOnTheTiles: held open, opened at night, opened in
// lockdown: each in words on the door's tile and as an alarm.
func TestDoorAnomaliesOnTheTiles(t *testing.T) {
	f := fittedWing()
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	f.raise("A1-02", wing.DoorHeldOpen, 2)      // A/2
	f.raise("A1-02", wing.DoorOpenedAtNight, 1) // A/3
	f.record(event.DoorOpened, "A-GATE1", event.SystemActor, nil)
	f.raise("A-GATE1", wing.DoorOpenedInLockdown, 1) // A/5
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/", http.StatusOK)

	tile := doc.Find(`[data-testid="door-A1-02"]`)
	assert.Equal(t, "door-opened-at-night door-held-open", tile.AttrOr("data-anomaly", ""))
	assert.Equal(t, []string{"OPENED AT NIGHT", "HELD OPEN"}, tile.Find(".anomaly-mark").Map(func(_ int, s *goquery.Selection) string { return s.Text() }))
	assert.Equal(t, "OPENED IN LOCKDOWN", doc.Find(`[data-testid="anomaly-A-GATE1-door-opened-in-lockdown"]`).Text())
	assert.Equal(t, []string{"alarm-A-3", "alarm-A-5", "alarm-A-2"}, testIDs(doc.Find("#alarms article")))
	assert.Equal(t, "DOOR OPENED AT NIGHT", doc.Find(`[data-testid="alarm-A-3"] .kind`).Text())
	assert.Equal(t, "DOOR HELD OPEN", doc.Find(`[data-testid="alarm-A-2"] .kind`).Text())
	assert.Equal(t, "Gate 1", doc.Find(`[data-testid="alarm-A-5"] .point`).Text())
	assert.Equal(t, "DOOR OPENED IN LOCKDOWN", doc.Find(`[data-testid="alarm-A-5"] .kind`).Text())
}

// TestEscalationBannerShowsEveryWingsEscalations: this wing's and other
// wings' escalated alarms are in a banner on every page, the most urgent
// first; resolved ones go.
func TestEscalationBannerShowsEveryWingsEscalations(t *testing.T) {
	f := newFakeWing()
	own := f.raise("A1-01-CALL", "cell-call", 2) // A/1
	f.record(event.AlarmEscalated, "A1-01-CALL", event.SystemActor, map[string]string{"alarm": "A/1", "reason": "unacknowledged", "after": "1m0s"})
	other := f.raiseOn("B", "B-STAFF", "staff-alarm", 1, f.ago(2*time.Minute))
	f.add(event.Event{Wing: "B", Wall: f.ago(time.Minute), ClockTrusted: true, Kind: event.AlarmEscalated, Subject: "B-STAFF", Actor: event.SystemActor,
		Data: map[string]string{"alarm": other.String(), "reason": "unacknowledged", "after": "1m0s"}})
	f.raise("A-STAFF", "staff-alarm", 1) // not escalated
	_, ts := serve(t, f)
	for _, path := range []string{"/", "/events", "/walktest", "/site", "/plan", "/regime"} {
		b := getPage(t, ts, path, http.StatusOK).Find(`[data-testid="escalations"]`)
		assert.Equal(t, "2", b.AttrOr("data-count", ""), path)
		assert.Equal(t, []string{"escalated-B-1", "escalated-A-1"}, testIDs(b.Find("li")), "%s: priority first", path)
		assert.Contains(t, b.Find(`[data-testid="escalated-B-1"]`).Text(), "Wing B", path)
		assert.Contains(t, b.Find(`[data-testid="escalated-A-1"]`).Text(), "Cell A1-01 call", path)
		assert.Contains(t, b.Find(`[data-testid="escalated-A-1"]`).Text(), "not acknowledged in 1 min", path)
	}
	f.resolve(t, own, "officer-7", "")
	assert.Equal(t, "1", getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="escalations"]`).AttrOr("data-count", ""), "resolved, it goes")
}
