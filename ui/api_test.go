package ui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// getJSON fetches path, checks the status and decodes the body into a
// generic value, so that field names are checked as sent.
func getJSON(t *testing.T, ts *httptest.Server, path string, wantStatus int) map[string]any {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, wantStatus, resp.StatusCode, path)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

func postJSON(t *testing.T, ts *httptest.Server, path, body string, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	as := supervisor(t, ts)
	as.add(req)
	req.Header.Set(csrfHeader, as.token)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}

// roundTrip encodes v as JSON and decodes it generically, to compare with
// an answer decoded the same way.
func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func TestAPIState(t *testing.T) {
	f := newFakeWing()
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)                                                                // 10:00:01
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)                                                                  // 10:00:02
	f.record(event.InputFault, "A1-02", event.SystemActor, map[string]string{"fault": "read-error", "detail": "EIO"})            // 10:00:03
	f.raise("A1-01-CALL", "cell-call", 2)                                                                                        // 10:00:04
	staff := f.raise("A-STAFF", "staff-alarm", 1)                                                                                // 10:00:05
	f.ack(t, staff, "officer-7")                                                                                                 // 10:00:06
	f.add(event.Event{Wing: "B", Wall: testNow, ClockTrusted: false, Kind: event.InputFault, Subject: "B1-01", Actor: "system"}) // another wing's input
	_, ts := serve(t, f)

	got := getJSON(t, ts, "/api/v1/state", http.StatusOK)

	at := func(s int) string { return testNow.Add(time.Duration(s) * time.Second).Format(time.RFC3339) }
	assert.Equal(t, map[string]any{"id": "A", "name": "A wing"}, got["wing"])
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"id": "A1-01", "name": "A1-01", "kind": "cell", "landing": "1", "state": "open", "since": at(2)},
		{"id": "A1-02", "name": "A1-02", "kind": "cell", "landing": "1", "state": "fault", "since": at(3), "fault": "read-error"},
		{"id": "A-GATE1", "name": "Gate 1", "kind": "gate", "landing": "1", "state": "unknown"},
		{"id": "A1-03", "name": "A1-03", "kind": "cell", "landing": "1", "state": "unknown"},
		{"id": "A2-01", "name": "A2-01", "kind": "cell", "landing": "2", "state": "unknown"},
		{"id": "A-OFFICE", "name": "Office", "kind": "office", "state": "unknown"},
	}), got["doors"])
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"id": "A/4", "wing": "A", "seq": 4, "point": "A1-01-CALL", "name": "Cell A1-01 call", "point_kind": "cell-call", "priority": 2, "raised_at": at(4),
			"escalations": []any{}, "next_step": "acknowledge"},
		{"id": "A/5", "wing": "A", "seq": 5, "point": "A-STAFF", "name": "Office staff alarm", "point_kind": "staff-alarm", "priority": 1, "raised_at": at(5),
			"acknowledged": map[string]any{"by": "officer-7", "at": at(6)}, "escalations": []any{}, "next_step": "resolve"},
	}), got["active_alarms"], "in the order officers deal with them")
	assert.Equal(t, map[string]any{"regime": "unlock"}, got["regime"], "no schedule: unlocked")
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"id": "A1-02", "fault": "read-error", "detail": "EIO", "since": at(3)},
	}), got["input_faults"], "this wing's inputs only")
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"wing": "A", "last_seq": 6, "last_event": at(6), "running": true, "clock_trusted": true},
		{"wing": "B", "last_seq": 1, "last_event": testNow.Format(time.RFC3339), "running": false, "clock_trusted": false},
	}), got["wings"])
}

func TestAPIStateOfAnEmptyWingHasEmptyLists(t *testing.T) {
	f := newFakeWing()
	f.layout.Doors, f.layout.AlarmPoints = nil, nil
	_, ts := serve(t, f)

	got := getJSON(t, ts, "/api/v1/state", http.StatusOK)
	for _, k := range []string{"doors", "active_alarms", "input_faults", "wings", "climate"} {
		assert.Equal(t, []any{}, got[k], k)
	}
	assert.Equal(t, map[string]any{"running": false}, got["walk_test"])
	assert.Equal(t, map[string]any{"prove_every_s": float64(30 * 24 * 3600), "overdue": float64(0), "never": float64(0), "inputs": []any{}}, got["proof"])
}

func TestAPIStateLocksClimateWalkTestAndProofs(t *testing.T) {
	f := fittedWing()
	f.layout.Doors = f.layout.Doors[:3] // A1-01 (lock), A1-02, A-GATE1 (lock)
	f.layout.AlarmPoints = f.layout.AlarmPoints[:1]
	f.record(event.DoorLocked, "A1-01", event.SystemActor, nil)                                                                                    // 10:00:01
	f.record(event.DoorOpened, "A-GATE1", event.SystemActor, nil)                                                                                  // 10:00:02
	f.record(event.InputFault, "A-GATE1#lock", event.SystemActor, map[string]string{"fault": "short-circuit"})                                     // 10:00:03
	f.raise("A1-01", "door-forced", 1)                                                                                                             // 10:00:04
	f.record(event.InputFault, "ENV-2", event.SystemActor, map[string]string{"fault": "silent"})                                                   // 10:00:05
	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "29.100°C"}) // 10:00:06
	f.record(event.InputProven, "A1-01", "officer-7", nil)                                                                                         // 10:00:07
	require.NoError(t, f.StartWalkTest(t.Context(), officer("officer-7"), 15*time.Minute, wing.WalkTestPoints{}))                                  // 10:00:08
	f.record(event.InputProven, "A1-02", "officer-7", nil)                                                                                         // 10:00:09
	f.advance(8 * 24 * time.Hour)                                                                                                                  // then 10:00:10, 8 days on: later(10)
	f.record(event.InputProven, "A1-01#lock", "officer-7", nil)
	require.NoError(t, f.StartWalkTest(t.Context(), officer("officer-3"), 60*time.Minute, wing.WalkTestPoints{}))
	f.setClimate(
		ClimateReading{Sensor: "ENV-1", TemperatureC: 29.1, HumidityPct: 50, At: f.ago(5 * time.Second)},
		ClimateReading{Sensor: "ENV-2", TemperatureC: 20, HumidityPct: 45, At: testNow},
	)
	_, ts := serve(t, f)

	got := getJSON(t, ts, "/api/v1/state", http.StatusOK)

	at := func(s int) string { return testNow.Add(time.Duration(s) * time.Second).Format(time.RFC3339) }
	later := func(s int) string {
		return testNow.Add(8*24*time.Hour + time.Duration(s)*time.Second).Format(time.RFC3339)
	}
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"id": "A1-01", "name": "A1-01", "kind": "cell", "landing": "1", "state": "unknown", "lock": "locked", "lock_since": at(1), "forced": true},
		{"id": "A1-02", "name": "A1-02", "kind": "cell", "landing": "1", "state": "unknown"},
		{"id": "A-GATE1", "name": "Gate 1", "kind": "gate", "landing": "1", "state": "open", "since": at(2),
			"lock": "fault", "lock_since": at(3), "lock_fault": "short-circuit"},
	}), got["doors"], "the lock beside the position; doors without a lock contact have no lock fields")
	assert.Equal(t, "door-forced", got["active_alarms"].([]any)[0].(map[string]any)["point_kind"])
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"id": "A-GATE1#lock", "fault": "short-circuit", "since": at(3)},
		{"id": "ENV-2", "fault": "silent", "since": at(5)},
	}), got["input_faults"], "lock contacts and sensors are inputs too")
	assert.Equal(t, roundTrip(t, []map[string]any{
		{"sensor": "ENV-1", "name": "Landing 1", "landing": "1",
			"reading":    map[string]any{"temperature_c": 29.1, "humidity_pct": 50, "at": later(11 - 5)},
			"conditions": []map[string]any{{"condition": "too-hot", "value": "29.100°C", "since": at(6)}}},
		{"sensor": "ENV-2", "name": "ENV-2", "landing": "2", "fault": "silent",
			"reading":    map[string]any{"temperature_c": 20, "humidity_pct": 45, "at": testNow.Format(time.RFC3339)},
			"conditions": []any{}},
	}), got["climate"], "an API reader gets the last reading with its time, and the fault")
	assert.Equal(t, map[string]any{"running": true, "by": "officer-3", "since": later(11), "until": testNow.Add(8*24*time.Hour + 11*time.Second + time.Hour).Format(time.RFC3339)},
		got["walk_test"], "the latest start")
	assert.Equal(t, roundTrip(t, map[string]any{
		"prove_every_s": 7 * 24 * 3600, "overdue": 2, "never": 3,
		"inputs": []map[string]any{
			{"input": "A1-01", "kind": "door", "landing": "1", "status": "overdue", "proven_at": at(7), "proven_by": "officer-7"},
			{"input": "A1-01#lock", "kind": "lock", "landing": "1", "status": "ok", "proven_at": later(10), "proven_by": "officer-7"},
			{"input": "A1-01-CALL", "kind": "cell-call", "landing": "1", "status": "never"},
			{"input": "A1-02", "kind": "door", "landing": "1", "status": "overdue", "proven_at": at(9), "proven_by": "officer-7"},
			{"input": "A-GATE1", "kind": "door", "landing": "1", "status": "never"},
			{"input": "A-GATE1#lock", "kind": "lock", "landing": "1", "status": "never"},
		},
	}), got["proof"])
}

func TestAPIEvents(t *testing.T) {
	f := newFakeWing()
	for range 3 {
		f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
		f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
		f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	}
	_, ts := serve(t, f)

	seqs := func(v map[string]any) []float64 {
		var out []float64
		for _, r := range v["records"].([]any) {
			out = append(out, r.(map[string]any)["event"].(map[string]any)["seq"].(float64))
		}
		return out
	}

	all := getJSON(t, ts, "/api/v1/events", http.StatusOK)
	assert.Equal(t, []float64{9, 8, 7, 6, 5, 4, 3, 2, 1}, seqs(all), "newest first")
	assert.Equal(t, "", all["next"])
	first := all["records"].([]any)[8].(map[string]any)
	assert.Equal(t, float64(1), first["pos"])
	assert.Equal(t, "door.opened", first["event"].(map[string]any)["kind"])
	assert.Equal(t, testNow.Add(time.Second).Format(time.RFC3339), first["event"].(map[string]any)["wall"])

	page := getJSON(t, ts, "/api/v1/events?subject=A1-01&kind=door.opened&kind=door.closed&limit=4", http.StatusOK)
	assert.Equal(t, []float64{8, 7, 5, 4}, seqs(page))
	require.NotEmpty(t, page["next"])
	page = getJSON(t, ts, "/api/v1/events?subject=A1-01&kind=door.opened&kind=door.closed&limit=4&cursor="+url.QueryEscape(page["next"].(string)), http.StatusOK)
	assert.Equal(t, []float64{2, 1}, seqs(page))
	assert.Equal(t, "", page["next"])

	from := url.QueryEscape(testNow.Add(3 * time.Second).Format(time.RFC3339))
	to := url.QueryEscape(testNow.Add(6 * time.Second).Format(time.RFC3339))
	assert.Equal(t, []float64{5, 4, 3}, seqs(getJSON(t, ts, "/api/v1/events?from="+from+"&to="+to, http.StatusOK)), "from inclusive, to exclusive")

	none := getJSON(t, ts, "/api/v1/events?subject=Z9", http.StatusOK)
	assert.Equal(t, []any{}, none["records"])
}

func TestAPIRefusesBadParameters(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	for _, c := range []struct{ path, prefix string }{
		{"/api/v1/events?kind=door.exploded", `kind: "door.exploded" is not a kind of event`},
		{"/api/v1/events?from=yesterday", `from: "yesterday" is not an RFC 3339 time`},
		{"/api/v1/events?to=2026-03-02", `to: "2026-03-02" is not an RFC 3339 time`},
		{"/api/v1/events?from=2026-03-02T11:00:00Z&to=2026-03-02T10:00:00Z", "from: must be earlier than to"},
		{"/api/v1/events?limit=0", `limit: "0" is not a whole number from 1 to 1000`},
		{"/api/v1/events?limit=1001", `limit: "1001"`},
		{"/api/v1/events?limit=ten", `limit: "ten"`},
		{"/api/v1/events/tail?after=-1", `after: "-1" is not a store position`},
		{"/api/v1/events/tail?limit=5000", `limit: "5000"`},
		{"/api/v1/events?cursor=not-a-cursor", "cursor: not a cursor of this query"},
	} {
		got := getJSON(t, ts, c.path, http.StatusBadRequest)
		assert.True(t, strings.HasPrefix(got["error"].(string), c.prefix), "%s: %q", c.path, got["error"])
	}
}

func TestAPIEventsReportsStoreFailure(t *testing.T) {
	f := newFakeWing()
	f.queryErr = errQueryBroken
	_, ts := serve(t, f)
	got := getJSON(t, ts, "/api/v1/events", http.StatusInternalServerError)
	assert.Contains(t, got["error"], "Try again")
}

func TestAPITail(t *testing.T) {
	f := newFakeWing()
	for range 5 {
		f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	}
	_, ts := serve(t, f)

	pos := func(v map[string]any) []float64 {
		var out []float64
		for _, r := range v["records"].([]any) {
			out = append(out, r.(map[string]any)["pos"].(float64))
		}
		return out
	}

	got := getJSON(t, ts, "/api/v1/events/tail?limit=2", http.StatusOK)
	assert.Equal(t, []float64{1, 2}, pos(got), "store order from the start")
	assert.Equal(t, float64(2), got["next"])
	got = getJSON(t, ts, "/api/v1/events/tail?after=2&limit=2", http.StatusOK)
	assert.Equal(t, []float64{3, 4}, pos(got))
	got = getJSON(t, ts, "/api/v1/events/tail?after=4", http.StatusOK)
	assert.Equal(t, []float64{5}, pos(got))
	assert.Equal(t, float64(5), got["next"])
	got = getJSON(t, ts, "/api/v1/events/tail?after=5", http.StatusOK)
	assert.Equal(t, []any{}, got["records"])
	assert.Equal(t, float64(5), got["next"], "nothing new: ask again with the same after")
}

func TestAPIAlarmActions(t *testing.T) {
	f := newFakeWing()
	id := f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)

	status, got := postJSON(t, ts, "/api/v1/alarms/A/1/acknowledge", "", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, map[string]any{"alarm": "A/1", "action": "acknowledge", "officer": testOfficer, "officer_verified": true}, got)
	assert.Equal(t, testOfficer, f.State().Alarms[id].Acknowledged.By)

	status, got = postJSON(t, ts, "/api/v1/alarms/A/1/attend", "", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "attend", got["action"])
	assert.Equal(t, event.AlarmAttended, f.lastEvent(t).Kind)
	state := getJSON(t, ts, "/api/v1/state", http.StatusOK)["active_alarms"].([]any)[0].(map[string]any)
	assert.Equal(t, testOfficer, state["attended"].(map[string]any)["by"])
	assert.Equal(t, "panel", state["attended"].(map[string]any)["how"])

	status, got = postJSON(t, ts, "/api/v1/alarms/A/1/resolve", `{"outcome": "assistance-given", "note": "resolved at the door"}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "resolve", got["action"])
	assert.Equal(t, event.AlarmResolved, f.lastEvent(t).Kind)
	assert.Equal(t, map[string]string{"alarm": "A/1", "outcome": "assistance-given", "note": "resolved at the door"}, f.lastEvent(t).Data)
	assert.Equal(t, testOfficer, f.lastEvent(t).Actor)

	call := f.raise("A1-01-CALL", "cell-call", 2)
	status, got = postJSON(t, ts, "/api/v1/alarms/"+call.String()+"/close-remotely", `{"reason": "reset key broken"}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "close-remotely", got["action"])
	assert.Equal(t, event.AlarmClosedRemotely, f.lastEvent(t).Kind)
	assert.Equal(t, "reset key broken", f.lastEvent(t).Data["reason"])
}

func TestAPIAlarmActionProblems(t *testing.T) {
	f := newFakeWing()
	cleared := f.raise("A1-01-CALL", "cell-call", 2)
	f.resolve(t, cleared, "officer-7", "")
	f.raise("A-STAFF", "staff-alarm", 1) // A/5
	f.add(event.Event{Wing: "B", Wall: testNow, ClockTrusted: true, Kind: event.DoorOpened, Subject: "B1-01", Actor: event.SystemActor})
	f.setSite(threeWingSite(f))
	_, ts := serve(t, f)

	for _, c := range []struct {
		name, path, body string
		header           http.Header
		status           int
		prefix           string
	}{
		{"no such alarm", "/api/v1/alarms/A/99/acknowledge", "", nil, http.StatusNotFound, "There is no alarm A/99"},
		{"not received yet", "/api/v1/alarms/B/7/acknowledge", "", nil, http.StatusConflict, "Alarm B/7 has not reached this wing yet"},
		{"not received yet from a silent wing", "/api/v1/alarms/C/1/acknowledge", "", nil, http.StatusConflict, "Alarm C/1 has not reached this wing yet"},
		{"already resolved", "/api/v1/alarms/A/1/resolve", `{"outcome": "false-alarm"}`, nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"not acknowledged", "/api/v1/alarms/A/5/resolve", `{"outcome": "false-alarm"}`, nil, http.StatusConflict, "Alarm A/5 is not acknowledged yet"},
		{"bad seq", "/api/v1/alarms/A/first/resolve", "", nil, http.StatusBadRequest, "seq: "},
		{"officer in body", "/api/v1/alarms/A/5/acknowledge", `{"officer": "officer-9"}`, nil, http.StatusBadRequest, "officer: not a field of this request"},
		{"not JSON", "/api/v1/alarms/A/5/resolve", `note=hi`, nil, http.StatusBadRequest, "body: "},
		{"no outcome", "/api/v1/alarms/A/5/resolve", `{"note": "hi"}`, nil, http.StatusBadRequest, "outcome: send one of the wing's outcomes (assistance-given, "},
		{"outcome not the wing's", "/api/v1/alarms/A/5/resolve", `{"outcome": "sorted"}`, nil, http.StatusBadRequest, "outcome: "},
		{"note on acknowledge", "/api/v1/alarms/A/5/acknowledge", `{"note": "hi"}`, nil, http.StatusBadRequest, "note: only resolving"},
		{"outcome on attend", "/api/v1/alarms/A/5/attend", `{"outcome": "false-alarm"}`, nil, http.StatusBadRequest, "outcome: only resolving"},
		{"reason on resolve", "/api/v1/alarms/A/5/resolve", `{"outcome": "false-alarm", "reason": "x"}`, nil, http.StatusBadRequest, "reason: only closing"},
		{"no reason", "/api/v1/alarms/A/5/close-remotely", `{}`, nil, http.StatusBadRequest, "reason: a remote close is an exception"},
		{"note too long", "/api/v1/alarms/A/5/resolve", `{"outcome": "false-alarm", "note": "` + strings.Repeat("x", 300) + `"}`, nil, http.StatusBadRequest, "note: text refused: the note has 300 characters"},
		{"cell call attended from the panel", "/api/v1/alarms/A/1/attend", "", nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"cross-site", "/api/v1/alarms/A/5/resolve", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "This request came from another site's page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.recordCount()
			status, got := postJSON(t, ts, c.path, c.body, c.header)
			assert.Equal(t, c.status, status)
			assert.True(t, strings.HasPrefix(got["error"].(string), c.prefix), "%q", got["error"])
			assert.Equal(t, before, f.recordCount(), "nothing recorded")
		})
	}
}

func TestAPIUnknownEndpointAndHealth(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	got := getJSON(t, ts, "/api/v2/state", http.StatusNotFound)
	assert.Contains(t, got["error"], "docs/openapi.yaml")
	assert.Equal(t, map[string]any{"status": "ok", "wing": "A", "version": "1.2.3-test"}, getJSON(t, ts, "/healthz", http.StatusOK))
}

func TestAPIWalkTest(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)

	status, got := postJSON(t, ts, "/api/v1/walktest/start", `{"minutes": 15}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, map[string]any{"action": "start", "minutes": float64(15), "officer": testOfficer, "officer_verified": true}, got)
	started := f.lastEvent(t)
	assert.Equal(t, event.WalkTestStarted, started.Kind)
	assert.Equal(t, testOfficer, started.Actor)
	assert.Equal(t, started.Wall.Add(15*time.Minute).UTC().Format(time.RFC3339), started.Data["until"])
	assert.Equal(t, true, getJSON(t, ts, "/api/v1/state", http.StatusOK)["walk_test"].(map[string]any)["running"])

	status, got = postJSON(t, ts, "/api/v1/walktest/end", "", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, map[string]any{"action": "end", "officer": testOfficer, "officer_verified": true}, got)
	assert.Equal(t, event.WalkTestEnded, f.lastEvent(t).Kind)
	assert.Equal(t, map[string]any{"running": false}, getJSON(t, ts, "/api/v1/state", http.StatusOK)["walk_test"])

	status, got = postJSON(t, ts, "/api/v1/walktest/start", "", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, float64(30), got["minutes"], "30 minutes when none are sent")
	started = f.lastEvent(t)
	assert.Equal(t, started.Wall.Add(30*time.Minute).UTC().Format(time.RFC3339), started.Data["until"])

	status, got = postJSON(t, ts, "/api/v1/walktest/start", `{"minutes": 20, "landing": "2"}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "2", got["landing"])
	assert.Equal(t, map[string]any{"running": true, "by": testOfficer, "since": f.lastEvent(t).Wall.Format(time.RFC3339),
		"until": f.lastEvent(t).Wall.Add(20 * time.Minute).Format(time.RFC3339), "landing": "2", "points": []any{"A2-01"}},
		getJSON(t, ts, "/api/v1/state", http.StatusOK)["walk_test"])
	status, got = postJSON(t, ts, "/api/v1/walktest/start", `{"points": ["A1-02", "A-STAFF"]}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "A1-02,A-STAFF", f.lastEvent(t).Data["points"])
	status, got = postJSON(t, ts, "/api/v1/walktest/start", `{"points": ["A9-99"]}`, nil)
	assert.Equal(t, http.StatusBadRequest, status, "the appliance refuses a point it does not have")
	assert.Contains(t, got["error"], `The walk test was not started: wing A has no door or alarm point "A9-99"`)
}

func TestAPIWalkTestProblems(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	for _, c := range []struct {
		name, path, body string
		header           http.Header
		status           int
		prefix           string
	}{
		{"too long", "/api/v1/walktest/start", `{"minutes": 121}`, nil, http.StatusBadRequest, "minutes: 121 is not a whole number of minutes from 1 to 120"},
		{"negative", "/api/v1/walktest/start", `{"minutes": -5}`, nil, http.StatusBadRequest, "minutes: -5"},
		{"not whole", "/api/v1/walktest/start", `{"minutes": 2.5}`, nil, http.StatusBadRequest, "minutes: a JSON number 2.5 where a whole number is expected"},
		{"officer in body", "/api/v1/walktest/start", `{"officer": "officer-9"}`, nil, http.StatusBadRequest, "officer: not a field"},
		{"minutes to end", "/api/v1/walktest/end", `{"minutes": 5}`, nil, http.StatusBadRequest, "minutes, landing, points: only starting"},
		{"a landing and points", "/api/v1/walktest/start", `{"landing": "1", "points": ["A1-01"]}`, nil, http.StatusBadRequest, "landing, points: send a landing or a list"},
		{"cross-site", "/api/v1/walktest/start", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "This request came from another site's page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, got := postJSON(t, ts, c.path, c.body, c.header)
			assert.Equal(t, c.status, status)
			assert.True(t, strings.HasPrefix(got["error"].(string), c.prefix), "%q", got["error"])
			assert.Zero(t, f.recordCount(), "nothing recorded")
		})
	}

	f.walkErr = errQueryBroken
	status, got := postJSON(t, ts, "/api/v1/walktest/start", "", nil)
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Contains(t, got["error"], "could not be started")
	assert.NotContains(t, got["error"], "disk on fire")
}

// TestOpenAPIKeepsInStep checks docs/openapi.yaml against the code where
// they most easily drift apart: the kinds of event, the endpoints and the
// fields of the state.
func TestOpenAPIKeepsInStep(t *testing.T) {
	b, err := os.ReadFile("../docs/openapi.yaml")
	require.NoError(t, err)
	doc := string(b)
	for _, k := range event.Kinds() {
		assert.Contains(t, doc, "\n        - "+string(k)+"\n", "the Kind enum lists %s", k)
	}
	for _, p := range []string{
		"/healthz", "/api/v1/state", "/api/v1/events", "/api/v1/events/tail",
		"/api/v1/alarms/{wing}/{seq}/acknowledge", "/api/v1/alarms/{wing}/{seq}/attend",
		"/api/v1/alarms/{wing}/{seq}/resolve", "/api/v1/alarms/{wing}/{seq}/close-remotely", "/api/v1/regime",
		"/api/v1/walktest/start", "/api/v1/walktest/end", "/api/v1/site", "/api/v1/site/lockdown",
		"/api/v1/signin", "/api/v1/signout",
	} {
		assert.Contains(t, doc, "\n  "+p+":\n", p)
	}
	assert.NotContains(t, doc, "/clear", "one word for one thing: resolve")
	var fields []string
	st := reflect.TypeFor[apiState]()
	for i := range st.NumField() {
		fields = append(fields, strings.Split(st.Field(i).Tag.Get("json"), ",")[0])
	}
	assert.Contains(t, doc, "required: ["+strings.Join(fields, ", ")+"]", "the State schema requires every field")
	for _, typ := range []reflect.Type{reflect.TypeFor[SiteStatus](), reflect.TypeFor[WingLink](), reflect.TypeFor[wing.Lockdown]()} {
		var required []string
		for i := range typ.NumField() {
			if name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ","); opts == "" {
				required = append(required, name)
			}
		}
		assert.Contains(t, doc, "\n    "+typ.Name()+":\n      type: object\n      required: ["+strings.Join(required, ", ")+"]\n",
			"the %s schema requires every field that is always sent", typ.Name())
	}
}
