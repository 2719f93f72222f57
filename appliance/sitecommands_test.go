package appliance_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// TestSiteCommandsAreCheckedAtApply runs three real wings on loopback and
// has wing B, with its own site certificate, send the site API what the
// issue found accepted: a lockdown by a forged officer, with a 60 KB
// reason or a bidi override, a roster of invalid numbers, and a rollout report for
// wing C in C's name. Each is refused with its reason, nothing changes on
// any wing, the refusal names B as the wing that sent it, and the Site
// screen shows why; a lockdown by a supervisor on the roster still holds.
func TestSiteCommandsAreCheckedAtApply(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	wings := wingtest.StartSite(t, []string{"A", "B", "C"}, 3, nil)
	a, b, c := wings[0], wings[1], wings[2]
	for _, w := range wings {
		require.Eventually(t, func() bool { return w.Status().Agreed.Rules >= 1 }, 20*time.Second, 20*time.Millisecond, "wing %s checks commands by the rules", w.Layout().ID)
	}
	id, err := trust.LoadIdentity(b.Data.Identity())
	require.NoError(t, err)
	asB := site.Client{HTTP: id.HTTPClient(nil)}
	addrB := b.SiteAddr(t)
	ctx := t.Context()
	propose := func(cmd site.Command) error {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return asB.Propose(ctx, addrB, cmd)
	}
	// Site IT puts a supervisor on the roster, through B's command line.
	require.NoError(t, propose(site.Command{Op: site.OpOfficerSet, By: site.SiteIT, Officer: &roster.Entry{ID: "2001", Role: roster.Supervisor}}))

	forged := wing.Lockdown{Active: true, By: "governor-forged", Reason: strings.Repeat("x", 60<<10), Since: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}
	cases := []struct {
		name, reason string
		cmd          site.Command
	}{
		{"a forged officer", `"governor-forged" is not on the site's roster`, site.Command{Op: site.OpLockdown, By: "governor-forged", Lockdown: &forged}},
		{"a supervisor's name on the forgery", `in the name of "governor-forged"`, site.Command{Op: site.OpLockdown, By: "2001", Lockdown: &forged}},
		{"a 60 KB reason", "at most 200", site.Command{Op: site.OpLockdown, By: "2001", Lockdown: &wing.Lockdown{Active: true, By: "2001", Reason: forged.Reason, Since: time.Now()}}},
		{"a reason with a bidi override", "U+202E", site.Command{Op: site.OpLockdown, By: "2001", Lockdown: &wing.Lockdown{Active: true, By: "2001", Reason: "drill \u202e", Since: time.Now()}}},
		{"a roster of invalid numbers", "is not an officer number", site.Command{Op: site.OpRoster, By: site.SiteIT, Roster: site.Roster{{ID: "John Smith", Role: roster.SiteIT}}}},
		{"B reports for C, in C's name", `wing B cannot report the rollout for wing "C"`, site.Command{Op: site.OpRolloutReport, From: "C", Wing: "C", Build: 7}},
	}
	for _, tc := range cases {
		err := propose(tc.cmd)
		require.Error(t, err, tc.name)
		assert.Contains(t, err.Error(), tc.reason, "%s: the proposer is told why", tc.name)
	}
	for _, w := range wings {
		require.Eventually(t, func() bool { return len(w.Status().Agreed.Refused) == len(cases) }, 10*time.Second, 20*time.Millisecond, "wing %s holds the refusals", w.Layout().ID)
		st := w.Status().Agreed
		assert.False(t, st.Lockdown.Active, "wing %s: no lockdown", w.Layout().ID)
		assert.Equal(t, []roster.Actor{{ID: "2001", Role: roster.Supervisor}}, st.Roster, "wing %s: the roster unchanged", w.Layout().ID)
		for i, r := range st.Refused {
			assert.Equal(t, "B", r.From, "wing %s: %s was B's", w.Layout().ID, cases[i].name)
			assert.Contains(t, r.Reason, cases[i].reason, "wing %s: %s", w.Layout().ID, cases[i].name)
		}
	}
	assert.Equal(t, a.Status().Agreed.Refused, c.Status().Agreed.Refused, "every wing refused alike")

	// Wing C's Site screen says why.
	resp, err := http.Get("http://" + c.HTTP + "/site")
	require.NoError(t, err)
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	reasons := doc.Find(`[data-testid="site-refused-reason"]`)
	require.Equal(t, len(cases), reasons.Length())
	assert.Contains(t, reasons.First().Text(), `wing B cannot report the rollout for wing "C"`, "the newest first")
	assert.Contains(t, reasons.Last().Text(), `"governor-forged" is not on the site's roster`)
	assert.NotContains(t, doc.Text(), strings.Repeat("x", 300), "the forged reason is not shown")

	// The supervisor declares a lockdown from wing C's screen: agreed.
	require.NoError(t, c.SetLockdown(ctx, wingtest.Supervisor("2001"), true, "drill on landing 2"))
	for _, w := range wings {
		require.Eventually(t, func() bool { return w.Status().Agreed.Lockdown.Active }, 10*time.Second, 20*time.Millisecond, "wing %s is locked down", w.Layout().ID)
	}
	assert.Equal(t, "2001", a.Status().Agreed.Lockdown.By)
	// An officer the roster does not make a supervisor is refused, even
	// when the screen's session says otherwise.
	err = b.SetLockdown(ctx, wingtest.Supervisor("1001"), false, "")
	require.ErrorIs(t, err, site.ErrRefused)
	assert.Contains(t, err.Error(), `"1001" is not on the site's roster`)
	assert.True(t, b.Status().Agreed.Lockdown.Active)
}
