package ui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// proveAll records input.proven for every input of f's layout, by officer.
func proveAll(f *fakeWing, officer string) {
	for _, g := range (view{layout: f.layout}).inputGroups() {
		for _, in := range g.Inputs {
			f.record(event.InputProven, in.ID, officer, nil)
		}
	}
}

func TestWalkTestPageListsEveryInputByLanding(t *testing.T) {
	f := fittedWing() // ProveEvery: 7 days
	f.record(event.InputProven, "A1-01#lock", "officer-3", nil)
	f.advance(7 * 24 * time.Hour)
	f.record(event.InputProven, "A1-01", "officer-7", nil)
	f.record(event.InputProven, "A-STAFF", "officer-7", nil)
	f.record(event.InputFault, "A1-02-CALL", event.SystemActor, map[string]string{"fault": "open-circuit"})
	f.advance(24 * time.Hour)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/walktest", http.StatusOK)

	var groups []string
	doc.Find("details.proofs").Each(func(_ int, s *goquery.Selection) {
		groups = append(groups, s.Find("summary strong").Text()+": "+strings.Join(testIDs(s.Find(".proof-row")), " "))
		_, open := s.Attr("open")
		assert.False(t, open, "each landing is folded to one line until it is opened")
	})
	assert.Equal(t, []string{
		"Landing 1: proof-A1-01 proof-A1-01#lock proof-A1-01-CALL proof-A1-02 proof-A1-02-CALL proof-A-GATE1 proof-A-GATE1#lock proof-A1-03",
		"Landing 2: proof-A2-01",
		"Other inputs: proof-A-OFFICE proof-A-STAFF",
	}, groups, "each door, then its lock and its cell's call, landing by landing")

	for _, c := range []struct{ id, status, label string }{
		{"A1-01", "ok", "proven"},
		{"A-STAFF", "ok", "proven"},
		{"A1-01#lock", "overdue", "PROOF OVERDUE"}, // 8 days ago; every 7 days
		{"A1-02", "never", "never proven"},
		{"A-GATE1#lock", "never", "never proven"},
	} {
		row := doc.Find(`[data-testid="proof-` + c.id + `"]`)
		require.Equal(t, 1, row.Length(), c.id)
		assert.Equal(t, "proof-"+c.id, row.AttrOr("id", ""), c.id)
		assert.Equal(t, c.status, row.AttrOr("data-status", ""), c.id)
		assert.True(t, strings.HasPrefix(strings.TrimSpace(row.Find(`[data-testid="proof-status-`+c.id+`"]`).Text()), c.label), c.id)
	}
	ok := doc.Find(`[data-testid="proof-A1-01"]`)
	assert.Equal(t, "A1-01", ok.Find(".input-name").Text())
	assert.Equal(t, "Door contact", ok.Find(".input-kind").Text())
	assert.Equal(t, "1 d 00 h", ok.Find(".age").Text())
	assert.Equal(t, "1 d 00 h ago · officer-7", ok.Find(".proven").Text())
	assert.Equal(t, "A1-01", ok.Find(`input[type="checkbox"][name="point"]`).AttrOr("value", ""), "ticked to choose it for a walk test")
	lock := doc.Find(`[data-testid="proof-A1-01#lock"]`)
	assert.Equal(t, "Lock contact", lock.Find(".input-kind").Text())
	assert.Contains(t, lock.Text(), "officer-3")
	assert.Zero(t, lock.Find(`input[type="checkbox"]`).Length(), "a lock contact is tested with its door")
	assert.Equal(t, "Cell call", doc.Find(`[data-testid="proof-A1-02-CALL"] .input-kind`).Text())
	assert.Equal(t, "FAULT open-circuit", doc.Find(`[data-testid="proof-fault-A1-02-CALL"]`).Text())
	assert.NotContains(t, doc.Find(`[data-testid="proof-A1-02"]`).Text(), "by ")

	sum := doc.Find(`[data-testid="proof-summary"]`)
	assert.Equal(t, "1", sum.AttrOr("data-overdue", ""))
	assert.Equal(t, "8", sum.AttrOr("data-never", ""))
	assert.Contains(t, sum.Text(), "9 of 11 inputs need proving")
	assert.Equal(t, "1 PROOF OVERDUE", sum.Find(`[data-testid="overdue-total"]`).Text())
	assert.Equal(t, "8 never proven", sum.Find(`[data-testid="never-total"]`).Text())
	assert.Contains(t, sum.Text(), "every 7 days")
	landing1 := doc.Find(`[data-testid="proof-group-sum-1"]`)
	assert.Equal(t, "7", landing1.AttrOr("data-due", ""))
	assert.Contains(t, landing1.Text(), "8 inputs")
	assert.Contains(t, landing1.Text(), "1 PROOF OVERDUE")
	assert.Contains(t, landing1.Text(), "6 never proven")

	overview := getPage(t, ts, "/", http.StatusOK)
	link := overview.Find(`[data-testid="walktest-link"]`)
	assert.Equal(t, "/walktest", link.AttrOr("href", ""))
	assert.Equal(t, "9", link.AttrOr("data-due", ""))
	assert.Equal(t, "9 need proving", link.Find(`[data-testid="due-count"]`).Text(), "in the walk test page's words")
}

func TestWalkTestPageWhenEverythingIsProven(t *testing.T) {
	f := newFakeWing() // the default: every 30 days
	proveAll(f, "officer-7")
	f.advance(29 * 24 * time.Hour)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/walktest", http.StatusOK)
	assert.Equal(t, "All 9 inputs proven within 30 days.", strings.TrimSpace(doc.Find(`[data-testid="proof-summary"]`).Text()))
	assert.Zero(t, doc.Find(`[data-status="overdue"], [data-status="never"]`).Length())
	link := doc.Find(`[data-testid="walktest-link"]`)
	assert.Equal(t, "0", link.AttrOr("data-due", ""))
	assert.Zero(t, link.Find(`[data-testid="due-count"]`).Length(), "no count when nothing is due")

	f.advance(2 * 24 * time.Hour)
	doc = getPage(t, ts, "/walktest", http.StatusOK)
	assert.Equal(t, 9, doc.Find(`[data-status="overdue"]`).Length(), "31 days on, every proof is overdue")
}

func TestWalkTestStartAndEndFromTheScreen(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/walktest", http.StatusOK)
	controls := doc.Find(`[data-testid="walktest-controls"]`)
	assert.Equal(t, "false", controls.AttrOr("data-running", ""))
	assert.Equal(t, "/walktest/start", controls.Find("form").AttrOr("action", ""))
	assert.Equal(t, []string{"15", "30", "60"}, controls.Find(`select[name="minutes"] option`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }))
	assert.Equal(t, "30", controls.Find(`option[selected]`).AttrOr("value", ""))
	assert.Zero(t, doc.Find(`[data-testid="walktest-end"]`).Length())
	assert.Equal(t, "false", doc.Find(`[data-testid="walktest-banner"]`).AttrOr("data-running", ""))
	assert.Empty(t, strings.TrimSpace(doc.Find(`[data-testid="walktest-banner"]`).Text()))

	resp := postForm(t, ts, "/walktest/start", url.Values{"minutes": {"15"}, "officer": {"someone-else"}}, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/walktest", resp.Header.Get("Location"))
	started := f.lastEvent(t)
	assert.Equal(t, event.WalkTestStarted, started.Kind)
	assert.Equal(t, testOfficer, started.Actor, "the configured officer, not anything the browser says")
	until := started.Wall.Add(15 * time.Minute)
	assert.Equal(t, until.UTC().Format(time.RFC3339), started.Data["until"])

	for _, path := range []string{"/", "/events", "/walktest", "/no-such-page"} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		banner := doc.Find(`[data-testid="walktest-banner"]`)
		assert.Equal(t, "true", banner.AttrOr("data-running", ""), path)
		assert.Contains(t, banner.Text(), "WALK TEST of the whole wing until "+until.In(time.Local).Format("15:04"), path)
		assert.Contains(t, banner.Text(), "cell calls are proven, not raised; staff and door alarms still raise", path)
		assert.Contains(t, banner.Text(), "("+testOfficer+")", path)
	}
	doc = getPage(t, ts, "/walktest", http.StatusOK)
	assert.Equal(t, "true", doc.Find(`[data-testid="walktest-controls"]`).AttrOr("data-running", ""))
	assert.Zero(t, doc.Find(`[data-testid="walktest-start"]`).Length())
	assert.Equal(t, "/walktest/end", doc.Find(`[data-testid="walktest-controls"] form`).AttrOr("action", ""))

	resp = postForm(t, ts, "/walktest/end", nil, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/walktest", resp.Header.Get("Location"))
	ended := f.lastEvent(t)
	assert.Equal(t, event.WalkTestEnded, ended.Kind)
	assert.Equal(t, testOfficer, ended.Actor)
	doc = getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "false", doc.Find(`[data-testid="walktest-banner"]`).AttrOr("data-running", ""))
}

// TestWalkTestOfALandingOrOfChosenPoints: a supervisor tests one landing,
// or the points ticked; the banner says what it covers, and the rows it
// covers are marked.
func TestWalkTestOfALandingOrOfChosenPoints(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/walktest", http.StatusOK)
	assert.Equal(t, []string{"wing", "landing:1", "landing:2", "points"},
		doc.Find(`select[name="scope"] option`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }))
	assert.Equal(t, "walktest-start-form", doc.Find(`[data-testid="choose-A1-02"]`).AttrOr("form", ""), "the boxes belong to the start form")

	resp := postForm(t, ts, "/walktest/start", url.Values{"minutes": {"15"}, "scope": {"landing:2"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "2", f.lastEvent(t).Data["landing"])
	doc = getPage(t, ts, "/walktest", http.StatusOK)
	assert.Contains(t, doc.Find(`[data-testid="walktest-banner"]`).Text(), "WALK TEST of landing 2 until")
	assert.Contains(t, doc.Find(`[data-testid="walktest-banner"]`).Text(), "other cell calls, staff and door alarms raise")
	assert.Equal(t, "true", doc.Find(`[data-testid="proof-A2-01"]`).AttrOr("data-covered", ""))
	assert.Equal(t, "false", doc.Find(`[data-testid="proof-A1-01"]`).AttrOr("data-covered", ""))
	assert.Contains(t, doc.Find(`[data-testid="proof-group-sum-2"]`).Text(), "1 in this walk test")
	assert.Zero(t, doc.Find(`input[name="point"]`).Length(), "nothing to tick while a walk test runs")

	require.Equal(t, http.StatusSeeOther, postForm(t, ts, "/walktest/end", nil, nil).StatusCode)
	resp = postForm(t, ts, "/walktest/start", url.Values{"scope": {"points"}, "point": {"A1-01", "A-STAFF"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "A1-01,A-STAFF", f.lastEvent(t).Data["points"])
	assert.Contains(t, getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="walktest-banner"]`).Text(), "WALK TEST of 2 points until")

	for form, says := range map[string]string{
		"scope=points":           "no point is ticked",
		"scope=landing:9":        `the wing has no landing "9"`,
		"scope=everything":       `"everything" is not a choice`,
		"scope=points&point=Z99": `wing A has no door or alarm point "Z99"`,
	} {
		before := f.recordCount()
		v, _ := url.ParseQuery(form)
		resp := postForm(t, ts, "/walktest/start", v, nil)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, form)
		assert.Contains(t, docOf(t, resp).Find(`[data-testid="message"]`).Text(), says, form)
		assert.Equal(t, before, f.recordCount(), form)
	}
}

// TestOtherWingsWalkTestsShowOnEveryScreen: another wing's running walk
// test is on this wing's screens.
func TestOtherWingsWalkTestsShowOnEveryScreen(t *testing.T) {
	f := newFakeWing()
	f.add(event.Event{Wing: "B", Wall: f.ago(0), ClockTrusted: true, Kind: event.WalkTestStarted, Subject: "B", Actor: "2002",
		Data: map[string]string{"until": f.ago(-20 * time.Minute).UTC().Format(time.RFC3339), "landing": "3", "points": "B3-01,B3-02"}})
	_, ts := serve(t, f)
	for _, path := range []string{"/", "/events", "/walktest", "/site", "/plan"} {
		banner := getPage(t, ts, path, http.StatusOK).Find(`[data-testid="walktest-banner"]`)
		assert.Equal(t, "false", banner.AttrOr("data-running", ""), "%s: not this wing's", path)
		assert.Equal(t, "1", banner.AttrOr("data-others", ""), path)
		assert.Contains(t, banner.Find(`[data-testid="walktest-other-B"]`).Text(), "Wing B: walk test of landing 3 until", path)
	}
}

func TestWalkTestBannerGoesWhenItRunsOut(t *testing.T) {
	f := newFakeWing()
	require.NoError(t, f.StartWalkTest(t.Context(), officer("officer-7"), 30*time.Minute, wing.WalkTestPoints{}))
	_, ts := serve(t, f)
	assert.Equal(t, "true", getPage(t, ts, "/", http.StatusOK).Find(`[data-testid="walktest-banner"]`).AttrOr("data-running", ""))

	f.advance(30 * time.Minute)
	doc := getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, "false", doc.Find(`[data-testid="walktest-banner"]`).AttrOr("data-running", ""),
		"past its end the walk test is over, before the appliance records that it ended")
}

func TestWalkTestActionProblems(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	for _, c := range []struct {
		name   string
		path   string
		form   url.Values
		header http.Header
		status int
		says   string
	}{
		{"minutes not a number", "/walktest/start", url.Values{"minutes": {"half an hour"}}, nil, http.StatusBadRequest, `"half an hour" is not a whole number of minutes from 1 to 120`},
		{"minutes zero", "/walktest/start", url.Values{"minutes": {"0"}}, nil, http.StatusBadRequest, "from 1 to 120"},
		{"minutes too many", "/walktest/start", url.Values{"minutes": {"600"}}, nil, http.StatusBadRequest, "from 1 to 120"},
		{"cross-site start", "/walktest/start", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "came from another site"},
		{"cross-site end", "/walktest/end", nil, http.Header{"Sec-Fetch-Site": nil, "Origin": {"http://evil.example"}}, http.StatusForbidden, "came from another site"},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := postForm(t, ts, c.path, c.form, c.header)
			require.Equal(t, c.status, resp.StatusCode)
			doc, err := goquery.NewDocumentFromReader(resp.Body)
			require.NoError(t, err)
			assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), c.says)
			assert.Zero(t, f.recordCount(), "nothing recorded")
		})
	}

	f.walkErr = errors.New("fake: store closed")
	for path, says := range map[string]string{
		"/walktest/start": "could not be started, so cell calls still raise alarms",
		"/walktest/end":   "could not be ended",
	} {
		resp := postForm(t, ts, path, nil, nil)
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode, path)
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		require.NoError(t, err)
		assert.Contains(t, doc.Find(`[data-testid="message"]`).Text(), says, path)
		assert.NotContains(t, doc.Text(), "store closed", "internal detail goes to the log")
	}
}

func TestProofPeriodInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		24 * time.Hour:      "1 day",
		30 * 24 * time.Hour: "30 days",
		12 * time.Hour:      "12 hours",
		90 * time.Minute:    "1h30m0s",
	} {
		assert.Equal(t, want, proofSummary{ProveEvery: d}.period(), d)
	}
}
