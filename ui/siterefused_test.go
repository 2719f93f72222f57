package ui

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSiteScreenListsRefusedCommands: the commands the site refused at
// apply show on the Site screen, the newest first, with the wing that
// proposed each, who it said acted and why it was refused; the JSON API
// carries them too. A site with none shows no list.
func TestSiteScreenListsRefusedCommands(t *testing.T) {
	f := newFakeWing()
	st := threeWingSite(f)
	f.setSite(st)
	_, ts := serve(t, f)
	assert.Zero(t, getPage(t, ts, "/site", http.StatusOK).Find(`[data-testid="site-refused"]`).Length(), "none refused, no list")

	st.Refused = []RefusedCommand{
		{Index: 41, Op: "lockdown", From: "B", By: "governor-forged", At: f.ago(0),
			Reason: `declaring or ending a lockdown: "governor-forged" is not on the site's roster`},
		{Index: 57, Op: "rollout.report", From: "B", At: f.ago(0),
			Reason: `wing B cannot report the rollout for wing "C": each wing reports for itself`},
	}
	f.setSite(st)
	doc := getPage(t, ts, "/site", http.StatusOK)
	list := doc.Find(`[data-testid="site-refused"]`)
	require.Equal(t, 1, list.Length())
	rows := list.Find("tbody tr")
	require.Equal(t, 2, rows.Length())
	assert.Equal(t, "site-refused-57", rows.Eq(0).AttrOr("data-testid", ""), "the newest first")
	first := rows.Eq(1)
	assert.Equal(t, "lockdown", strings.TrimSpace(first.Find(".op").Text()))
	assert.Equal(t, "B", strings.TrimSpace(first.Find(".from").Text()))
	assert.Equal(t, "governor-forged", strings.TrimSpace(first.Find(".by").Text()))
	assert.Contains(t, first.Find(`[data-testid="site-refused-reason"]`).Text(), "is not on the site's roster")
	assert.NotEmpty(t, strings.TrimSpace(first.Find(".when").Text()), "when the site logged it")

	api := getJSON(t, ts, "/api/v1/site", http.StatusOK)
	refused, _ := api["refused"].([]any)
	require.Len(t, refused, 2)
	assert.Equal(t, "wing B cannot report the rollout for wing \"C\": each wing reports for itself", refused[1].(map[string]any)["reason"])
}
