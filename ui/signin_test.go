package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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

func docOf(t *testing.T, resp *http.Response) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	require.NoError(t, err)
	return doc
}

func TestSignInFromThePad(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	b := visitor(t, ts)

	doc := docOf(t, getAs(t, ts, b, "/signin?next=/walktest"))
	form := doc.Find(`form[action="/signin"]`)
	assert.Equal(t, b.token, form.Find(`input[name="csrf"]`).AttrOr("value", ""), "the pad's form carries the token")
	assert.Equal(t, "/walktest", form.Find(`input[name="next"]`).AttrOr("value", ""))
	assert.Equal(t, "password", form.Find(`[data-testid="signin-pin"]`).AttrOr("type", ""))
	assert.Equal(t, 12, form.Find(`[data-testid="keypad"] button`).Length(), "ten digits, delete and next")
	assert.Equal(t, 1, doc.Find(`#live-status`).Length(), "on the board the pad has the live frame of every page")

	// A wrong PIN: refused, the number kept, the PIN not.
	resp := postFormAs(t, ts, b, "/signin", url.Values{"officer": {"1001"}, "pin": {"1112"}, "next": {"/walktest"}}, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	doc = docOf(t, resp)
	assert.Contains(t, doc.Find(`[data-testid="signin-problem"]`).Text(), "That officer number and PIN do not match")
	assert.Equal(t, "1001", doc.Find(`[data-testid="signin-officer"]`).AttrOr("value", ""))
	html, _ := doc.Html()
	assert.NotContains(t, html, "1112")

	// The right PIN: a new browser id, then the page asked for.
	resp = postFormAs(t, ts, b, "/signin", url.Values{"officer": {"1001"}, "pin": {"1111"}, "next": {"/walktest"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/walktest", resp.Header.Get("Location"))
	signedIn := tab{cookie: cookieOf(resp)}
	require.NotEmpty(t, signedIn.cookie)
	assert.NotEqual(t, b.cookie, signedIn.cookie, "a sign-in gives the browser a new id")
	for _, c := range resp.Cookies() {
		assert.True(t, c.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, c.SameSite)
		assert.Equal(t, "/", c.Path)
	}
	doc = docOf(t, getAs(t, ts, signedIn, "/"))
	officer := doc.Find(`[data-testid="officer"]`)
	assert.Equal(t, "1001", officer.AttrOr("data-officer", ""))
	assert.Contains(t, officer.Text(), "1001 · officer")
	assert.Equal(t, 1, officer.Find(`[data-testid="switch-officer"]`).Length())
	assert.Equal(t, "true", doc.Find("body").AttrOr("data-signed-in", ""))
	assert.Equal(t, "120000", doc.Find("body").AttrOr("data-idle-ms", ""))
	assert.Zero(t, docOf(t, getAs(t, ts, signedIn, "/site")).Find(`[data-testid="officers-link"]`).Length(), "an officer does not manage the roster")
	assert.Zero(t, docOf(t, getAs(t, ts, b, "/")).Find(`[data-testid="officer"]`).Length(), "the old id is not signed in")

	for _, c := range []struct {
		name   string
		form   url.Values
		header http.Header
		status int
		says   string
	}{
		{"no token", url.Values{"officer": {"1001"}, "pin": {"1111"}, "csrf": {""}}, nil, http.StatusForbidden, "did not carry the screen"},
		{"cross-site", url.Values{"officer": {"1001"}, "pin": {"1111"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden, "came from another site"},
		{"too long", url.Values{"officer": {strings.Repeat("1", 65)}, "pin": {"1111"}}, nil, http.StatusBadRequest, "too long"},
		{"no such officer", url.Values{"officer": {"7777"}, "pin": {"1111"}}, nil, http.StatusUnauthorized, "do not match"},
	} {
		resp := postFormAs(t, ts, b, "/signin", c.form, c.header)
		assert.Equal(t, c.status, resp.StatusCode, c.name)
		body, _ := io.ReadAll(resp.Body)
		assert.Contains(t, string(body), c.says, c.name)
		assert.Empty(t, cookieOf(resp), "%s: nobody signed in", c.name)
	}

	f.mu.Lock()
	f.officers.locked = map[string]time.Time{"2001": time.Date(2026, 3, 2, 10, 0, 30, 0, time.Local)}
	f.mu.Unlock()
	resp = postFormAs(t, ts, b, "/signin", url.Values{"officer": {"2001"}, "pin": {"2222"}}, nil)
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Contains(t, docOf(t, resp).Find(`[data-testid="signin-problem"]`).Text(), "Too many wrong PINs for officer 2001: signing in as 2001 is locked until 10:00:30")

	// A next elsewhere goes to the overview.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/signin"} {
		resp := postFormAs(t, ts, b, "/signin", url.Values{"officer": {"1001"}, "pin": {"1111"}, "next": {next}}, nil)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"), next)
	}
}

func TestSignOutAndSwitchOfficer(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	b := signIn(t, ts, "1001", "1111")

	resp := postFormAs(t, ts, b, "/signout", url.Values{"reason": {"switch"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/signin", resp.Header.Get("Location"), "a quick switch shows the pad")
	next := tab{cookie: cookieOf(resp)}
	assert.NotEqual(t, b.cookie, next.cookie)
	assert.Equal(t, 1, docOf(t, getAs(t, ts, b, "/")).Find(`[data-testid="signed-out"]`).Length(), "the switched-out officer is signed out")

	b = signIn(t, ts, "2001", "2222")
	resp = postFormAs(t, ts, b, "/signout", url.Values{"reason": {"signed-out"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/", resp.Header.Get("Location"))

	// Signing in where another officer is signed in is a switch too.
	b = signIn(t, ts, "1001", "1111")
	b = tab{cookie: b.cookie, token: b.token}
	resp = postFormAs(t, ts, b, "/signin", url.Values{"officer": {"2001"}, "pin": {"2222"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	assert.Equal(t, []string{"in 1001", "out 1001 switch", "in 2001", "out 2001 signed-out", "in 1001", "in 2001", "out 1001 switch"}, f.signIns())

	resp = postFormAs(t, ts, tab{}, "/signout", nil, nil)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a sign-out without the token is refused")
}

// TestIdleSignOut: a session untouched for the wing's idle time ends and
// is recorded as idle; touches from the page's script keep it alive.
func TestIdleSignOut(t *testing.T) {
	f := newFakeWing()
	srv, ts := serve(t, f)
	b := signIn(t, ts, "1001", "1111")
	touch := func(ago string) int {
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/session/touch?ago="+ago, nil)
		require.NoError(t, err)
		b.add(req)
		req.Header.Set(csrfHeader, b.token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	signedIn := func() bool { return docOf(t, getAs(t, ts, b, "/")).Find(`[data-testid="officer"]`).Length() == 1 }

	f.advance(100 * time.Second)
	assert.Equal(t, http.StatusNoContent, touch("10000"), "touched 10 s ago")
	f.advance(100 * time.Second)
	srv.endIdle()
	assert.True(t, signedIn(), "110 s after the last touch")
	assert.Equal(t, "10000", docOf(t, getAs(t, ts, b, "/")).Find("body").AttrOr("data-idle-left-ms", ""), "the script is told what is left")
	assert.Equal(t, http.StatusNoContent, touch("999999"), "a touch the script says was long ago counts as at most 30 s ago")
	f.advance(80 * time.Second)
	srv.endIdle()
	assert.True(t, signedIn(), "110 s after the touch, taken as 30 s before it was heard")
	f.advance(10 * time.Second)
	assert.False(t, signedIn(), "2 minutes untouched: signed out at once, before the sweep")
	srv.endIdle()
	assert.Equal(t, []string{"in 1001", "out 1001 idle"}, f.signIns())
	assert.Equal(t, http.StatusUnauthorized, touch("0"), "the script learns that it is signed out")

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/session/touch", nil)
	require.NoError(t, err)
	b.add(req)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a touch needs the token")
}

// TestRosterChangesReachSessions: an officer who leaves the roster is
// signed out; a role change applies at once.
func TestRosterChangesReachSessions(t *testing.T) {
	f := newFakeWing()
	srv, ts := serve(t, f)
	b := signIn(t, ts, "1001", "1111")
	sup := supervisor(t, ts)
	require.NoError(t, f.SetRole(t.Context(), f.Roster()[0], "1001", "supervisor"))
	resp := postFormAs(t, ts, b, "/walktest/start", nil, nil)
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "promoted, the officer starts a walk test")
	require.NoError(t, f.RemoveOfficer(t.Context(), f.Roster()[0], "1001"))
	resp = postFormAs(t, ts, b, "/walktest/end", nil, nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "off the roster, signed out")
	srv.endIdle()
	assert.Contains(t, f.signIns(), "out 1001 removed")
	assert.Equal(t, http.StatusSeeOther, postFormAs(t, ts, sup, "/walktest/end", nil, nil).StatusCode)
}

// TestAPISignIn: a program signs in, acts with the token, and signs out.
func TestAPISignIn(t *testing.T) {
	f := newFakeWing()
	f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)

	resp, err := http.Post(ts.URL+"/api/v1/signin", "application/json", strings.NewReader(`{"officer": "1001", "pin": "1111"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	token, _ := got["csrf_token"].(string)
	assert.Equal(t, map[string]any{"id": "1001", "role": "officer"}, got["officer"])
	assert.Equal(t, float64(120), got["idle_s"])
	b := tab{cookie: cookieOf(resp), token: token}

	for _, c := range []struct {
		body, ctype string
		status      int
	}{
		{`{"officer": "1001", "pin": "1112"}`, "application/json", http.StatusUnauthorized},
		{`officer=1001&pin=1111`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{`{"officer": "1001", "pin": "1111", "role": "siteit"}`, "application/json", http.StatusBadRequest},
	} {
		resp, err := http.Post(ts.URL+"/api/v1/signin", c.ctype, strings.NewReader(c.body))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, c.status, resp.StatusCode, c.body)
		assert.Empty(t, cookieOf(resp)[:0])
	}

	req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/v1/alarms/A/1/acknowledge", nil)
	require.NoError(t, err)
	b.add(req)
	req.Header.Set(csrfHeader, b.token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "1001", f.lastEvent(t).Actor)

	req, err = http.NewRequest(http.MethodPost, ts.URL+"/api/v1/signout", nil)
	require.NoError(t, err)
	b.add(req)
	req.Header.Set(csrfHeader, b.token)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Equal(t, []string{"in 1001", "refused", "out 1001 signed-out"}, f.signIns())
}

// offBoard serves r as if it came from another machine on the network.
func offBoard(srv *Server, method, path string, b tab, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	r.RemoteAddr = "10.1.2.30:51000"
	b.add(r)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

// TestOffBoardNeedsSignInToRead: from off the board, everything but the
// health check and the sign-in pad needs a signed-in officer, and the pad
// shows nothing of the wing; the kiosk on the board reads all signed out.
func TestOffBoardNeedsSignInToRead(t *testing.T) {
	f := newFakeWing()
	f.raise("A-STAFF", "staff-alarm", 1)
	srv, ts := serve(t, f)

	for _, path := range []string{"/", "/events", "/walktest", "/site", "/officers", "/live?page=overview", "/api/v1/state", "/api/v1/events", "/api/v1/events/tail", "/api/v1/site"} {
		w := offBoard(srv, http.MethodGet, path, tab{}, nil)
		assert.Equal(t, http.StatusUnauthorized, w.Code, path)
		assert.NotContains(t, w.Body.String(), "A-STAFF", "%s: nothing of the wing", path)
		assert.NotContains(t, w.Body.String(), "staff", path)
	}
	w := offBoard(srv, http.MethodGet, "/events?kind=door.opened", tab{}, nil)
	doc, err := goquery.NewDocumentFromReader(w.Body)
	require.NoError(t, err)
	assert.Equal(t, "/events?kind=door.opened", doc.Find(`input[name="next"]`).AttrOr("value", ""), "the pad comes back to the page asked for")
	assert.Zero(t, doc.Find("#live-status").Length(), "no live frame off the board")
	assert.Zero(t, doc.Find("nav").Length())
	assert.Contains(t, offBoard(srv, http.MethodGet, "/api/v1/state", tab{}, nil).Body.String(), `"error":"Sign in to see the wing from off its own screen."`)
	for _, path := range []string{"/healthz", "/signin", "/static/app.css"} {
		assert.Equal(t, http.StatusOK, offBoard(srv, http.MethodGet, path, tab{}, nil).Code, path)
	}

	b := signIn(t, ts, "1001", "1111")
	w = offBoard(srv, http.MethodGet, "/api/v1/state", b, nil)
	assert.Equal(t, http.StatusOK, w.Code, "signed in, off the board reads")
	assert.Contains(t, w.Body.String(), "A-STAFF")

	// Other credentials may read, never act.
	srv.opt.ReadCredentials = func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer site-it" }
	it := http.Header{"Authorization": {"Bearer site-it"}}
	assert.Equal(t, http.StatusOK, offBoard(srv, http.MethodGet, "/api/v1/events", tab{}, it).Code)
	assert.Equal(t, http.StatusUnauthorized, offBoard(srv, http.MethodGet, "/api/v1/events", tab{}, http.Header{"Authorization": {"Bearer wrong"}}).Code)
	before := f.recordCount()
	assert.Equal(t, http.StatusUnauthorized, offBoard(srv, http.MethodPost, "/api/v1/alarms/A/1/acknowledge", tab{}, it).Code)
	assert.Equal(t, before, f.recordCount())

	// On the board, signed out, the kiosk shows every alarm.
	doc = getPage(t, ts, "/", http.StatusOK)
	assert.Equal(t, 1, doc.Find(`[data-testid="alarm-A-1"]`).Length(), "alarms are never hidden behind a sign-in")
}

func TestHostMustNameTheWing(t *testing.T) {
	f := newFakeWing()
	srv, _ := serve(t, f)
	srv.opt.Hosts = []string{"a-wing.site.lan", "10.1.2.3"}
	for host, want := range map[string]int{
		"127.0.0.1:8080": http.StatusOK, "localhost:8080": http.StatusOK, "[::1]:8080": http.StatusOK, "LOCALHOST": http.StatusOK,
		"a-wing.site.lan:8080": http.StatusOK, "A-Wing.Site.Lan.": http.StatusOK, "10.1.2.3:8080": http.StatusOK,
		"evil.example": http.StatusMisdirectedRequest, "a-wing.site.lan.evil.example:8080": http.StatusMisdirectedRequest,
		"10.1.2.4:8080": http.StatusMisdirectedRequest, "": http.StatusMisdirectedRequest,
	} {
		r := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		r.Host = host
		r.RemoteAddr = "127.0.0.1:50000"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		assert.Equal(t, want, w.Code, host)
		if want != http.StatusOK {
			assert.Contains(t, w.Body.String(), "This wing does not answer to the name")
			assert.NotContains(t, w.Body.String(), "A wing", "nothing of the wing for a page that reached it by a forged name")
		}
	}
}

// mutatingRoutes is every route that changes something, with a request
// that the right officer may make, the role it needs, and what it changes.
func mutatingRoutes() []struct {
	path, form, json string
	role             string
} {
	return []struct {
		path, form, json string
		role             string
	}{
		{"/alarms/A/1/acknowledge", "", "", "officer"},
		{"/alarms/A/1/attend", "", "", "officer"},
		{"/alarms/A/1/resolve", "outcome=false-alarm&note=done", "", "officer"},
		{"/alarms/A/3/close-remotely", "reason=reset+key+broken", "", "supervisor"},
		{"/regime", "regime=night", "", "supervisor"},
		{"/walktest/start", "minutes=15&scope=landing:1", "", "supervisor"},
		{"/walktest/end", "", "", "supervisor"},
		{"/site/lockdown/declare", "reason=fire&confirm=yes", "", "supervisor"},
		{"/site/lockdown/end", "confirm=yes", "", "supervisor"},
		{"/api/v1/alarms/A/2/acknowledge", "", "{}", "officer"},
		{"/api/v1/alarms/A/2/attend", "", "{}", "officer"},
		{"/api/v1/alarms/A/2/resolve", "", `{"outcome": "false-alarm", "note": "done"}`, "officer"},
		{"/api/v1/alarms/A/4/close-remotely", "", `{"reason": "reset key broken"}`, "supervisor"},
		{"/api/v1/regime", "", `{"regime": "lockup"}`, "supervisor"},
		{"/api/v1/walktest/start", "", `{"minutes": 15}`, "supervisor"},
		{"/api/v1/walktest/end", "", "{}", "supervisor"},
		{"/api/v1/site/lockdown", "", `{"active": true, "reason": "fire"}`, "supervisor"},
		{"/officers/add", "officer=1003&role=officer&pin=4821", "", "supervisor"},
		{"/officers/2001/pin", "pin=4821", "", "supervisor"},
		{"/officers/1003/remove", "", "", "supervisor"},
		{"/officers/1001/role", "role=supervisor", "", "siteit"},
	}
}

// TestEveryMutatingRouteRefuses: anonymous, the wrong role, another
// site's page, a forged Host, a missing or wrong CSRF token: every one is
// refused and records nothing; then the right officer succeeds.
func TestEveryMutatingRouteRefuses(t *testing.T) {
	f := newFakeWing()
	f.raise("A-STAFF", "staff-alarm", 1)  // A/1: acknowledged, attended and resolved from the panel
	f.raise("A-STAFF", "staff-alarm", 1)  // A/2: likewise, through the API
	f.raise("A1-01-CALL", "cell-call", 2) // A/3: closed remotely
	f.raise("A1-02-CALL", "cell-call", 2) // A/4: likewise, through the API
	_, ts := serve(t, f)
	officer := signIn(t, ts, "1001", "1111")
	sup := signIn(t, ts, "2001", "2222")
	siteIT := signIn(t, ts, "9001", "9999")
	anon := visitor(t, ts)
	asOf := map[string]tab{"officer": officer, "supervisor": sup, "siteit": siteIT}
	lower := map[string]tab{"supervisor": officer, "siteit": sup}

	post := func(path, form, body string, b tab, header http.Header) *http.Response {
		t.Helper()
		ctype, payload := "application/x-www-form-urlencoded", form
		if strings.HasPrefix(path, "/api/") {
			ctype, payload = "application/json", body
		}
		req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(payload))
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
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	state := func() string {
		return fmt.Sprintf("%d %+v %+v", f.recordCount(), f.Site().Lockdown, f.rosterWithPINs())
	}

	for _, r := range mutatingRoutes() {
		cases := map[string]struct {
			b      tab
			header http.Header
			status int
		}{
			"anonymous":                       {tab{}, nil, http.StatusUnauthorized},
			"signed out with a token":         {anon, nil, http.StatusUnauthorized},
			"cross-origin":                    {asOf[r.role], http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"http://evil.example"}}, http.StatusForbidden},
			"other origin, no fetch metadata": {asOf[r.role], http.Header{"Sec-Fetch-Site": nil, "Origin": {"http://evil.example"}}, http.StatusForbidden},
			"forged Host":                     {asOf[r.role], http.Header{"Host": {"evil.example"}}, http.StatusMisdirectedRequest},
			"no CSRF token":                   {tab{cookie: asOf[r.role].cookie}, nil, http.StatusForbidden},
			"another browser's token":         {tab{cookie: asOf[r.role].cookie, token: anon.token}, nil, http.StatusForbidden},
		}
		if b, ok := lower[r.role]; ok {
			cases["wrong role"] = struct {
				b      tab
				header http.Header
				status int
			}{b, nil, http.StatusForbidden}
		}
		for name, c := range cases {
			before := state()
			var resp *http.Response
			if name == "forged Host" {
				req, err := http.NewRequest(http.MethodPost, ts.URL+r.path, strings.NewReader(r.form+r.json))
				require.NoError(t, err)
				req.Host = "evil.example"
				c.b.add(req)
				req.Header.Set(csrfHeader, c.b.token)
				resp, err = http.DefaultClient.Do(req)
				require.NoError(t, err)
				resp.Body.Close()
			} else {
				resp = post(r.path, r.form, r.json, c.b, c.header)
			}
			assert.Equal(t, c.status, resp.StatusCode, "%s: %s", r.path, name)
			assert.Equal(t, before, state(), "%s: %s: nothing recorded or changed", r.path, name)
		}
		before := state()
		resp := post(r.path, r.form, r.json, asOf[r.role], nil)
		assert.Contains(t, []int{http.StatusOK, http.StatusNoContent, http.StatusSeeOther}, resp.StatusCode, "%s: the right officer", r.path)
		assert.NotEqual(t, before, state(), "%s: the right officer's request changes something", r.path)
	}
	a := f.State().Alarms[event.ID{Wing: "A", Seq: 1}]
	assert.Equal(t, "1001", a.Acknowledged.By, "acts are the signed-in officer's")
	assert.Equal(t, "1001", a.Attended.By)
	assert.Equal(t, "false-alarm", a.Resolved.Outcome)
	assert.True(t, f.State().Alarms[event.ID{Wing: "A", Seq: 3}].Resolved.Remote)
	assert.Equal(t, wing.LockUp, f.State().Regimes["A"].Regime)
	for _, r := range mutatingRoutes() {
		if strings.Contains(r.path, "/clear") {
			t.Errorf("%s: one word for one thing, resolve", r.path)
		}
	}
}

// TestEveryFormCarriesTheToken: each form that posts, on every page and
// in the live stream's fragments, carries the browser's CSRF token.
func TestEveryFormCarriesTheToken(t *testing.T) {
	f := newFakeWing()
	f.raise("A1-01-CALL", "cell-call", 2)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	for _, path := range []string{"/", "/walktest", "/site", "/officers", "/signin", "/events"} {
		doc := docOf(t, getAs(t, ts, sup, path))
		forms := doc.Find(`form[method="post"]`)
		assert.Positive(t, forms.Length(), path)
		assert.Equal(t, forms.Length(), forms.Has(`input[name="csrf"][value="`+sup.token+`"]`).Length(), path)
		assert.Equal(t, sup.token, doc.Find(`meta[name="csrf-token"]`).AttrOr("content", ""), "%s: for the page's script", path)
	}
	resp := postFormAs(t, ts, sup, "/site/lockdown/declare", url.Values{"reason": {"fire"}}, nil)
	forms := docOf(t, resp).Find(`form[method="post"]`)
	assert.Equal(t, forms.Length(), forms.Has(`input[name="csrf"][value="`+sup.token+`"]`).Length(), "the confirmation page")

	// The live stream renders its fragments for the browser that opened it.
	req, err := http.NewRequest(http.MethodGet, ts.URL+"/live?page=overview", nil)
	require.NoError(t, err)
	sup.add(req)
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}
	live, err := client.Do(req)
	require.NoError(t, err)
	defer live.Body.Close()
	sc := bufio.NewScanner(live.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: <section id=\"alarms\"") {
			assert.Contains(t, line, `name="csrf" value="`+sup.token+`"`)
			return
		}
	}
	t.Fatal("the stream sent no alarm panel")
}
