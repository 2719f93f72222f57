package ui

import (
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStylesheetsDoNotShareClasses: every page loads app.css and
// shift.css, so a class that both style on its own (".outcomes") is
// styled by both, whichever page it is on (the shift's .at-door once
// painted the alarm cards' "Attend at the cell door" yellow). Only the
// shared ones below may be in both.
func TestStylesheetsDoNotShareClasses(t *testing.T) {
	shared := []string{".button", ".done"}
	rule := regexp.MustCompile(`(?m)^(\.[a-z][a-z0-9-]*)\b`)
	classes := func(name string) map[string]bool {
		css, err := static.ReadFile("static/" + name)
		require.NoError(t, err)
		out := map[string]bool{}
		for _, m := range rule.FindAllStringSubmatch(string(css), -1) {
			out[m[1]] = true
		}
		return out
	}
	app, shift := classes("app.css"), classes("shift.css")
	require.NotEmpty(t, app)
	require.NotEmpty(t, shift)
	for c := range shift {
		if app[c] && !slices.Contains(shared, c) {
			assert.Fail(t, "a class styled by both stylesheets", "%s: name the shift's one for what it is on its page", c)
		}
	}
}
