package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/roster"
)

func TestOfficersPage(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	sup := signIn(t, ts, "2001", "2222")

	doc := docOf(t, getAs(t, ts, sup, "/site"))
	assert.Equal(t, "/officers", doc.Find(`[data-testid="officers-link"]`).AttrOr("href", ""), "a supervisor's Site screen opens Officers")
	resp := getAs(t, ts, sup, "/officers")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc = docOf(t, resp)
	assert.Equal(t, []string{"officer-officer-test", "officer-1001", "officer-2001", "officer-9001"}, testIDs(doc.Find(`.roster tbody tr`)))
	assert.Equal(t, 1, doc.Find(`[data-testid="reset-pin-1001"]`).Length())
	assert.Zero(t, doc.Find(`[data-testid="reset-pin-9001"]`).Length(), "a supervisor manages roles up to their own")
	assert.Zero(t, doc.Find(`[data-testid="remove-2001"]`).Length(), "not themselves")
	assert.Zero(t, doc.Find(`[data-testid="set-role-1001"]`).Length(), "only site IT changes roles")
	assert.Equal(t, []string{"officer", "supervisor"}, doc.Find(`[data-testid="add-role"] option`).Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("value", "") }))
	forms := doc.Find(`form[method="post"]`)
	assert.Equal(t, forms.Length(), forms.Has(`input[name="csrf"][value="`+sup.token+`"]`).Length(), "every form carries the token")

	resp = postFormAs(t, ts, sup, "/officers/add", url.Values{"officer": {"1003"}, "role": {"officer"}, "pin": {"4821"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Equal(t, "/officers?done=added&officer=1003", resp.Header.Get("Location"))
	doc = docOf(t, getAs(t, ts, sup, resp.Header.Get("Location")))
	assert.Contains(t, doc.Find(`[data-testid="officers-done"]`).Text(), "Officer 1003 was added")
	html, _ := doc.Html()
	assert.NotContains(t, html, "4821", "the PIN is never shown")
	signIn(t, ts, "1003", "4821")

	resp = postFormAs(t, ts, sup, "/officers/1003/pin", url.Values{"pin": {"5932"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	signIn(t, ts, "1003", "5932")
	resp = postFormAs(t, ts, sup, "/officers/1003/remove", nil, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.NotContains(t, f.Roster(), roster.Actor{ID: "1003", Role: roster.Officer})

	siteIT := signIn(t, ts, "9001", "9999")
	doc = docOf(t, getAs(t, ts, siteIT, "/officers"))
	assert.Equal(t, 1, doc.Find(`[data-testid="set-role-1001"]`).Length(), "site IT changes roles")
	resp = postFormAs(t, ts, siteIT, "/officers/1001/role", url.Values{"role": {"supervisor"}}, nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	assert.Contains(t, f.Roster(), roster.Actor{ID: "1001", Role: roster.Supervisor})

	// Refusals say why, and change nothing.
	for _, c := range []struct {
		err    error
		status int
		says   string
	}{
		{fmt.Errorf("%w: a supervisor cannot remove a siteit", ErrNotAllowed), http.StatusForbidden, "Not done: a supervisor cannot remove a siteit."},
		{fmt.Errorf("%w: no leader", ErrSiteUnreachable), http.StatusServiceUnavailable, "this wing cannot reach enough of the site"},
		{fmt.Errorf("officer 1001 is already on the roster: reset their PIN or change their role instead"), http.StatusBadRequest, "Not done: officer 1001 is already on the roster"},
	} {
		f.mu.Lock()
		f.officers.changErr = c.err
		f.mu.Unlock()
		resp := postFormAs(t, ts, sup, "/officers/add", url.Values{"officer": {"1001"}, "role": {"officer"}, "pin": {"4821"}}, nil)
		assert.Equal(t, c.status, resp.StatusCode, c.says)
		doc := docOf(t, resp)
		assert.Contains(t, doc.Find(`[data-testid="officers-problem"]`).Text(), c.says)
		html, _ := doc.Html()
		assert.NotContains(t, html, "4821")
	}

	officer := signIn(t, ts, "1001", "1111")
	f.mu.Lock()
	f.officers.roster[1].Role = roster.Officer
	f.mu.Unlock()
	resp = getAs(t, ts, officer, "/officers")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "an officer may not see the roster page")
	resp = getAs(t, ts, tab{}, "/officers")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, "/officers", docOf(t, resp).Find(`input[name="next"]`).AttrOr("value", ""), "the pad, then back here")
}
