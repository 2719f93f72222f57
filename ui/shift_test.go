package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// rolledWing is the fake with the expected roll set, a cell on a plan and
// each landing counted right.
func rolledWing(t *testing.T) *fakeWing {
	t.Helper()
	ctx := context.Background()
	f := newFakeWing()
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	require.NoError(t, f.SetPlan(ctx, fakeSupervisor, "A1-02", wing.Plan{DayPerHour: 1, NightPerHour: 2, ConversationsPerDay: 1, MaxGap: time.Hour}, ""))
	require.NoError(t, f.SetExpectedRoll(ctx, fakeSupervisor, map[string]wing.CellRoll{
		"A1-01": {Occupants: 1}, "A1-02": {Occupants: 1}, "A1-03": {Occupants: 0}, "A2-01": {Occupants: 1}}))
	_, err := f.CountLanding(ctx, fakeOfficer1001, "1", 2)
	require.NoError(t, err)
	_, err = f.CountLanding(ctx, fakeOfficer1001, "2", 1)
	require.NoError(t, err)
	return f
}

// shiftRoute is a route of the shift that changes something: a request
// the right officer may make (body, made when the route's turn comes, so
// it may read the wing as it is then), and the role it needs.
type shiftRoute struct {
	path string
	body func() string
	role string
}

func fixed(s string) func() string { return func() string { return s } }

// shiftMutatingRoutes is every route of the shift that changes something,
// in an order in which the right officer's request of each succeeds.
func shiftMutatingRoutes(t *testing.T, f *fakeWing) []shiftRoute {
	ctx := context.Background()
	two := fakeOfficer1001
	two.ID = "2001"
	h1, err := f.SignHandover(ctx, two, wing.HandoverEntry{From: f.ago(time.Hour), To: f.ago(0), Digest: strings.Repeat("a", 64)})
	require.NoError(t, err)
	h2, err := f.SignHandover(ctx, two, wing.HandoverEntry{From: f.ago(time.Hour), To: f.ago(0), Digest: strings.Repeat("b", 64)})
	require.NoError(t, err)
	c1, err := f.RecordCheck(ctx, fakeOfficer1001, wing.CheckEntry{Cell: "A2-01", Outcome: wing.Spoke})
	require.NoError(t, err)
	c2, err := f.RecordCheck(ctx, fakeOfficer1001, wing.CheckEntry{Cell: "A2-01", Outcome: wing.Seen})
	require.NoError(t, err)
	from, to := f.ago(2*time.Hour), f.ago(0)
	draft := func() shift.Draft {
		d, err := f.HandoverDraft(ctx, from, to)
		require.NoError(t, err)
		return d
	}
	return []shiftRoute{
		{"/checks/A1-01", fixed("outcome=spoke&tag=in+bed&note=fine"), "officer"},
		{"/checks/A1-01/plan", fixed("day_per_hour=1&night_per_hour=2&conversations_per_day=3&max_gap_minutes=60"), "supervisor"},
		{"/checks/A1-02/plan/end", fixed("reason=off+ACCT"), "supervisor"},
		{"/roll/count/1", fixed("counted=2"), "officer"},
		{"/roll/sign", fixed(""), "supervisor"},
		{"/api/v1/roll/counts", fixed(`{"landing": "2", "counted": 1}`), "officer"},
		{"/api/v1/roll/sign", fixed(""), "supervisor"},
		{"/roll/expected", fixed("occ.A1-01=2"), "supervisor"},
		{"/api/v1/roll/expected", fixed(`{"cells": {"A2-01": {"occupants": 2, "out": 1, "reason": "court"}}}`), "supervisor"},
		{"/handover/sign", func() string {
			d := draft()
			return url.Values{"from": {d.From.Format(time.RFC3339)}, "to": {d.To.Format(time.RFC3339)}, "digest": {d.Digest}, "notes": {"quiet"}}.Encode()
		}, "officer"},
		{"/api/v1/handovers", func() string {
			d := draft()
			return fmt.Sprintf(`{"from": %q, "to": %q, "digest": %q, "notes": "line one\nline two"}`, d.From.Format(time.RFC3339), d.To.Format(time.RFC3339), d.Digest)
		}, "officer"},
		{"/handovers/" + h1.String() + "/read", fixed(""), "officer"},
		{"/api/v1/handovers/" + h2.String() + "/read", fixed(""), "officer"},
		{"/records/" + c1.ID.String() + "/correct", fixed("reason=entered+twice&back=/checks"), "officer"},
		{"/api/v1/records/" + c2.ID.String() + "/correct", fixed(`{"reason": "wrong cell"}`), "officer"},
		{"/api/v1/checks", fixed(`{"cell": "A1-03", "outcome": "seen", "note": "asleep?"}`), "officer"},
		{"/api/v1/plans/A1-03", fixed(`{"day_per_hour": 1, "night_per_hour": 2, "conversations_per_day": 0, "max_gap_minutes": 90}`), "supervisor"},
		{"/api/v1/plans/A1-03/end", fixed(""), "supervisor"},
	}
}

// TestEveryShiftRouteRefuses: as TestEveryMutatingRouteRefuses, for the
// shift's routes: anonymous, the wrong role, another site's page, a
// forged Host, a missing or wrong CSRF token are refused and record
// nothing; then the right officer's request records.
func TestEveryShiftRouteRefuses(t *testing.T) {
	f := rolledWing(t)
	routes := shiftMutatingRoutes(t, f)
	_, ts := serve(t, f)
	officer := signIn(t, ts, "1001", "1111")
	sup := signIn(t, ts, "2001", "2222")
	anon := visitor(t, ts)
	asOf := map[string]tab{"officer": officer, "supervisor": sup}
	lower := map[string]tab{"supervisor": officer}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path, body string, b tab, header http.Header) *http.Response {
		t.Helper()
		ctype := "application/x-www-form-urlencoded"
		if strings.HasPrefix(path, "/api/") {
			ctype = "application/json"
		}
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", ts.URL)
		b.add(req)
		if b.token != "" {
			req.Header.Set(csrfHeader, b.token)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	type refusal struct {
		b      tab
		header http.Header
		status int
	}
	for _, r := range routes {
		body := r.body()
		cases := map[string]refusal{
			"anonymous":                       {tab{}, nil, http.StatusUnauthorized},
			"signed out with a token":         {anon, nil, http.StatusUnauthorized},
			"cross-origin":                    {asOf[r.role], http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}, http.StatusForbidden},
			"other origin, no fetch metadata": {asOf[r.role], http.Header{"Sec-Fetch-Site": nil, "Origin": {"http://evil.example"}}, http.StatusForbidden},
			"no CSRF token":                   {tab{cookie: asOf[r.role].cookie}, nil, http.StatusForbidden},
			"another browser's token":         {tab{cookie: asOf[r.role].cookie, token: anon.token}, nil, http.StatusForbidden},
		}
		if b, ok := lower[r.role]; ok {
			cases["wrong role"] = refusal{b, nil, http.StatusForbidden}
		}
		for name, c := range cases {
			before := f.recordCount()
			resp := post(r.path, body, c.b, c.header)
			assert.Equal(t, c.status, resp.StatusCode, "%s: %s", r.path, name)
			assert.Equal(t, before, f.recordCount(), "%s: %s: nothing recorded", r.path, name)
		}
		before := f.recordCount()
		req, err := http.NewRequest(http.MethodPost, ts.URL+r.path, strings.NewReader(body))
		require.NoError(t, err)
		req.Host = "evil.example"
		asOf[r.role].add(req)
		req.Header.Set(csrfHeader, asOf[r.role].token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode, "%s: forged Host", r.path)
		assert.Equal(t, before, f.recordCount(), "%s: forged Host: nothing recorded", r.path)

		resp = post(r.path, body, asOf[r.role], nil)
		assert.Contains(t, []int{http.StatusOK, http.StatusNoContent, http.StatusSeeOther}, resp.StatusCode, "%s: the right officer", r.path)
		assert.Greater(t, f.recordCount(), before, "%s: the right officer's request records", r.path)
		e := f.lastEvent(t)
		want := "1001"
		if r.role == "supervisor" {
			want = "2001"
		}
		assert.Equal(t, want, e.Actor, "%s: recorded as the signed-in officer", r.path)
	}
	assert.Equal(t, "line one\nline two", f.lastOf(event.HandoverSigned).Data["notes"], "a handover's notes keep their lines")
}

// TestEveryShiftFormCarriesTheToken: each form that posts on the shift's
// pages carries the browser's CSRF token.
func TestEveryShiftFormCarriesTheToken(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	h, err := f.SignHandover(t.Context(), fakeOfficer1001, wing.HandoverEntry{From: f.ago(time.Hour), To: f.ago(0), Digest: strings.Repeat("c", 64)})
	require.NoError(t, err)
	for _, path := range []string{"/checks", "/checks/A1-01", "/roll", "/roll/count/1", "/roll/expected", "/handover", "/records/" + h.String() + "/correct"} {
		doc := docOf(t, getAs(t, ts, sup, path))
		forms := doc.Find(`form[method="post"]`)
		assert.Positive(t, forms.Length(), path)
		assert.Equal(t, forms.Length(), forms.Has(`input[name="csrf"][value="`+sup.token+`"]`).Length(), path)
	}
}

func TestChecksPage(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/checks", http.StatusOK)
	assert.Equal(t, []string{"due-A1-01", "due-A1-02"}, testIDs(doc.Find(`.due-row`)), "the soonest due first")
	assert.Equal(t, "true", doc.Find(`[data-testid="due-A1-01"]`).AttrOr("data-overdue", ""))
	assert.Contains(t, doc.Find(`[data-testid="due-A1-02"]`).Text(), "Spoke by 1001")
	prompt := doc.Find(`[data-testid="presence-A1-03"]`)
	assert.Contains(t, prompt.Text(), "Officer at the door of A1-03")
	assert.Equal(t, 5, prompt.Find(`button[name="outcome"]`).Length(), "by day every outcome")
	assert.Equal(t, "yes", prompt.Find(`input[name="at_door"]`).AttrOr("value", ""))
	assert.Equal(t, 4, doc.Find(`.all-cells a.cell`).Length(), "every cell of the wing")

	// At night "seen" is no outcome.
	require.NoError(t, f.SetRegime(t.Context(), fakeSupervisor, wing.Night))
	doc = getPage(t, ts, "/checks", http.StatusOK)
	assert.Equal(t, 4, doc.Find(`[data-testid="presence-A1-03"] button[name="outcome"]`).Length())
	assert.Zero(t, doc.Find(`[data-testid="presence-A1-03-seen"]`).Length())
}

func TestEveryPageCountsTheChecksDue(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	for _, path := range []string{"/", "/events", "/walktest", "/plan", "/site", "/roll"} {
		badge := getPage(t, ts, path, http.StatusOK).Find(`#checks-badge`)
		require.Equal(t, 1, badge.Length(), path)
		assert.Equal(t, "1", badge.AttrOr("data-overdue", ""), path+": A1-01 is overdue")
		assert.Equal(t, "1", badge.AttrOr("data-presences", ""), path+": an officer waits at A1-03")
		assert.Contains(t, badge.Text(), "1 check OVERDUE", path)
		assert.Equal(t, "/checks", badge.AttrOr("href", ""), path)
	}
}

func TestRecordACheckFromTheScreen(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	resp := postFormAs(t, ts, o, "/checks/A1-01", url.Values{"outcome": {"spoke"}, "tag": {"awake", "not a phrase"}, "note": {" asked for the nurse "}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	e := f.lastEvent(t)
	assert.Equal(t, "awake; asked for the nurse", e.Data["note"], "known phrases, then the words typed")

	// The screens' script sends its token in a header, not in the form.
	byScript := postFormAs(t, ts, o, "/checks/A1-02", url.Values{csrfField: {""}, "outcome": {"spoke"}, "tag": {"in bed"}, "note": {"x"}}, http.Header{csrfHeader: {o.token}})
	require.Equal(t, http.StatusSeeOther, byScript.StatusCode)
	assert.Equal(t, wing.CheckedAtPanel, e.Data["how"])
	doc := docOf(t, getAs(t, ts, o, resp.Header.Get("Location")))
	assert.Contains(t, doc.Find(`[data-testid="check-done"]`).Text(), "Check of A1-01 recorded")
	assert.Equal(t, "in bed; x", f.lastEvent(t).Data["note"], "the phrases ticked count with the token in a header too")

	// No response: recorded, and a priority-1 alarm raised at once.
	resp = postFormAs(t, ts, o, "/checks/A2-01", url.Values{"outcome": {"no-response"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	alarm := f.lastEvent(t)
	assert.Equal(t, event.AlarmRaised, alarm.Kind)
	assert.Equal(t, wing.CheckNoResponse, alarm.Data["point_kind"])
	doc = docOf(t, getAs(t, ts, o, resp.Header.Get("Location")))
	assert.Contains(t, doc.Find(`[data-testid="check-done"]`).Text(), "NO RESPONSE at A2-01")

	for name, c := range map[string]struct {
		form   url.Values
		status int
		says   string
	}{
		"no outcome":      {url.Values{}, http.StatusBadRequest, "choose the outcome"},
		"unknown outcome": {url.Values{"outcome": {"asleep"}}, http.StatusBadRequest, "choose the outcome"},
		"control in note": {url.Values{"outcome": {"seen"}, "note": {"a\u202eb"}}, http.StatusBadRequest, "invisible or control"},
		"no presence":     {url.Values{"outcome": {"seen"}, "at_door": {"yes"}}, http.StatusConflict, "no turn of the cell's reset key"},
	} {
		before := f.recordCount()
		resp := postFormAs(t, ts, o, "/checks/A1-02", c.form, nil)
		assert.Equal(t, c.status, resp.StatusCode, name)
		assert.Contains(t, docOf(t, resp).Find(`[data-testid="check-problem"]`).Text(), c.says, name)
		assert.Equal(t, before, f.recordCount(), name)
	}
	resp = postFormAs(t, ts, o, "/checks/NOPE", url.Values{"outcome": {"seen"}}, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestNightCheckAtTheDoor: at night a cell with a reset key switch is
// checked at its door: the panel offers only no response until the key
// is turned, then the outcome records a check proven at the door; and
// "seen" is refused.
func TestNightCheckAtTheDoor(t *testing.T) {
	f := shiftWing(t)
	f.layout.AlarmPoints[0].Reset = &config.Input{Pin: "GPIO9"} // A1-01-CALL
	require.NoError(t, f.SetRegime(t.Context(), fakeSupervisor, wing.Night))
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	doc := docOf(t, getAs(t, ts, o, "/checks/A1-01"))
	assert.Equal(t, 1, doc.Find(`[data-testid="needs-door"]`).Length())
	assert.Equal(t, []string{"outcome-no-response"}, testIDs(doc.Find(`button[name="outcome"]:not([disabled])`)), "only no response before the key")
	resp := postFormAs(t, ts, o, "/checks/A1-01", url.Values{"outcome": {"spoke"}}, nil)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="check-problem"]`).Text(), "checked at its door")

	f.presence("A1-01")
	doc = docOf(t, getAs(t, ts, o, "/checks/A1-01"))
	assert.Equal(t, 1, doc.Find(`[data-testid="at-door"]`).Length())
	assert.Equal(t, []string{"outcome-spoke", "outcome-seen-moving", "outcome-sign-of-life", "outcome-no-response"},
		testIDs(doc.Find(`button[name="outcome"]:not([disabled])`)), "a sign of life, or no response")
	resp = postFormAs(t, ts, o, "/checks/A1-01", url.Values{"outcome": {"seen"}, "at_door": {"yes"}}, nil)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="check-problem"]`).Text(), "needs a sign of life")
	resp = postFormAs(t, ts, o, "/checks/A1-01", url.Values{"outcome": {"sign-of-life"}, "at_door": {"yes"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, wing.CheckedAtDoor, f.lastEvent(t).Data["how"])
}

func TestPlansAreSetBySupervisors(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	assert.Zero(t, docOf(t, getAs(t, ts, o, "/checks/A1-03")).Find(`form.plan-form`).Length(), "an officer sees the plan, not its form")
	sup := supervisor(t, ts)
	doc := docOf(t, getAs(t, ts, sup, "/checks/A1-01"))
	assert.Equal(t, "2", doc.Find(`select[name="day_per_hour"] option[selected]`).AttrOr("value", ""), "the form shows the plan in force")
	assert.Equal(t, "30", doc.Find(`select[name="max_gap_minutes"] option[selected]`).AttrOr("value", ""))
	resp := postFormAs(t, ts, sup, "/checks/A1-03/plan", url.Values{"day_per_hour": {"0.5"}, "night_per_hour": {"2"}, "conversations_per_day": {"1"}, "max_gap_minutes": {"120"}, "note": {"new ACCT"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	e := f.lastEvent(t)
	assert.Equal(t, event.ObservationPlanSet, e.Kind)
	assert.Equal(t, "0.5", e.Data["day_per_hour"])
	assert.Equal(t, "2h0m0s", e.Data["max_gap"])
	before := f.recordCount()
	resp = postFormAs(t, ts, sup, "/checks/A1-03/plan", url.Values{"day_per_hour": {"20"}, "night_per_hour": {"2"}, "conversations_per_day": {"1"}, "max_gap_minutes": {"2"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	problem := docOf(t, resp).Find(`[data-testid="check-problem"]`).Text()
	assert.Contains(t, problem, "observations an hour by day must be from 0 to 12")
	assert.Contains(t, problem, "the longest gap must be from 5m0s")
	assert.Equal(t, before, f.recordCount())
	resp = postFormAs(t, ts, sup, "/checks/A1-03/plan/end", url.Values{"reason": {"ACCT closed"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, event.ObservationPlanEnded, f.lastEvent(t).Kind)
}

func TestCheckHistoryStrikesCorrections(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	doc := docOf(t, getAs(t, ts, o, "/checks/A1-02"))
	rows := doc.Find(`[data-testid="check-history"] tr`)
	require.Equal(t, 2, rows.Length())
	assert.False(t, rows.Eq(0).HasClass("struck"))
	assert.True(t, rows.Eq(1).HasClass("struck"), "the struck check stays, struck through")
	assert.Contains(t, rows.Eq(1).Text(), "struck by 1001")
	assert.Zero(t, rows.Eq(1).Find(`.strike`).Length(), "a struck record is not struck again")

	// Striking asks why, then strikes: nothing is erased.
	id := rows.Eq(0).AttrOr("data-testid", "")[len("history-"):]
	doc = docOf(t, getAs(t, ts, o, "/records/"+id+"/correct?back=/checks/A1-02"))
	assert.Contains(t, doc.Find(`.record`).Text(), "Check of A1-02")
	before := f.recordCount()
	resp := postFormAs(t, ts, o, "/records/"+id+"/correct", url.Values{"reason": {"wrong outcome or number"}, "detail": {"was asleep"}, "back": {"/checks/A1-02"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/checks/A1-02?struck="+url.QueryEscape(id), resp.Header.Get("Location"))
	assert.Equal(t, before+1, f.recordCount())
	e := f.lastEvent(t)
	assert.Equal(t, event.RecordCorrected, e.Kind)
	assert.Equal(t, "wrong outcome or number: was asleep", e.Data["reason"])
	assert.Equal(t, 2, docOf(t, getAs(t, ts, o, "/checks/A1-02")).Find(`[data-testid="check-history"] tr.struck`).Length())

	// Another officer's record is theirs or a supervisor's to strike.
	resp = postFormAs(t, ts, o, "/records/"+id+"/correct", url.Values{"reason": {"entered twice"}}, nil)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "already struck")
	resp = postFormAs(t, ts, o, "/records/A/999/correct", url.Values{"reason": {"entered twice"}}, nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestRollPage(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	doc := docOf(t, getAs(t, ts, o, "/roll"))
	assert.Equal(t, "false", doc.Find(`[data-testid="roll-status"]`).AttrOr("data-correct", ""))
	assert.Equal(t, "true", doc.Find(`[data-testid="landing-1"]`).AttrOr("data-reconciled", ""))
	l2 := doc.Find(`[data-testid="landing-2"]`)
	assert.Equal(t, "false", l2.AttrOr("data-reconciled", ""))
	assert.Contains(t, l2.Text(), "1 SHORT")
	assert.Contains(t, l2.Text(), "open during the count: A2-01", "a door open during the count is flagged")
	assert.Contains(t, doc.Find(`[data-testid="landing-1"]`).Text(), "A1-02: 1 out (court)")
	assert.Zero(t, doc.Find(`[data-testid="sign-roll"]`).Length(), "an officer does not sign the roll")

	// The count page is blind: the expected number is not on it.
	count := docOf(t, getAs(t, ts, o, "/roll/count/2")).Find(`[data-testid="count-entry"]`).Text()
	assert.NotContains(t, count, "expected")
	resp := postFormAs(t, ts, o, "/roll/count/2", url.Values{"counted": {"one"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp = postFormAs(t, ts, o, "/roll/count/2", url.Values{"counted": {"1"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	doc = docOf(t, getAs(t, ts, o, resp.Header.Get("Location")))
	assert.Equal(t, "true", doc.Find(`[data-testid="count-done"]`).AttrOr("data-reconciled", ""))

	sup := supervisor(t, ts)
	doc = docOf(t, getAs(t, ts, sup, "/roll"))
	require.Equal(t, 1, doc.Find(`[data-testid="sign-roll"]`).Length(), "every landing agrees: the supervisor may sign")
	resp = postFormAs(t, ts, sup, "/roll/sign", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	doc = docOf(t, getAs(t, ts, sup, "/roll"))
	assert.Equal(t, "true", doc.Find(`[data-testid="roll-status"]`).AttrOr("data-correct", ""))
	assert.Contains(t, doc.Find(`[data-testid="roll-status"]`).Text(), "ROLL CORRECT")

	// The Site screen shows which wings have a correct roll, since when.
	doc = docOf(t, getAs(t, ts, sup, "/site"))
	assert.Equal(t, "true", doc.Find(`[data-testid="site-roll-A"]`).AttrOr("data-correct", ""))
	assert.Contains(t, doc.Find(`[data-testid="site-roll-A"]`).Text(), "correct since")

	// A count with a discrepancy since undoes it, and says so.
	postFormAs(t, ts, o, "/roll/count/1", url.Values{"counted": {"3"}}, nil)
	doc = docOf(t, getAs(t, ts, sup, "/roll"))
	assert.Contains(t, doc.Find(`[data-testid="roll-status"]`).Text(), "ROLL NOT CORRECT")
	resp = postFormAs(t, ts, sup, "/roll/sign", nil, nil)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="roll-problem"]`).Text(), "does not reconcile")
}

func TestExpectedRollForm(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	doc := docOf(t, getAs(t, ts, sup, "/roll/expected"))
	assert.Equal(t, "court", doc.Find(`select[name="why.A1-02"] option[selected]`).AttrOr("value", ""))
	before := f.recordCount()
	resp := postFormAs(t, ts, sup, "/roll/expected", url.Values{"occ.A1-01": {"1"}, "out.A1-01": {"0"}, "occ.A2-01": {"2"}, "out.A2-01": {"1"}}, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "out of the wing needs a reason")
	assert.Equal(t, before, f.recordCount())
	resp = postFormAs(t, ts, sup, "/roll/expected", url.Values{"occ.A1-01": {"1"}, "out.A1-01": {"0"}, "occ.A2-01": {"2"}, "out.A2-01": {"1"}, "why.A2-01": {"hospital"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, before+1, f.recordCount(), "only the changed cell is recorded")
	assert.Equal(t, "hospital", f.lastEvent(t).Data["reason"])
	o := signIn(t, ts, "1001", "1111")
	assert.Equal(t, http.StatusForbidden, getAs(t, ts, o, "/roll/expected").StatusCode, "the expected roll is a supervisor's")
}

func TestHandoverPage(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	o := signIn(t, ts, "1001", "1111")
	doc := docOf(t, getAs(t, ts, o, "/handover"))
	draft := doc.Find(`[data-testid="handover-draft"]`)
	assert.Contains(t, draft.Find(`[data-testid="open-items"]`).Text(), "A-STAFF", "an alarm still open, with its owner")
	assert.Contains(t, draft.Find(`[data-testid="open-items"]`).Text(), "2001")
	assert.Contains(t, draft.Find(`[data-testid="alarms"]`).Text(), "41 s", "response times")
	assert.Contains(t, draft.Find(`[data-testid="counts"]`).Text(), "1 SHORT")
	assert.Contains(t, draft.Find(`[data-testid="faults"]`).Text(), "A-GATE1")
	assert.Equal(t, 1, draft.Find(`[data-testid="checks-done"] tr.struck`).Length(), "the struck check, struck through")
	assert.Contains(t, draft.Find(`[data-testid="corrections"]`).Text(), "wrong cell or landing")
	assert.Contains(t, draft.Find(`[data-testid="figures-table"]`).Text(), "100% (1 of 1)")
	digest := doc.Find(`[data-testid="handover-digest"]`).AttrOr("value", "")
	require.Len(t, digest, 64)
	form := url.Values{"from": {doc.Find(`input[name="from"]`).AttrOr("value", "")}, "to": {doc.Find(`input[name="to"]`).AttrOr("value", "")}, "notes": {"watch A1-01"}}

	// A draft that changed since it was reviewed is shown again, not signed.
	before := f.recordCount()
	form.Set("digest", strings.Repeat("0", 64))
	resp := postFormAs(t, ts, o, "/handover/sign", form, nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	doc = docOf(t, resp)
	assert.Contains(t, doc.Find(`[data-testid="handover-problem"]`).Text(), "changed while you reviewed it")
	assert.Equal(t, "watch A1-01", doc.Find(`[data-testid="handover-notes"]`).Text(), "the notes are kept")
	assert.Equal(t, before, f.recordCount())

	form.Set("digest", digest)
	resp = postFormAs(t, ts, o, "/handover/sign", form, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	signed := f.lastEvent(t)
	assert.Equal(t, event.HandoverSigned, signed.Kind)
	assert.Equal(t, digest, signed.Data["digest"])
	assert.Equal(t, "5", signed.Data["open_items"])

	// The outgoing officer cannot read their own; the incoming one does.
	resp = postFormAs(t, ts, o, "/handovers/"+signed.ID().String()+"/read", nil, nil)
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	sup := signIn(t, ts, "2001", "2222")
	resp = postFormAs(t, ts, sup, "/handovers/"+signed.ID().String()+"/read", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	doc = docOf(t, getAs(t, ts, sup, "/handover"))
	row := doc.Find(`[data-testid="handover-` + signed.ID().String() + `"]`)
	assert.Contains(t, row.Text(), "Read by 2001")
	assert.Contains(t, row.Text(), "watch A1-01")
	assert.Contains(t, doc.Find("h1").Text(), "to", "the next shift starts at the handover's end")

	// A correction strikes it; it stays on the page, struck through.
	resp = postFormAs(t, ts, sup, "/records/"+signed.ID().String()+"/correct", url.Values{"reason": {"signed too early"}, "back": {"/handover"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	doc = docOf(t, getAs(t, ts, sup, "/handover"))
	row = doc.Find(`[data-testid="handover-` + signed.ID().String() + `"]`)
	assert.True(t, row.HasClass("struck"))
	assert.Contains(t, row.Text(), "struck by 2001")
}

func TestTimelineAndItsNDJSON(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	var call event.ID
	for _, a := range f.State().Alarms {
		if a.PointKind == "cell-call" {
			call = a.ID
		}
	}
	doc := getPage(t, ts, "/timeline?alarm="+call.String(), http.StatusOK)
	assert.Contains(t, doc.Find(`[data-testid="timeline-alarm"]`).Text(), "41 s")
	entries := doc.Find(`[data-testid="timeline-entries"] tbody tr`)
	assert.Positive(t, entries.Length())
	assert.Equal(t, 1, doc.Find(`tr.asked`).Length(), "the alarm asked about is marked")
	assert.Positive(t, doc.Find(`[data-testid="timeline-entries"] tr.struck`).Length(), "struck records struck through")
	href := doc.Find(`[data-testid="timeline-ndjson"]`).AttrOr("href", "")
	require.True(t, strings.HasPrefix(href, "/timeline.ndjson?"))

	resp, err := http.Get(ts.URL + href)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment; filename=\"timeline-alarm-A-")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	lines := 0
	for sc.Scan() {
		var rec struct { // a record of the central pull (docs/central.md)
			Event event.Event `json:"event"`
			Body  []byte      `json:"body"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		assert.Equal(t, rec.Event.Body(), rec.Body, "each record carries its event's canonical bytes (the appliance's test verifies their hashes)")
		lines++
	}
	assert.Equal(t, entries.Length(), lines, "the download is the page's events")

	// A place and a range; refusals say what is wrong.
	doc = getPage(t, ts, "/timeline?place=A-landing-2", http.StatusOK)
	assert.Contains(t, doc.Find(`[data-testid="timeline-entries"]`).Text(), "landing counted")
	assert.Equal(t, "A-landing-2", doc.Find(`select[name="place"] option[selected]`).AttrOr("value", ""))
	getPage(t, ts, "/timeline?alarm=A/9999", http.StatusNotFound)
	doc = getPage(t, ts, "/timeline?from=nonsense", http.StatusBadRequest)
	assert.Contains(t, doc.Find(`[data-testid="timeline-problem"]`).Text(), "from:")
	getPage(t, ts, "/timeline?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z", http.StatusBadRequest)
}

func TestFiguresPage(t *testing.T) {
	f := shiftWing(t)
	f.setSite(threeWingSite(f))
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/figures", http.StatusOK)
	assert.Equal(t, []string{"figures-A", "figures-B", "figures-C"}, testIDs(doc.Find(`[data-testid="figures-table"] tbody tr`)), "every wing of the site, this one first")
	a := doc.Find(`[data-testid="figures-A"]`).Text()
	assert.Contains(t, a, "31 s / 15 min", "raise to acknowledge: the median of 41 s and 21 s, and the worst (the roll alarm, still waiting)")
	assert.Contains(t, a, "2 min 42 s", "raise to attend")
	assert.Contains(t, a, "100% (1 of 1)", "cell calls attended in 5 minutes")
}

func TestShiftLiveStreamFollowsPresences(t *testing.T) {
	f := shiftWing(t)
	srv, ts := serve(t, f)
	srv.refreshEvery = time.Hour
	resp, err := http.Get(ts.URL + "/live/shift?page=checks")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(want string) string {
		t.Helper()
		timeout := time.After(5 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				require.True(t, ok, "stream ended")
				if strings.Contains(l, want) {
					return l
				}
			case <-timeout:
				t.Fatalf("no %q on the stream", want)
			}
		}
	}
	first := next(`id="presence-prompts"`)
	assert.Contains(t, first, `data-count="1"`)
	next(`id="checks-due"`)
	require.Eventually(t, func() bool { return f.subscribers() > 0 }, 5*time.Second, 10*time.Millisecond)
	f.presence("A2-01")
	assert.Contains(t, next(`id="presence-prompts"`), `data-count="2"`, "a key turned reaches the open page")

	for _, bad := range []string{"/live/shift?page=nope", "/live/shift?page=cell&cell=NOPE"} {
		r, err := http.Get(ts.URL + bad)
		require.NoError(t, err)
		r.Body.Close()
		assert.Equal(t, http.StatusBadRequest, r.StatusCode, bad)
	}
}

func TestShiftPagesLoadNothingInlineOrFromOutside(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	for _, path := range []string{"/checks", "/checks/A1-01", "/roll", "/roll/count/1", "/roll/expected", "/handover", "/timeline", "/figures"} {
		doc := docOf(t, getAs(t, ts, sup, path))
		assert.Zero(t, doc.Find("style, [style]").Length(), "%s: inline style", path)
		doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			assert.Contains(t, []string{"/static/app.js", "/static/shift.js"}, s.AttrOr("src", ""), path)
			assert.Empty(t, strings.TrimSpace(s.Text()), "%s: inline script", path)
		})
		assert.Equal(t, 1, doc.Find(`link[rel="stylesheet"][href="/static/print.css"][media="print"]`).Length(), "%s: the print stylesheet", path)
	}
	css := getBody(t, ts.URL+"/static/print.css")
	assert.Contains(t, css, "@media print")
	assert.Contains(t, css, "size: A4")
}

// TestShiftAPI reads each report and makes each record through the API.
func TestShiftAPI(t *testing.T) {
	f := shiftWing(t)
	_, ts := serve(t, f)
	checks := getJSON(t, ts, "/api/v1/checks", http.StatusOK)
	due := checks["due"].([]any)
	require.Len(t, due, 2)
	assert.Equal(t, "A1-01", due[0].(map[string]any)["cell"])
	assert.Equal(t, true, due[0].(map[string]any)["overdue"])
	assert.Equal(t, float64(1800), due[0].(map[string]any)["plan"].(map[string]any)["max_gap_s"])
	assert.Len(t, checks["presences"], 1)

	cell := getJSON(t, ts, "/api/v1/checks/A1-02?limit=10", http.StatusOK)
	hist := cell["history"].([]any)
	require.Len(t, hist, 2)
	assert.NotNil(t, hist[1].(map[string]any)["struck"], "a struck check says so")
	getJSON(t, ts, "/api/v1/checks/NOPE", http.StatusNotFound)
	assert.Len(t, getJSONList(t, ts, "/api/v1/plans"), 2)

	roll := getJSON(t, ts, "/api/v1/roll", http.StatusOK)
	assert.Equal(t, false, roll["correct"])
	assert.Len(t, roll["landings"], 2)
	assert.Len(t, roll["cells"], 4)
	assert.NotEmpty(t, roll["problems"])

	draft := getJSON(t, ts, "/api/v1/handover", http.StatusOK)
	assert.Len(t, draft["digest"], 64)
	assert.Len(t, draft["open_items"], 5)
	assert.Equal(t, float64(41), draft["alarms"].([]any)[0].(map[string]any)["acknowledged"].(map[string]any)["after_s"])
	assert.Empty(t, getJSONList(t, ts, "/api/v1/handovers"))

	fig := getJSON(t, ts, "/api/v1/figures", http.StatusOK)
	assert.Equal(t, "A", fig["wing"])
	assert.Equal(t, float64(31), fig["acknowledge"].(map[string]any)["median_s"])
	getJSON(t, ts, "/api/v1/figures?from=nonsense", http.StatusBadRequest)

	tl := getJSON(t, ts, "/api/v1/timeline?place=A1-01", http.StatusOK)
	assert.NotEmpty(t, tl["entries"])

	status, got := postJSON(t, ts, "/api/v1/checks", `{"cell": "A1-01", "outcome": "spoke", "note": "fine"}`, nil)
	require.Equal(t, http.StatusOK, status, got)
	assert.Equal(t, "A1-01", got["cell"])
	assert.Equal(t, testOfficer, got["by"])
	assert.Equal(t, "panel", got["how"])
	for body, want := range map[string]string{
		`{"cell": "A1-01", "outcome": "asleep"}`:                "outcome:",
		`{"cell": "A1-01", "outcome": "seen", "x": 1}`:          "x: not a field",
		`{"cell": "NOPE", "outcome": "seen"}`:                   "no cell",
		`{"cell": "A1-01", "outcome": "seen", "at_door": true}`: "reset key",
	} {
		status, got := postJSON(t, ts, "/api/v1/checks", body, nil)
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusConflict}, status, body)
		assert.Contains(t, got["error"], want, body)
	}
	status, got = postJSON(t, ts, "/api/v1/plans/A1-03", `{"day_per_hour": 1}`, nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, got["error"], "max_gap_minutes")
	status, got = postJSON(t, ts, "/api/v1/roll/counts", `{"landing": "9", "counted": 1}`, nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, got["error"], "no landing")
	status, got = postJSON(t, ts, "/api/v1/roll/sign", ``, nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, got["error"], "does not reconcile")
	status, got = postJSON(t, ts, "/api/v1/handovers", `{"from": "2026-03-02T09:00:00Z", "to": "2026-03-02T10:00:00Z", "digest": "`+strings.Repeat("0", 64)+`"}`, nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, got["error"], "no longer the one reviewed")
}

// getJSONList gets path and decodes its JSON list.
func getJSONList(t *testing.T, ts *httptest.Server, path string) []any {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	var v []any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

// shiftSchemas names the OpenAPI schema of each of the shift API's answers.
var shiftSchemas = map[string]reflect.Type{
	"Struck": reflect.TypeFor[apiStruck](), "Check": reflect.TypeFor[apiCheck](), "Plan": reflect.TypeFor[apiPlan](),
	"CheckDue": reflect.TypeFor[apiDue](), "Presence": reflect.TypeFor[apiPresence](), "Checks": reflect.TypeFor[apiChecks](),
	"CellChecks": reflect.TypeFor[apiCellChecks](), "ExpectedRoll": reflect.TypeFor[apiExpected](), "Count": reflect.TypeFor[apiCount](),
	"RollSign": reflect.TypeFor[apiRollSign](), "LandingRoll": reflect.TypeFor[apiLandingRoll](), "WingRoll": reflect.TypeFor[apiWingRoll](),
	"Roll": reflect.TypeFor[apiRoll](), "Step": reflect.TypeFor[apiStep](), "AlarmItem": reflect.TypeFor[apiAlarmItem](),
	"Response": reflect.TypeFor[apiResponse](), "Figures": reflect.TypeFor[apiFigures](), "MissedCheck": reflect.TypeFor[apiMissed](),
	"DraftChecks": reflect.TypeFor[apiDraftChecks](), "WalkTestItem": reflect.TypeFor[apiWalkTestItem](), "Fault": reflect.TypeFor[apiFault](),
	"OpenItem": reflect.TypeFor[apiOpenItem](), "Correction": reflect.TypeFor[apiCorrection](), "HandoverDraft": reflect.TypeFor[apiDraft](),
	"HandoverRead": reflect.TypeFor[apiHandoverRead](), "Handover": reflect.TypeFor[apiHandover](), "Signed": reflect.TypeFor[apiSigned](),
	"TimelineEntry": reflect.TypeFor[apiTimelineEntry](), "Timeline": reflect.TypeFor[apiTimeline](),
}

// nextSchema finds where the next schema of components/schemas starts.
var nextSchema = regexp.MustCompile(`\n    [A-Za-z]`)

// TestOpenAPIDescribesTheShift checks docs/openapi.yaml against the
// shift's API: every route, and every schema with each field the answer
// has, those always sent required.
func TestOpenAPIDescribesTheShift(t *testing.T) {
	b, err := os.ReadFile("../docs/openapi.yaml")
	require.NoError(t, err)
	doc := string(b)
	for _, p := range []string{
		"/api/v1/checks", "/api/v1/checks/{cell}", "/api/v1/plans", "/api/v1/plans/{cell}", "/api/v1/plans/{cell}/end",
		"/api/v1/roll", "/api/v1/roll/expected", "/api/v1/roll/counts", "/api/v1/roll/sign",
		"/api/v1/handover", "/api/v1/handovers", "/api/v1/handovers/{wing}/{seq}/read", "/api/v1/records/{wing}/{seq}/correct",
		"/api/v1/timeline", "/api/v1/timeline.ndjson", "/api/v1/figures",
	} {
		assert.Contains(t, doc, "\n  "+p+":\n", p)
	}
	for name, typ := range shiftSchemas {
		start := strings.Index(doc, "\n    "+name+":\n      type: object\n")
		require.Positive(t, start, "schema %s", name)
		block := doc[start+1:]
		if end := nextSchema.FindStringIndex(block[1:]); end != nil {
			block = block[:end[0]+1]
		}
		var required []string
		for i := range typ.NumField() {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if opts == "" {
				required = append(required, name)
			}
			assert.Contains(t, block, "\n        "+name+":\n", "schema %s has field %s", typ.Name(), name)
		}
		assert.Contains(t, block, "required: ["+strings.Join(required, ", ")+"]", "schema %s requires every field always sent", name)
	}
}
