package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"wingnode/appliance/event"
)

// footprint is everything the fake wing would change for an action: its
// records, its sign-in room, its roster and the site's lockdown.
func (f *fakeWing) footprint() string {
	return fmt.Sprint(f.recordCount(), f.signIns(), f.rosterWithPINs(), f.Site().Lockdown)
}

// postBody posts body as contentType to path from browser b, as the
// screen's script does (the token in the header, unless noHeader), and
// returns the status and the answer.
func postBody(t *testing.T, ts *httptest.Server, b tab, path, contentType, body string, noHeader bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", ts.URL)
	if !noHeader {
		req.Header.Set(csrfHeader, b.token)
	}
	b.add(req)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(got)
}

// screenForms are the screens' forms, each with fields that it takes.
var screenForms = []struct {
	path string
	form url.Values
}{
	{"/alarms/A/1/acknowledge", nil},
	{"/alarms/A/1/attend", nil},
	{"/alarms/A/1/resolve", url.Values{"outcome": {"assistance-given"}, "note": {"all well"}}},
	{"/alarms/A/1/close-remotely", url.Values{"reason": {"reset key broken"}}},
	{"/regime", url.Values{"regime": {"night"}}},
	{"/walktest/start", url.Values{"minutes": {"1"}, "scope": {"wing"}}},
	{"/walktest/end", nil},
	{"/site/lockdown/declare", url.Values{"reason": {"fight"}, "confirm": {"yes"}}},
	{"/site/lockdown/end", url.Values{"confirm": {"yes"}}},
	{"/signout", url.Values{"reason": {SignOutSwitch}}},
	{"/officers/add", url.Values{"officer": {"3001"}, "role": {"officer"}, "pin": {"1357"}}},
	{"/officers/1001/remove", nil},
	{"/officers/1001/pin", url.Values{"pin": {"8642"}}},
	{"/officers/1001/role", url.Values{"role": {"supervisor"}}},
	{"/checks/A1-01", url.Values{"outcome": {"seen"}, "note": {"asleep"}}},
	{"/checks/A1-01/plan", url.Values{"day_per_hour": {"1"}, "night_per_hour": {"1"}, "conversations_per_day": {"1"}, "max_gap_minutes": {"60"}}},
	{"/checks/A1-01/plan/end", url.Values{"reason": {"reviewed"}}},
	{"/roll/count/1", url.Values{"counted": {"3"}}},
	{"/roll/expected", url.Values{"occ.A1-01": {"1"}}},
	{"/roll/sign", nil},
	{"/handover/sign", url.Values{"from": {"2026-11-26T07:00:00Z"}, "to": {"2026-11-26T19:00:00Z"}, "digest": {strings.Repeat("0", 64)}}},
	{"/handovers/A/1/read", nil},
	{"/records/A/1/correct", url.Values{"reason": {"recorded in error"}}},
}

// TestScreenFormsRefuseBodiesTheyCannotRead: a form body that is too
// large is refused with 413, one that is not a form with 400, on every
// screen's form and the sign-in pad, the token in the header (as the
// screen's script sends it) or in the form; nothing is done.
func TestScreenFormsRefuseBodiesTheyCannotRead(t *testing.T) {
	f := newFakeWing()
	f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	forms := append(screenForms, struct {
		path string
		form url.Values
	}{"/signin", url.Values{"officer": {"1001"}, "pin": {"1111"}, "next": {"/"}}})
	pad := "&pad=" + strings.Repeat("x", maxFormBody)
	for _, c := range forms {
		b := sup
		if c.path == "/signin" {
			b = visitor(t, ts)
		}
		body := c.form.Encode()
		withToken := url.Values{csrfField: {b.token}}.Encode() + "&" + body
		for _, bc := range []struct {
			name, contentType, body string
			noHeader                bool
			status                  int
			says                    string
		}{
			{"too large", "application/x-www-form-urlencoded", body + pad, false, http.StatusRequestEntityTooLarge, "too much was sent"},
			{"too large, token in the form", "application/x-www-form-urlencoded", withToken + pad, true, http.StatusRequestEntityTooLarge, "too much was sent"},
			{"bad escape", "application/x-www-form-urlencoded", body + "&note=%zz", false, http.StatusBadRequest, "could not be read"},
			{"bad escape, token in the form", "application/x-www-form-urlencoded", withToken + "&%zz", true, http.StatusBadRequest, "could not be read"},
			{"not a form", "application/json", `{"minutes": 1}`, false, http.StatusBadRequest, "could not be read"},
			{"multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"minutes\"\r\n\r\n1\r\n--x--\r\n", false, http.StatusBadRequest, "could not be read"},
			{"no content type", "", body + "&x=1", false, http.StatusBadRequest, "could not be read"},
		} {
			t.Run(c.path+"/"+bc.name, func(t *testing.T) {
				before := f.footprint()
				status, page := postBody(t, ts, b, c.path, bc.contentType, bc.body, bc.noHeader)
				assert.Equal(t, bc.status, status)
				doc, err := goquery.NewDocumentFromReader(strings.NewReader(page))
				require.NoError(t, err)
				msg := doc.Find(`[data-testid="message"]`)
				assert.Contains(t, msg.Text(), bc.says, "a page that says why")
				assert.Contains(t, msg.Text(), "nothing was recorded")
				assert.Equal(t, before, f.footprint(), "nothing done")
			})
		}
	}
}

// TestPaddedWalkTestIsRefused: a walk test asked for 1 minute in a form
// padded past the limit is refused, not started for the default 30.
func TestPaddedWalkTestIsRefused(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	body := url.Values{"minutes": {"1"}, "scope": {"wing"}, "pad": {strings.Repeat("x", maxFormBody)}}.Encode()
	status, _ := postBody(t, ts, sup, "/walktest/start", "application/x-www-form-urlencoded", body, false)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	assert.Zero(t, f.recordCount(), "no walk test started")
	_, running := f.State().WalkTests["A"]
	assert.False(t, running)

	status, _ = postBody(t, ts, sup, "/walktest/start", "application/x-www-form-urlencoded", url.Values{"minutes": {"1"}, "scope": {"wing"}}.Encode(), false)
	require.Equal(t, http.StatusSeeOther, status)
	e := f.lastEvent(t)
	assert.Equal(t, event.WalkTestStarted, e.Kind)
	assert.Equal(t, e.Wall.Add(time.Minute).UTC().Format(time.RFC3339), e.Data["until"], "the form unpadded: 1 minute")
}

// TestResolveWithOversizedNoteIsRefused: an alarm resolved with a note
// that makes the form too large is refused, and the alarm stays active,
// its note not lost in a resolve without it.
func TestResolveWithOversizedNoteIsRefused(t *testing.T) {
	f := newFakeWing()
	id := f.raise("A-STAFF", "staff-alarm", 1)
	f.ack(t, id, "officer-7")
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	before := f.recordCount()
	for _, noHeader := range []bool{false, true} {
		form := url.Values{"outcome": {"assistance-given"}, "note": {strings.Repeat("n", maxFormBody)}}
		if noHeader {
			form.Set(csrfField, sup.token)
		}
		status, page := postBody(t, ts, sup, "/alarms/"+id.String()+"/resolve", "application/x-www-form-urlencoded", form.Encode(), noHeader)
		assert.Equal(t, http.StatusRequestEntityTooLarge, status)
		assert.Contains(t, page, "nothing was recorded")
		assert.Equal(t, before, f.recordCount())
		assert.Nil(t, f.State().Alarms[id].Resolved, "the alarm stays active")
	}
	// A note too long for the rule for text, in a form that is not.
	form := url.Values{"outcome": {"assistance-given"}, "note": {strings.Repeat("n", event.MaxNote+1)}}
	status, _ := postBody(t, ts, sup, "/alarms/"+id.String()+"/resolve", "application/x-www-form-urlencoded", form.Encode(), false)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Nil(t, f.State().Alarms[id].Resolved, "the alarm stays active")
	assert.Equal(t, before, f.recordCount())
}

// apiActions are the API's actions, each with a body that it takes.
var apiActions = []struct{ path, body string }{ // the path as docs/openapi.yaml names it: templateOf
	{"/api/v1/alarms/A/1/acknowledge", `{}`},
	{"/api/v1/alarms/A/1/attend", `{}`},
	{"/api/v1/alarms/A/1/resolve", `{"outcome": "assistance-given", "note": "all well"}`},
	{"/api/v1/alarms/A/1/close-remotely", `{"reason": "reset key broken"}`},
	{"/api/v1/regime", `{"regime": "night"}`},
	{"/api/v1/walktest/start", `{"minutes": 1}`},
	{"/api/v1/walktest/end", `{}`},
	{"/api/v1/site/lockdown", `{"active": true, "reason": "fight"}`},
	{"/api/v1/signin", `{"officer": "1001", "pin": "1111"}`},
	{"/api/v1/checks", `{"cell": "A1-01", "outcome": "seen"}`},
	{"/api/v1/plans/A1-01", `{"day_per_hour": 1, "night_per_hour": 1, "conversations_per_day": 1, "max_gap_minutes": 60}`},
	{"/api/v1/plans/A1-01/end", `{"reason": "reviewed"}`},
	{"/api/v1/roll/expected", `{"cells": {"A1-01": {"occupants": 1}}}`},
	{"/api/v1/roll/counts", `{"landing": "1", "counted": 3}`},
	{"/api/v1/roll/sign", `{}`},
	{"/api/v1/handovers", `{"from": "2026-11-26T07:00:00Z", "to": "2026-11-26T19:00:00Z", "digest": "` + strings.Repeat("0", 64) + `"}`},
	{"/api/v1/handovers/A/1/read", `{}`},
	{"/api/v1/records/A/1/correct", `{"reason": "recorded in error"}`},
}

// TestAPIRefusesBodiesItCannotRead: on every API action, a body larger
// than its limit is refused with 413, one that is not JSON, has more after
// its object, or names a field the action does not take with 400 and a
// sentence; nothing is done.
func TestAPIRefusesBodiesItCannotRead(t *testing.T) {
	f := newFakeWing()
	f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	for _, c := range apiActions {
		obj := strings.TrimSuffix(c.body, "}")
		sep := ", "
		if obj == "{" {
			sep = ""
		}
		for _, bc := range []struct {
			name, body string
			status     int
			says       string
		}{
			{"too large", obj + sep + `"pad": "` + strings.Repeat("x", maxShiftBody) + `"}`, http.StatusRequestEntityTooLarge, "body: larger than"},
			{"too large after the object", c.body + strings.Repeat(" ", maxShiftBody), http.StatusRequestEntityTooLarge, "body: larger than"},
			{"not JSON", "minutes=1", http.StatusBadRequest, "body: not JSON"},
			{"cut short", obj, http.StatusBadRequest, "body: "},
			{"trailing object", c.body + `{"minutes": 30}`, http.StatusBadRequest, "body: more follows the JSON value"},
			{"trailing text", c.body + " x", http.StatusBadRequest, "body: more follows the JSON value"},
			{"unknown field", obj + sep + `"officer_name": "forged"}`, http.StatusBadRequest, "officer_name: not a field of this request"},
		} {
			t.Run(c.path+"/"+bc.name, func(t *testing.T) {
				assert.True(t, documented(t, templateOf(c.path), bc.status), "docs/openapi.yaml lists %d for POST %s", bc.status, templateOf(c.path))
				before := f.footprint()
				status, body := postBody(t, ts, sup, c.path, "application/json", bc.body, false)
				assert.Equal(t, bc.status, status)
				var got map[string]string
				require.NoError(t, json.Unmarshal([]byte(body), &got), body)
				assert.True(t, strings.HasPrefix(got["error"], bc.says), "%q", got["error"])
				assert.Equal(t, before, f.footprint(), "nothing done")
			})
		}
	}
}

// TestAPIAnswersItsRefusalsAsJSON: a refused body is answered as the
// API's JSON error, whatever route of the API it was sent to.
func TestAPIAnswersItsRefusalsAsJSON(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	status, body := postBody(t, ts, sup, "/api/v1/regime", "application/json", `{"regime": "night"}`+strings.Repeat(" ", maxActionBody), false)
	assert.Equal(t, http.StatusRequestEntityTooLarge, status)
	var got map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, "body: larger than 8 KiB; nothing was done. Send {\"regime\": \"unlock\"}, \"lockup\" or \"night\".", got["error"])
	assert.Zero(t, f.recordCount())
}

// templateOf is an API path as docs/openapi.yaml names it.
func templateOf(path string) string {
	for _, r := range []struct{ from, to string }{
		{"/alarms/A/1/", "/alarms/{wing}/{seq}/"}, {"/handovers/A/1/", "/handovers/{wing}/{seq}/"},
		{"/records/A/1/", "/records/{wing}/{seq}/"}, {"/plans/A1-01", "/plans/{cell}"},
	} {
		path = strings.Replace(path, r.from, r.to, 1)
	}
	return path
}

// documented reports whether docs/openapi.yaml lists status among the
// answers of POST path.
func documented(t *testing.T, path string, status int) bool {
	t.Helper()
	b, err := os.ReadFile("../docs/openapi.yaml")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]any `yaml:"paths"`
	}
	require.NoError(t, yaml.Unmarshal(b, &doc))
	post, _ := doc.Paths[path]["post"].(map[string]any)
	responses, _ := post["responses"].(map[string]any)
	_, ok := responses[strconv.Itoa(status)]
	return ok
}
