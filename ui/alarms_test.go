package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// postForm posts form to path as the test supervisor at a same-origin
// page would, without following the redirect.
func postForm(t *testing.T, ts *httptest.Server, path string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	return postFormAs(t, ts, supervisor(t, ts), path, form, header)
}

func TestAcknowledgeAndResolveFromTheScreen(t *testing.T) {
	f := newFakeWing()
	id := f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)

	resp := postForm(t, ts, "/alarms/A/1/acknowledge", nil, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	ack := f.lastEvent(t)
	assert.Equal(t, event.AlarmAcknowledged, ack.Kind)
	assert.Equal(t, testOfficer, ack.Actor, "the configured officer, not anything the browser says")
	assert.Equal(t, "A/1", ack.Data["alarm"])
	assert.Equal(t, testOfficer, f.State().Alarms[id].Acknowledged.By)

	resp = postForm(t, ts, "/alarms/A/1/clear", url.Values{"note": {"pressed by mistake"}, "officer": {"someone-else"}}, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	clr := f.lastEvent(t)
	assert.Equal(t, event.AlarmResolved, clr.Kind)
	assert.Equal(t, testOfficer, clr.Actor)
	assert.Equal(t, map[string]string{"alarm": "A/1", "outcome": "assistance-given", "note": "pressed by mistake"}, clr.Data)
	assert.False(t, f.State().Alarms[id].Active())
}

func TestAlarmActionProblems(t *testing.T) {
	f := newFakeWing()
	cleared := f.raise("A1-01-CALL", "cell-call", 2)
	f.resolve(t, cleared, "officer-7", "")
	// An acknowledgement replicated before its raising: the alarm exists
	// but is not raised here yet.
	f.add(event.Event{Wing: "A", Wall: testNow, ClockTrusted: true, Kind: event.AlarmAcknowledged, Subject: "A1-02-CALL",
		Actor: "officer-7", Data: map[string]string{"alarm": "B/9"}})
	active := f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)

	for _, c := range []struct {
		name   string
		path   string
		form   url.Values
		header http.Header
		status int
		says   string
	}{
		{"no such alarm", "/alarms/A/99/acknowledge", nil, nil, http.StatusNotFound, "There is no alarm A/99 on record"},
		{"not an alarm id", "/alarms/A/zero/clear", nil, nil, http.StatusNotFound, "does not name an alarm"},
		{"seq zero", "/alarms/A/0/clear", nil, nil, http.StatusNotFound, "does not name an alarm"},
		{"already cleared: acknowledge", "/alarms/A/1/acknowledge", nil, nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"already cleared: clear", "/alarms/A/1/clear", nil, nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"not raised yet", "/alarms/B/9/acknowledge", nil, nil, http.StatusConflict, "Alarm B/9 has not been raised on this wing yet"},
		{"note too long", "/alarms/A/4/clear", url.Values{"note": {strings.Repeat("x", 257)}}, nil, http.StatusBadRequest, "the note has 257 characters; at most 200"},
		{"cross-site", "/alarms/A/4/clear", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "came from another site"},
		{"other origin, no fetch metadata", "/alarms/A/4/acknowledge", nil,
			http.Header{"Sec-Fetch-Site": nil, "Origin": {"http://evil.example"}}, http.StatusForbidden, "came from another site"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := f.recordCount()
			resp := postForm(t, ts, c.path, c.form, c.header)
			require.Equal(t, c.status, resp.StatusCode)
			doc, err := goquery.NewDocumentFromReader(resp.Body)
			require.NoError(t, err)
			assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), c.says)
			assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
			assert.Equal(t, before, f.recordCount(), "nothing recorded")
		})
	}
	assert.True(t, f.State().Alarms[active].Active(), "the refused requests left the active alarm alone")
	assert.Nil(t, f.State().Alarms[active].Acknowledged)
}

func TestAlarmActionsNeedPost(t *testing.T) {
	f := newFakeWing()
	f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)

	resp, err := http.Get(ts.URL + "/alarms/A/1/acknowledge")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, 1, f.recordCount())
}
