package ui

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
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

	resp = postForm(t, ts, "/alarms/A/1/attend", url.Values{"officer": {"someone-else"}}, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	att := f.lastEvent(t)
	assert.Equal(t, event.AlarmAttended, att.Kind)
	assert.Equal(t, testOfficer, att.Actor)
	assert.Equal(t, wing.AttendedFromPanel, att.Data["how"])
	assert.Equal(t, testOfficer, f.State().Alarms[id].Attended.By)

	resp = postForm(t, ts, "/alarms/A/1/resolve", url.Values{"outcome": {"false-alarm"}, "note": {"pressed by mistake"}, "officer": {"someone-else"}}, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))
	clr := f.lastEvent(t)
	assert.Equal(t, event.AlarmResolved, clr.Kind)
	assert.Equal(t, testOfficer, clr.Actor)
	assert.Equal(t, map[string]string{"alarm": "A/1", "outcome": "false-alarm", "note": "pressed by mistake"}, clr.Data)
	assert.False(t, f.State().Alarms[id].Active())
}

// TestResolvePageAsksForTheOutcome: Resolve… opens a page with the wing's
// outcomes and a note, and nothing is recorded until it is confirmed; an
// alarm that cannot be resolved yet says why instead.
func TestResolvePageAsksForTheOutcome(t *testing.T) {
	f := newFakeWing()
	staff := f.raise("A-STAFF", "staff-alarm", 1) // A/1
	call := f.raise("A1-01-CALL", "cell-call", 2) // A/2
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/alarms/A/1/resolve", http.StatusConflict)
	assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), "not acknowledged yet: acknowledge it first")

	f.ack(t, staff, "officer-7")
	before := f.recordCount()
	doc = getPage(t, ts, "/alarms/A/1/resolve", http.StatusOK)
	assert.Equal(t, before, f.recordCount(), "the page records nothing")
	page := doc.Find(`[data-testid="resolve-page"]`)
	assert.Contains(t, page.Find("h1").Text(), "Office staff alarm")
	assert.Contains(t, page.Text(), "Acknowledged by officer-7")
	var outcomes []string
	page.Find(`input[name="outcome"]`).Each(func(_ int, s *goquery.Selection) {
		outcomes = append(outcomes, s.AttrOr("value", "")+"="+strings.TrimSpace(s.Parent().Text()))
		_, required := s.Attr("required")
		assert.True(t, required, "an outcome must be chosen")
	})
	assert.Equal(t, []string{"assistance-given=Assistance given", "no-assistance-needed=No assistance needed", "false-alarm=False alarm",
		"referred-to-healthcare=Referred to healthcare", "fault-reported=Fault reported"}, outcomes)
	form := page.Find("form")
	assert.Equal(t, "/alarms/A/1/resolve", form.AttrOr("action", ""))
	assert.Equal(t, 1, form.Find(`[data-testid="resolve-note"]`).Length())
	assert.Equal(t, 1, form.Find(`[data-testid="resolve-confirm"]`).Length())

	resp := postForm(t, ts, "/alarms/A/1/resolve", url.Values{"note": {"no outcome"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="message"]`).Text(), "choose what was found")
	resp = postForm(t, ts, "/alarms/A/1/resolve", url.Values{"outcome": {"made-up"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, before, f.recordCount(), "refused: nothing recorded")

	// A cell call is resolved once attended at its door.
	f.ack(t, call, "officer-7")
	doc = getPage(t, ts, "/alarms/A/2/resolve", http.StatusConflict)
	assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), "has not been attended at the cell door")
	f.record(event.AlarmAttended, "A1-01-CALL", event.SystemActor, map[string]string{"alarm": "A/2", "how": wing.AttendedAtReset, "where": "A1-01"})
	doc = getPage(t, ts, "/alarms/A/2/resolve", http.StatusOK)
	assert.Contains(t, doc.Find(`[data-testid="resolve-page"]`).Text(), "Attended at the cell door A1-01 (reset key turned)")
	assert.Equal(t, http.StatusSeeOther, postForm(t, ts, "/alarms/A/2/resolve", url.Values{"outcome": {"assistance-given"}}, nil).StatusCode)
	getPage(t, ts, "/alarms/A/2/resolve", http.StatusConflict)
}

// TestCloseRemotely: a supervisor closes a cell call that was not
// attended at its door, with a reason: an exception. An officer is told
// that a supervisor does it.
func TestCloseRemotely(t *testing.T) {
	f := newFakeWing()
	call := f.raise("A1-01-CALL", "cell-call", 2) // A/1
	_, ts := serve(t, f)
	off := signIn(t, ts, "1001", "1111")
	doc := docOf(t, getAs(t, ts, off, "/alarms/A/1/close-remotely"))
	assert.Contains(t, doc.Find(`[data-testid="close-needs-supervisor"]`).Text(), "Only a supervisor")
	assert.Zero(t, doc.Find(`form[action="/alarms/A/1/close-remotely"]`).Length())

	sup := supervisor(t, ts)
	doc = docOf(t, getAs(t, ts, sup, "/alarms/A/1/close-remotely"))
	page := doc.Find(`[data-testid="close-remotely-page"]`)
	assert.Contains(t, page.Text(), "An exception")
	_, required := page.Find(`[data-testid="close-reason"]`).Attr("required")
	assert.True(t, required)

	before := f.recordCount()
	resp := postFormAs(t, ts, sup, "/alarms/A/1/close-remotely", url.Values{"reason": {"  "}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="message"]`).Text(), "give the reason")
	assert.Equal(t, before, f.recordCount())

	resp = postFormAs(t, ts, sup, "/alarms/A/1/close-remotely", url.Values{"reason": {"reset key broken, cell checked by radio"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	e := f.lastEvent(t)
	assert.Equal(t, event.AlarmClosedRemotely, e.Kind)
	assert.Equal(t, testOfficer, e.Actor)
	assert.Equal(t, map[string]string{"alarm": "A/1", "reason": "reset key broken, cell checked by radio"}, e.Data)
	assert.True(t, f.State().Alarms[call].Resolved.Remote)
}

func TestAlarmActionProblems(t *testing.T) {
	f := newFakeWing()
	cleared := f.raise("A1-01-CALL", "cell-call", 2)
	f.resolve(t, cleared, "officer-7", "")
	// An acknowledgement replicated before its raising: the alarm exists
	// but is not raised here yet.
	f.add(event.Event{Wing: "A", Wall: testNow, ClockTrusted: true, Kind: event.AlarmAcknowledged, Subject: "A1-02-CALL",
		Actor: "officer-7", Data: map[string]string{"alarm": "B/9"}})
	active := f.raise("A-STAFF", "staff-alarm", 1) // A/6
	f.raise("A1-02-CALL", "cell-call", 2)          // A/7
	f.add(event.Event{Wing: "B", Wall: testNow, ClockTrusted: true, Kind: event.DoorOpened, Subject: "B1-01", Actor: event.SystemActor})
	for range 8 {
		f.add(event.Event{Wing: "B", Wall: testNow, ClockTrusted: true, Kind: event.DoorClosed, Subject: "B1-01", Actor: event.SystemActor})
	}
	f.setSite(threeWingSite(f)) // A, B and C: B's newest held is B/9, C has sent nothing
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
		{"not an alarm id", "/alarms/A/zero/resolve", nil, nil, http.StatusNotFound, "does not name an alarm"},
		{"seq zero", "/alarms/A/0/resolve", nil, nil, http.StatusNotFound, "does not name an alarm"},
		{"already resolved: acknowledge", "/alarms/A/1/acknowledge", nil, nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"already resolved: resolve", "/alarms/A/1/resolve", url.Values{"outcome": {"false-alarm"}}, nil, http.StatusConflict, "Alarm A/1 has already been resolved"},
		{"not raised yet", "/alarms/B/9/acknowledge", nil, nil, http.StatusConflict, "Alarm B/9 has not been raised on this wing yet"},
		{"not received yet", "/alarms/C/3/acknowledge", nil, nil, http.StatusConflict, "Alarm C/3 has not reached this wing yet"},
		{"not received yet, past the newest held", "/alarms/B/10/acknowledge", nil, nil, http.StatusConflict, "Alarm B/10 has not reached this wing yet"},
		{"no such alarm of another wing", "/alarms/B/1/acknowledge", nil, nil, http.StatusNotFound, "There is no alarm B/1 on record"},
		{"not on the site", "/alarms/Z/1/acknowledge", nil, nil, http.StatusNotFound, "There is no alarm Z/1 on record"},
		{"not acknowledged: resolve", "/alarms/A/6/resolve", url.Values{"outcome": {"false-alarm"}}, nil, http.StatusConflict, "not acknowledged yet"},
		{"cell call: attend from the panel", "/alarms/A/7/attend", nil, nil, http.StatusConflict, "attended at the cell door only"},
		{"note too long", "/alarms/A/6/resolve", url.Values{"outcome": {"false-alarm"}, "note": {strings.Repeat("x", 257)}}, nil, http.StatusBadRequest, "the note has 257 characters; at most 200"},
		{"cross-site", "/alarms/A/6/resolve", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "came from another site"},
		{"other origin, no fetch metadata", "/alarms/A/6/acknowledge", nil,
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
	for _, path := range []string{"/alarms/A/1/resolve", "/alarms/A/99/resolve", "/alarms/C/3/close-remotely"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		assert.NotEqual(t, http.StatusOK, resp.StatusCode, "%s: nothing to resolve or close", path)
	}
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

// A card's version leaves out its ages, which the browser counts up: the
// same alarm a minute later is the same card, and a screen keeps it;
// acknowledged, it is another.
func TestAlarmCardVersionLeavesOutTheAges(t *testing.T) {
	f := newFakeWing()
	call := f.raise("A1-01-CALL", "cell-call", 2)
	srv, _ := serve(t, f)
	before := srv.view().cards()
	require.Len(t, before, 1)
	f.advance(time.Minute)
	later := srv.view().cards()
	require.Len(t, later, 1)
	require.NotEqual(t, before[0].Raised.Age.Text, later[0].Raised.Age.Text, "its age has moved on")
	assert.Equal(t, before[0].Version, later[0].Version)
	assert.True(t, later[0].same(before[0]))

	f.ack(t, call, "officer-7")
	acked := srv.view().cards()
	require.Len(t, acked, 1)
	assert.NotEqual(t, later[0].Version, acked[0].Version)
	assert.False(t, acked[0].same(later[0]))
}

// Every field of a card but its ages goes into its version: a field left
// out would leave a screen showing the card as it was before it changed.
func TestAlarmCardVersionCoversEveryField(t *testing.T) {
	base := alarmCard{ID: event.ID{Wing: "A", Seq: 1}, Priority: 1,
		Escalations: []escalationLine{{Reason: "unacknowledged", Text: "not acknowledged within 1 min", At: stamp{Clock: "10:01:00"}}}}
	copyOf := func() alarmCard {
		c := base
		c.Escalations = slices.Clone(base.Escalations)
		return c
	}
	want := base.version()
	leaves := 0
	var walk func(name string, typ reflect.Type, at func(reflect.Value) reflect.Value)
	walk = func(name string, typ reflect.Type, at func(reflect.Value) reflect.Value) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				if f.Type == reflect.TypeFor[since]() || name == "" && f.Name == "Version" {
					continue // the ages, which the browser counts up, and the version itself
				}
				walk(name+"."+f.Name, f.Type, func(v reflect.Value) reflect.Value { return at(v).Field(i) })
			}
			return
		case reflect.Slice:
			walk(name+"[0]", typ.Elem(), func(v reflect.Value) reflect.Value { return at(v).Index(0) })
			return
		}
		c := copyOf()
		leaf := at(reflect.ValueOf(&c).Elem())
		switch leaf.Kind() {
		case reflect.String:
			leaf.SetString(leaf.String() + "x")
		case reflect.Int:
			leaf.SetInt(leaf.Int() + 1)
		case reflect.Uint64:
			leaf.SetUint(leaf.Uint() + 1)
		case reflect.Bool:
			leaf.SetBool(!leaf.Bool())
		default:
			t.Fatalf("%s: a %s the test cannot change", name, leaf.Kind())
		}
		leaves++
		assert.NotEqual(t, want, c.version(), "changing %s changes the version", name)
	}
	walk("", reflect.TypeFor[alarmCard](), func(v reflect.Value) reflect.Value { return v })
	assert.Greater(t, leaves, 15)

	more := copyOf()
	more.Escalations = append(more.Escalations, base.Escalations[0])
	assert.NotEqual(t, want, more.version(), "another escalation changes the version")
}
