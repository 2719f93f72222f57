package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// setSite replaces what the fake's Site reports.
func (f *fakeWing) setSite(st SiteStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.site = &st
}

// raiseOn records an alarm raised on another wing at the given wall time,
// as replication delivers it.
func (f *fakeWing) raiseOn(w, point, kind string, priority int, at time.Time) event.ID {
	return f.add(event.Event{Wing: w, Wall: at, ClockTrusted: true, Kind: event.AlarmRaised, Subject: point, Actor: event.SystemActor,
		Data: map[string]string{"point_kind": kind, "priority": strconv.Itoa(priority)}}).ID()
}

// threeWingSite is A (this wing, a voter), B (connected, the leader) and
// C (unreachable, a non-voter), with data 4 s, 12 min and 3 h old.
func threeWingSite(f *fakeWing) SiteStatus {
	return SiteStatus{
		Site: "HMP Example", Wing: "A", Leader: "B",
		Wings: []WingLink{
			{Wing: "C", Link: LinkUnreachable, Voter: false, Committed: 77, LastEvent: f.ago(3*time.Hour + 5*time.Minute)},
			{Wing: "A", Link: LinkLocal, Voter: true, Committed: 1204, LastEvent: f.ago(4 * time.Second)},
			{Wing: "B", Link: LinkConnected, Voter: true, Committed: 988, LastEvent: f.ago(12 * time.Minute)},
		},
	}
}

// siteAlarmsWing has alarms on this wing and on three others, raised
// oldest first in this order: B cell call (8 min), C staff alarm (6 min,
// acknowledged on C), A cell call, D cell call (3 min), B staff alarm
// (2 min), C cell call (1 min, later cleared).
func siteAlarmsWing() *fakeWing {
	f := newFakeWing()
	f.advance(10 * time.Minute)
	f.raiseOn("B", "B1-04-CALL", "cell-call", 2, f.ago(8*time.Minute))
	cStaff := f.raiseOn("C", "C-STAFF", "staff-alarm", 1, f.ago(6*time.Minute))
	f.raise("A1-01-CALL", "cell-call", 2)
	f.raiseOn("D", "D2-11-CALL", "cell-call", 2, f.ago(3*time.Minute))
	f.raiseOn("B", "B-STAFF", "staff-alarm", 1, f.ago(2*time.Minute))
	gone := f.raiseOn("C", "C3-01-CALL", "cell-call", 2, f.ago(time.Minute))
	f.add(event.Event{Wing: "C", Wall: f.ago(0), ClockTrusted: true, Kind: event.AlarmAcknowledged, Subject: "C-STAFF", Actor: "officer-31",
		Data: map[string]string{"alarm": cStaff.String()}})
	f.add(event.Event{Wing: "C", Wall: f.ago(0), ClockTrusted: true, Kind: event.AlarmCleared, Subject: "C3-01-CALL", Actor: "officer-31",
		Data: map[string]string{"alarm": gone.String()}})
	return f
}

func TestSiteBannerShowsOtherWingsAlarmsOnEveryScreen(t *testing.T) {
	f := siteAlarmsWing()
	_, ts := serve(t, f)

	for _, path := range []string{"/", "/events", "/walktest", "/site"} {
		doc := getPage(t, ts, path, http.StatusOK)
		banner := doc.Find(`[data-testid="site-alarms"]`)
		require.Equal(t, 1, banner.Length(), path)
		assert.Equal(t, "4", banner.AttrOr("data-count", ""), "%s: four active alarms on other wings", path)
		assert.Equal(t, []string{"site-alarm-C-1", "site-alarm-B-2", "site-alarm-B-1"}, testIDs(banner.Find("li.site-alarm")),
			"%s: priority first, then the oldest; three at most; cleared alarms and this wing's left out", path)
		assert.Contains(t, banner.Find(`[data-testid="site-alarms-more"]`).Text(), "+1 more on Site", path)
		assert.Contains(t, banner.Text(), "each wing acknowledges its own alarms", path)
		assert.Zero(t, banner.Find("button, form, a").Length(), "%s: nothing to act on here", path)
	}

	doc := getPage(t, ts, "/", http.StatusOK)
	staff := doc.Find(`[data-testid="site-alarm-C-1"]`)
	assert.Equal(t, "C", staff.Find(".wing").Text())
	assert.Equal(t, "C-STAFF", staff.Find(".point").Text(), "the point's id: it is not in this wing's layout")
	assert.Equal(t, "Staff alarm", staff.Find(".kind").Text())
	assert.Equal(t, "6 min", staff.Find(".age").Text())
	assert.Equal(t, "true", staff.AttrOr("data-acknowledged", ""), "acknowledged on its own wing")
	cell := doc.Find(`[data-testid="site-alarm-B-1"]`)
	assert.Equal(t, "B1-04-CALL", cell.Find(".point").Text())
	assert.Equal(t, "Cell call", cell.Find(".kind").Text())
	assert.Equal(t, "8 min", cell.Find(".age").Text())
	assert.Equal(t, "false", cell.AttrOr("data-acknowledged", ""))

	assert.Equal(t, []string{"alarm-A-1"}, testIDs(doc.Find("#alarms article")), "the wing's own alarm list: its own alarms only")
	assert.Zero(t, doc.Find(`[data-testid="site-alarms"] [data-testid="site-alarm-A-1"]`).Length(), "this wing's own alarm is not in the banner")

	list := getPage(t, ts, "/site", http.StatusOK).Find(`[data-testid="site-alarm-list"]`)
	assert.Equal(t, []string{"site-alarm-C-1", "site-alarm-B-2", "site-alarm-B-1", "site-alarm-D-1"}, testIDs(list.Find("li.site-alarm")),
		"the Site screen lists every one")
}

func TestSiteBannerIsEmptyWithoutOtherWingsAlarms(t *testing.T) {
	f := newFakeWing()
	f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)
	banner := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="site-alarms"]`)
	assert.Equal(t, "0", banner.AttrOr("data-count", ""))
	assert.Empty(t, strings.TrimSpace(banner.Text()))
}

func TestIsolatedBannerOnEveryScreen(t *testing.T) {
	f := siteAlarmsWing()
	st := threeWingSite(f)
	st.Isolated, st.IsolatedSince, st.Waiting, st.Leader = true, f.ago(42*time.Minute), 312, ""
	f.setSite(st)
	_, ts := serve(t, f)

	want := "Isolated from the site since " + clockTime(f.ago(42*time.Minute)) + " — 312 events waiting to be shared; this wing keeps recording."
	for _, path := range []string{"/", "/events", "/walktest", "/site"} {
		doc := getPage(t, ts, path, http.StatusOK)
		banner := doc.Find(`[data-testid="isolation-banner"]`)
		assert.Equal(t, "true", banner.AttrOr("data-isolated", ""), path)
		assert.Equal(t, want, strings.Join(strings.Fields(banner.Text()), " "), path)
		assert.Equal(t, "status", banner.AttrOr("role", ""), "%s: calm, not an alert: recording goes on", path)
		_, hidden := doc.Find(`[data-testid="recording-banner"]`).Attr("hidden")
		assert.True(t, hidden, "%s: the red banner is for recording stopping", path)
		assert.Contains(t, doc.Find(`[data-testid="site-alarms"] .label`).Text(), "as last heard", path)
		assert.Equal(t, "isolated", doc.Find(`[data-testid="site-link"]`).AttrOr("data-note", ""), path)
	}

	st.Waiting = 1
	f.setSite(st)
	text := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="isolation-banner"]`).Text()
	assert.Contains(t, text, "— 1 event waiting to be shared")

	f.setSite(threeWingSite(f))
	doc := getPage(t, ts, "/", http.StatusOK)
	banner := doc.Find(`[data-testid="isolation-banner"]`)
	assert.Equal(t, "false", banner.AttrOr("data-isolated", ""))
	assert.Empty(t, strings.TrimSpace(banner.Text()))
	assert.Equal(t, "1 unreachable", doc.Find(`[data-testid="site-link"]`).AttrOr("data-note", ""))
}

func TestSitePageListsEveryWing(t *testing.T) {
	f := newFakeWing()
	f.setSite(threeWingSite(f))
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "/site", doc.Find(`nav [data-testid="site-link"]`).AttrOr("href", ""), "the nav opens the Site screen")

	doc = getPage(t, ts, "/site", http.StatusOK)
	assert.Equal(t, "site", doc.Find("#live-status").AttrOr("data-page", ""), "the Site screen follows the live stream")
	assert.Contains(t, doc.Find(".site-status h1").Text(), "HMP Example")
	assert.Equal(t, "Leader: B", strings.Join(strings.Fields(doc.Find(`[data-testid="site-leader"]`).Text()), " "))
	rows := doc.Find(`[data-testid="site-wings"] tbody tr`)
	assert.Equal(t, []string{"site-wing-A", "site-wing-B", "site-wing-C"}, testIDs(rows), "this wing first, then the others by id")
	for _, c := range []struct {
		wing, link, linkText, voter, vote, age, committed string
	}{
		{"A", "local", "this wing", "true", "voter", "4 s", "1204"},
		{"B", "connected", "connected", "true", "voter · leader", "12 min", "988"},
		{"C", "unreachable", "UNREACHABLE", "false", "non-voter", "3 h 05", "77"},
	} {
		row := doc.Find(`[data-testid="site-wing-` + c.wing + `"]`)
		assert.Equal(t, c.link, row.AttrOr("data-link", ""), c.wing)
		assert.Equal(t, c.linkText, strings.TrimSpace(row.Find(".link").Text()), c.wing)
		assert.Equal(t, c.voter, row.AttrOr("data-voter", ""), c.wing)
		assert.Equal(t, c.vote, strings.Join(strings.Fields(row.Find(".vote").Text()), " "), c.wing)
		assert.Equal(t, c.age, strings.TrimSpace(row.Find(".data-age").Text()), c.wing)
		assert.Equal(t, c.committed, row.Find(".committed").Text(), c.wing)
	}
	panel := doc.Find(`[data-testid="lockdown-panel"]`)
	assert.Equal(t, "false", panel.AttrOr("data-active", ""))
	assert.Equal(t, "/site/lockdown/declare", panel.Find("form").AttrOr("action", ""))
	assert.Equal(t, 1, panel.Find(`input[name="reason"]`).Length())
	assert.Equal(t, 1, panel.Find(`[data-testid="lockdown-declare"]`).Length())
	assert.Zero(t, panel.Find(`[data-testid="lockdown-end"]`).Length())
	assert.Contains(t, panel.Text(), "A supervisor signs in to declare or end a lockdown", "signed out")
	signedIn, err := goquery.NewDocumentFromReader(getAs(t, ts, supervisor(t, ts), "/site").Body)
	require.NoError(t, err)
	assert.Contains(t, signedIn.Find(`[data-testid="lockdown-panel"]`).Text(), "Recorded as "+testOfficer)
	assert.Equal(t, "None.", strings.TrimSpace(doc.Find(`[data-testid="site-alarm-list"] .empty`).Text()))
	assert.Zero(t, doc.Find(`[data-testid="site-rollout"]`).Length(), "no rollout, no line")
}

func TestSitePageShowsTheFirmwareRollout(t *testing.T) {
	f := newFakeWing()
	st := threeWingSite(f)
	st.Rollout = &firmware.Rollout{Build: 8, Display: "2026.12.1", Digest: "ab", Size: 5, Holder: "A", Order: []string{"A", "B", "C"}, Done: []string{"A"}}
	f.setSite(st)
	_, ts := serve(t, f)
	line := func() string {
		return strings.TrimSpace(getPage(t, ts, "/site", http.StatusOK).Find(`[data-testid="site-rollout"]`).Text())
	}
	assert.Equal(t, "Firmware build 8 (2026.12.1): rolling out, 1 of 3 wings run it; wing B is installing it.", line())
	assert.Equal(t, map[string]any{"build": 8.0, "display": "2026.12.1", "order": []any{"A", "B", "C"}, "done": []any{"A"}, "next": "B"},
		getJSON(t, ts, "/api/v1/site", http.StatusOK)["rollout"], "where the rollout is; the bundle's digest, size and holder are site IT's")

	st.Rollout = &firmware.Rollout{Build: 8, Order: []string{"A", "B", "C"}, Done: []string{"A"}, Stopped: "wing B: came back on build 7 after trying build 8"}
	f.setSite(st)
	assert.Equal(t, "Firmware build 8: rollout stopped, 1 of 3 wings run it. wing B: came back on build 7 after trying build 8.", line())

	st.Rollout = &firmware.Rollout{Build: 8, Order: []string{"A", "B", "C"}, Done: []string{"A", "B", "C"}}
	f.setSite(st)
	assert.Equal(t, "Firmware build 8: every wing runs it.", line())
	assert.Equal(t, []any{"A", "B", "C"}, getJSON(t, ts, "/api/v1/site", http.StatusOK)["rollout"].(map[string]any)["done"])
}

func TestSitePageOfAWingOnItsOwn(t *testing.T) {
	_, ts := serve(t, newFakeWing()) // the fake's default: one wing, local
	doc := getPage(t, ts, "/site", http.StatusOK)
	assert.Contains(t, doc.Find(`[data-testid="site-leader"]`).Text(), "not part of a site yet")
	assert.Equal(t, []string{"site-wing-A"}, testIDs(doc.Find(`[data-testid="site-wings"] tbody tr`)))
	assert.Equal(t, "no events", strings.TrimSpace(doc.Find(`[data-testid="site-age-A"]`).Text()))
	assert.Equal(t, "", doc.Find(`[data-testid="site-link"]`).AttrOr("data-note", ""), "nothing wrong to say")
}

func TestLockdownFromTheScreen(t *testing.T) {
	f := newFakeWing()
	f.setSite(threeWingSite(f))
	_, ts := serve(t, f)

	// Declare asks to confirm first, keeping the reason.
	resp := postForm(t, ts, "/site/lockdown/declare", url.Values{"reason": {"fight on B2 landing"}}, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	require.NoError(t, err)
	confirm := doc.Find(`[data-testid="lockdown-confirm"]`)
	assert.Contains(t, confirm.Find("h1").Text(), "Declare a site lockdown?")
	assert.Equal(t, "fight on B2 landing", confirm.Find(`input[name="reason"]`).AttrOr("value", ""))
	yes := confirm.Find(`[data-testid="lockdown-confirm-yes"]`)
	assert.Equal(t, "confirm", yes.AttrOr("name", ""))
	assert.Equal(t, "yes", yes.AttrOr("value", ""))
	assert.Equal(t, "/site", confirm.Find(`[data-testid="lockdown-cancel"]`).AttrOr("href", ""))
	assert.False(t, f.Site().Lockdown.Active, "nothing declared before the officer confirms")

	resp = postForm(t, ts, "/site/lockdown/declare", url.Values{"reason": {" fight on B2 landing "}, "confirm": {"yes"}, "officer": {"someone-else"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/site", resp.Header.Get("Location"))
	ld := f.Site().Lockdown
	assert.Equal(t, wing.Lockdown{Active: true, Reason: "fight on B2 landing", By: testOfficer, Since: f.ago(0)}, ld,
		"the configured officer, not anything the browser says")

	for _, path := range []string{"/", "/events", "/walktest", "/site"} {
		banner := getPage(t, ts, path, http.StatusOK).Find(`[data-testid="lockdown-banner"]`)
		assert.Equal(t, "true", banner.AttrOr("data-active", ""), path)
		assert.Equal(t, "SITE LOCKDOWN since "+clockTime(ld.Since)+" — fight on B2 landing — declared by "+testOfficer,
			strings.Join(strings.Fields(banner.Text()), " "), path)
	}
	doc = getPage(t, ts, "/site", http.StatusOK)
	panel := doc.Find(`[data-testid="lockdown-panel"]`)
	assert.Equal(t, "true", panel.AttrOr("data-active", ""))
	assert.Equal(t, "/site/lockdown/end", panel.Find("form").AttrOr("action", ""))
	assert.Equal(t, 1, panel.Find(`[data-testid="lockdown-end"]`).Length())
	assert.Equal(t, "LOCKDOWN", doc.Find(`[data-testid="site-link"]`).AttrOr("data-note", ""))

	resp = postForm(t, ts, "/site/lockdown/end", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err = goquery.NewDocumentFromReader(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, doc.Find(`[data-testid="lockdown-confirm"] h1`).Text(), "End the site lockdown?")
	assert.True(t, f.Site().Lockdown.Active)

	resp = postForm(t, ts, "/site/lockdown/end", url.Values{"reason": {"all clear"}, "confirm": {"yes"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, wing.Lockdown{Active: false, Reason: "all clear", By: testOfficer, Since: f.ago(0)}, f.Site().Lockdown)
	banner := getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="lockdown-banner"]`)
	assert.Equal(t, "false", banner.AttrOr("data-active", ""))
	assert.Empty(t, strings.TrimSpace(banner.Text()))
}

func TestLockdownProblemsOnTheScreen(t *testing.T) {
	f := newFakeWing()
	st := threeWingSite(f)
	st.Isolated = true
	f.setSite(st)
	_, ts := serve(t, f)

	assert.Contains(t, getPage(t, ts, "/site", http.StatusOK).Find(`[data-testid="lockdown-isolated"]`).Text(),
		"use the site's radio or phone procedure", "an isolated wing says so before the officer tries")

	for _, c := range []struct {
		name string
		err  error
		says string
	}{
		{"unreachable", fmt.Errorf("sync: propose lockdown: %w", ErrSiteUnreachable), "this wing cannot reach enough of the site to agree it"},
		{"timeout", fmt.Errorf("sync: %w", context.DeadlineExceeded), "the site did not agree it within 10 s"},
		{"other", errors.New("this wing is not part of a site yet"), "(this wing is not part of a site yet)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.mu.Lock()
			f.lockdownErr = c.err
			f.mu.Unlock()
			resp := postForm(t, ts, "/site/lockdown/declare", url.Values{"reason": {"smoke in the servery"}, "confirm": {"yes"}}, nil)
			require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
			doc, err := goquery.NewDocumentFromReader(resp.Body)
			require.NoError(t, err)
			problem := doc.Find(`[data-testid="lockdown-problem"]`).Text()
			assert.Contains(t, problem, "The site lockdown could not be declared")
			assert.Contains(t, problem, c.says)
			assert.Contains(t, problem, "Nothing has changed on any wing. Raise the lockdown by radio or phone")
			assert.Equal(t, "smoke in the servery", doc.Find(`[data-testid="lockdown-panel"] input[name="reason"]`).AttrOr("value", ""),
				"the reason is kept for another try")
			assert.False(t, f.Site().Lockdown.Active)
		})
	}

	f.mu.Lock()
	f.lockdownErr = nil
	f.mu.Unlock()
	for _, c := range []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		says   string
	}{
		{"cross-site", url.Values{"confirm": {"yes"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "came from another site"},
		{"reason too long", url.Values{"confirm": {"yes"}, "reason": {strings.Repeat("x", 257)}}, nil, http.StatusBadRequest, "the reason has 257 characters; at most 200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := postForm(t, ts, "/site/lockdown/declare", c.form, c.header)
			require.Equal(t, c.status, resp.StatusCode)
			doc, err := goquery.NewDocumentFromReader(resp.Body)
			require.NoError(t, err)
			assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), c.says)
			assert.False(t, f.Site().Lockdown.Active)
		})
	}
}

func TestAPISite(t *testing.T) {
	f := newFakeWing()
	st := threeWingSite(f)
	st.Isolated, st.IsolatedSince, st.Waiting, st.Leader = true, f.ago(time.Hour), 312, ""
	st.Lockdown = wing.Lockdown{Active: true, Reason: "fight", By: "officer-7", Since: f.ago(2 * time.Hour)}
	f.setSite(st)
	_, ts := serve(t, f)

	got := getJSON(t, ts, "/api/v1/site", http.StatusOK)
	at := func(d time.Duration) string { return f.ago(d).Format(time.RFC3339) }
	assert.Equal(t, map[string]any{
		"site": "HMP Example", "wing": "A", "leader": "", "isolated": true, "isolated_since": at(time.Hour), "waiting": float64(312),
		"lockdown": map[string]any{"active": true, "reason": "fight", "by": "officer-7", "since": at(2 * time.Hour)},
		"wings": []any{
			map[string]any{"wing": "C", "link": "unreachable", "voter": false, "committed": float64(77), "last_event": at(3*time.Hour + 5*time.Minute)},
			map[string]any{"wing": "A", "link": "local", "voter": true, "committed": float64(1204), "last_event": at(4 * time.Second)},
			map[string]any{"wing": "B", "link": "connected", "voter": true, "committed": float64(988), "last_event": at(12 * time.Minute)},
		},
	}, got)

	f.setSite(SiteStatus{Wing: "A"})
	got = getJSON(t, ts, "/api/v1/site", http.StatusOK)
	assert.Equal(t, map[string]any{"site": "", "wing": "A", "leader": "", "isolated": false, "waiting": float64(0),
		"lockdown": map[string]any{"active": false}, "wings": []any{}}, got, "empty lists are [], zero times left out")
}

// postNoContent posts a JSON body as the test supervisor and returns the
// status and, when there is one, the decoded body.
func postNoContent(t *testing.T, ts *httptest.Server, path, body string, header http.Header) (int, map[string]any) {
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
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode == http.StatusNoContent {
		assert.Empty(t, b)
		return resp.StatusCode, nil
	}
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	return resp.StatusCode, v
}

func TestAPILockdown(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)

	status, got := postNoContent(t, ts, "/api/v1/site/lockdown", `{"active": true, "reason": "fire alarm, east block", "officer": "`+testOfficer+`"}`, nil)
	require.Equal(t, http.StatusNoContent, status, got)
	assert.Equal(t, wing.Lockdown{Active: true, Reason: "fire alarm, east block", By: testOfficer, Since: f.ago(0)}, f.Site().Lockdown)
	lockdown := getJSON(t, ts, "/api/v1/site", http.StatusOK)["lockdown"]
	assert.Equal(t, map[string]any{"active": true, "reason": "fire alarm, east block", "by": testOfficer, "since": f.ago(0).Format(time.RFC3339)}, lockdown)

	status, got = postNoContent(t, ts, "/api/v1/site/lockdown", `{"active": false}`, nil)
	require.Equal(t, http.StatusNoContent, status, got)
	assert.False(t, f.Site().Lockdown.Active)

	for _, c := range []struct {
		name, body string
		header     http.Header
		status     int
		prefix     string
	}{
		{"empty", "", nil, http.StatusBadRequest, "body: empty."},
		{"not JSON", "active=true", nil, http.StatusBadRequest, "body: "},
		{"unknown field", `{"active": true, "minutes": 5}`, nil, http.StatusBadRequest, "minutes: not a field"},
		{"no active", `{"reason": "fight"}`, nil, http.StatusBadRequest, "active: "},
		{"another officer", `{"active": true, "officer": "officer-9"}`, nil, http.StatusBadRequest, "officer: "},
		{"reason too long", `{"active": true, "reason": "` + strings.Repeat("x", 300) + `"}`, nil, http.StatusBadRequest, "reason: text refused: the reason has 300 characters"},
		{"cross-site", `{"active": true}`, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "This request came from another site's page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, got := postNoContent(t, ts, "/api/v1/site/lockdown", c.body, c.header)
			assert.Equal(t, c.status, status)
			assert.True(t, strings.HasPrefix(got["error"].(string), c.prefix), "%q", got["error"])
			assert.False(t, f.Site().Lockdown.Active, "nothing declared")
		})
	}

	f.mu.Lock()
	f.lockdownErr = fmt.Errorf("sync: %w", ErrSiteUnreachable)
	f.mu.Unlock()
	status, got = postNoContent(t, ts, "/api/v1/site/lockdown", `{"active": true, "reason": "fight"}`, nil)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "The site lockdown could not be declared: this wing cannot reach enough of the site to agree it. "+
		"Nothing has changed on any wing. Raise the lockdown by radio or phone as the site's emergency procedure says, and try again here.", got["error"])
}

func TestSameSite(t *testing.T) {
	f := newFakeWing()
	a := threeWingSite(f)
	b := threeWingSite(f)
	b.Wings[0].LastEvent = b.Wings[0].LastEvent.In(time.FixedZone("elsewhere", 3600)) // the same instant
	assert.True(t, sameSite(a, b))
	for name, change := range map[string]func(*SiteStatus){
		"link":     func(s *SiteStatus) { s.Wings[2].Link = LinkUnreachable },
		"data":     func(s *SiteStatus) { s.Wings[1].LastEvent = s.Wings[1].LastEvent.Add(time.Second) },
		"isolated": func(s *SiteStatus) { s.Isolated = true },
		"waiting":  func(s *SiteStatus) { s.Waiting++ },
		"lockdown": func(s *SiteStatus) { s.Lockdown.Active = true },
		"leader":   func(s *SiteStatus) { s.Leader = "" },
		"a wing":   func(s *SiteStatus) { s.Wings = s.Wings[:2] },
	} {
		c := threeWingSite(f)
		change(&c)
		assert.False(t, sameSite(a, c), name)
	}
}

func TestClockTimeNear(t *testing.T) {
	now := time.Date(2026, time.March, 2, 10, 0, 0, 0, time.Local)
	assert.Equal(t, "09:58", clockTimeNear(now.Add(-2*time.Minute), now))
	assert.Equal(t, "1 Mar 22:00", clockTimeNear(now.Add(-12*time.Hour), now), "another day says which")
	assert.Empty(t, clockTimeNear(time.Time{}, now))
	assert.Empty(t, clockTimeNear(time.Unix(60, 0), now), "an unset clock's time says nothing")
}
