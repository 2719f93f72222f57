package ui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
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
	require.NoError(t, f.Acknowledge(t.Context(), staff, "officer-7"))                                                           // 10:00:06
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
		{"id": "A/4", "wing": "A", "seq": 4, "point": "A1-01-CALL", "point_kind": "cell-call", "priority": 2, "raised_at": at(4)},
		{"id": "A/5", "wing": "A", "seq": 5, "point": "A-STAFF", "point_kind": "staff-alarm", "priority": 1, "raised_at": at(5),
			"acknowledged": map[string]any{"by": "officer-7", "at": at(6)}},
	}), got["active_alarms"], "in the order officers deal with them")
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
	for _, k := range []string{"doors", "active_alarms", "input_faults", "wings"} {
		assert.Equal(t, []any{}, got[k], k)
	}
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
	id := f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)

	status, got := postJSON(t, ts, "/api/v1/alarms/A/1/acknowledge", "", nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, map[string]any{"alarm": "A/1", "action": "acknowledge", "officer": testOfficer, "officer_verified": false}, got)
	assert.Equal(t, testOfficer, f.State().Alarms[id].Acknowledged.By)

	status, got = postJSON(t, ts, "/api/v1/alarms/A/1/clear", `{"note": "resolved at the door"}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "clear", got["action"])
	assert.Equal(t, "resolved at the door", f.lastEvent(t).Data["note"])
	assert.Equal(t, testOfficer, f.lastEvent(t).Actor)
}

func TestAPIAlarmActionProblems(t *testing.T) {
	f := newFakeWing()
	cleared := f.raise("A1-01-CALL", "cell-call", 2)
	require.NoError(t, f.Clear(t.Context(), cleared, "officer-7", ""))
	f.raise("A-STAFF", "staff-alarm", 1) // A/3
	_, ts := serve(t, f)

	for _, c := range []struct {
		name, path, body string
		header           http.Header
		status           int
		prefix           string
	}{
		{"no such alarm", "/api/v1/alarms/A/99/acknowledge", "", nil, http.StatusNotFound, "There is no alarm A/99"},
		{"already cleared", "/api/v1/alarms/A/1/clear", "", nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"bad seq", "/api/v1/alarms/A/first/clear", "", nil, http.StatusBadRequest, "seq: "},
		{"officer in body", "/api/v1/alarms/A/3/acknowledge", `{"officer": "officer-9"}`, nil, http.StatusBadRequest, "body: "},
		{"not JSON", "/api/v1/alarms/A/3/clear", `note=hi`, nil, http.StatusBadRequest, "body: "},
		{"note on acknowledge", "/api/v1/alarms/A/3/acknowledge", `{"note": "hi"}`, nil, http.StatusBadRequest, "note: only resolving"},
		{"note too long", "/api/v1/alarms/A/3/clear", `{"note": "` + strings.Repeat("x", 300) + `"}`, nil, http.StatusBadRequest, "note: the note is too long"},
		{"cross-site", "/api/v1/alarms/A/3/clear", "", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "This request came from another site's page"},
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
