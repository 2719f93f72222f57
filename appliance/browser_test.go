package appliance_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
	"wingnode/ui/browsertest"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// TestBrowserSeesASimulatedDoorOpen walks the whole path: an edge on a
// simulated GPIO pin, debounce, the store, the fold, the live stream, and
// the tile on a touchscreen-sized page in real Chromium.
func TestBrowserSeesASimulatedDoorOpen(t *testing.T) {
	tab := browsertest.Tab(t)
	r := wingtest.Start(t, appliance.Config{})
	tile := `document.querySelector('[data-testid="door-A2-10"]').dataset.state`
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate("http://"+r.HTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	state, err := chromedp.Run(tab, chromedp.Evaluate[string](tile))
	require.NoError(t, err)
	require.Equal(t, "closed", state)

	for _, want := range []struct {
		active bool
		state  string
	}{{true, "open"}, {false, "closed"}} {
		edge := time.Now()
		require.NoError(t, r.Sim().SetInput("A2-10", want.active))
		_, err := chromedp.Run(tab, chromedp.Poll[bool](tile+` === "`+want.state+`"`, chromedp.WithPollingTimeout(5*time.Second)))
		require.NoError(t, err, "tile never showed %s", want.state)
		t.Logf("edge to tile %s: %v", want.state, time.Since(edge))
	}
	browsertest.Screenshot(t, tab, "appliance-overview")
}

// demoWingWith runs the built-in wing with the demo roster and the
// changes made to its layout.
func demoWingWith(t *testing.T, change func(*config.Wing)) *wingtest.Wing {
	t.Helper()
	layout, err := config.Simulated("A")
	require.NoError(t, err)
	change(&layout)
	w := wingtest.Start(t, appliance.Config{Wing: layout, DemoRoster: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.Eventually(t, func() bool { return len(w.Roster()) == 3 }, 20*time.Second, 20*time.Millisecond, "the demo roster is seeded")
	return w
}

// signInOnThePad signs officer in at the tab with the on-screen keys.
func signInOnThePad(t *testing.T, tab context.Context, w *wingtest.Wing, officer, pin string) {
	t.Helper()
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.Navigate("http://" + w.HTTP + "/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`)),
	}
	for _, k := range officer + "n" + pin + "n" {
		key := string(k)
		if k == 'n' {
			key = "next"
		}
		acts = append(acts, chromedp.Tap(chromedp.CSS(`[data-testid="key-`+key+`"]`)))
	}
	acts = append(acts,
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="officer"][data-officer="`+officer+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)))
	require.NoError(t, chromedp.Do(tab, acts...))
}

func pollTab(t *testing.T, tab context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(tab, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, what)
}

func textOf(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).innerText`))
	require.NoError(t, err, sel)
	return s
}

// TestBrowserCellCallAttendedAtItsDoor: on a real wing at 800×480 with
// touch, an officer signs in on the pad and acknowledges a cell call; the
// screen says to turn the reset key at the cell door and offers no
// Resolve until the key is turned there; then the officer resolves it
// with an outcome. Every step is recorded, to the second, with its actor.
func TestBrowserCellCallAttendedAtItsDoor(t *testing.T) {
	tab := browsertest.Tab(t)
	w := demoWingWith(t, func(*config.Wing) {})
	console := browsertest.WatchConsole(tab)
	signInOnThePad(t, tab, w, "1001", "1234")

	w.Set(t, "A2-03-CALL", true)
	w.Set(t, "A2-03-CALL", false)
	w.Eventually(t, "the call raised", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	a := w.State().ActiveAlarms()[0]
	card := `[data-testid="alarm-A-` + strconv.FormatUint(a.ID.Seq, 10) + `"]`
	pollTab(t, tab, "the call on screen", `!!document.querySelector('`+card+`[data-step="acknowledge"]')`)
	assert.Contains(t, textOf(t, tab, card+" .point"), "Cell A2-03 call", "the call's name")
	require.NoError(t, chromedp.Do(tab, chromedp.Tap(chromedp.CSS(card+` button.acknowledge`))))
	pollTab(t, tab, "acknowledged, it waits for the cell door", `!!document.querySelector('`+card+`[data-step="attend-at-door"]')`)
	assert.Contains(t, textOf(t, tab, card), "Acknowledged by 1001 at")
	assert.Contains(t, textOf(t, tab, card), "go to A2-03 and turn its reset key")
	n, err := chromedp.Run(tab, chromedp.Evaluate[int](`document.querySelectorAll('`+card+` .resolve, `+card+` .attend').length`))
	require.NoError(t, err)
	assert.Zero(t, n, "neither Resolve nor Attend from the panel: a cell call is attended at its door")
	browsertest.Screenshot(t, tab, "appliance-call-acknowledged")

	w.Set(t, "A2-03-CALL#reset", true) // the officer at the cell door turns the key
	w.Set(t, "A2-03-CALL#reset", false)
	pollTab(t, tab, "attended at the door", `!!document.querySelector('`+card+`[data-step="resolve"]')`)
	assert.Contains(t, textOf(t, tab, card), "Attended at the cell door A2-03 (reset key turned) at")
	require.NoError(t, chromedp.Do(tab,
		chromedp.Tap(chromedp.CSS(card+` .resolve`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="resolve-page"]`)),
		chromedp.Tap(chromedp.CSS(`label:has([data-testid="outcome-assistance-given"])`)),
		chromedp.Tap(chromedp.CSS(`[data-testid="resolve-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarms"]`)),
	))
	w.Eventually(t, "resolved", func(s *wing.State) bool { return !s.Alarms[a.ID].Active() })
	got := w.State().Alarms[a.ID]
	assert.Equal(t, "1001", got.Acknowledged.By)
	assert.Equal(t, wing.AttendedAtReset, got.Attended.How)
	assert.Equal(t, "A2-03", got.Attended.Where)
	assert.Equal(t, "1001", got.Resolved.By)
	assert.Equal(t, "assistance-given", got.Resolved.Outcome)
	var kinds []event.Kind
	for _, e := range eventsOf(t, w, event.AlarmRaised, event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved) {
		if e.Data["alarm"] == a.ID.String() || e.ID() == a.ID {
			kinds = append(kinds, e.Kind)
		}
	}
	assert.Equal(t, []event.Kind{event.AlarmRaised, event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved}, kinds)
	pollTab(t, tab, "gone from the screen", `!document.querySelector('`+card+`')`)
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// TestBrowserEscalationOnEveryScreen: on a wing whose alarms escalate
// after 2 s unacknowledged, a staff alarm left alone escalates: the card
// says so, and the escalation banner is on every screen, the event log's
// too, until the alarm is acknowledged.
func TestBrowserEscalationOnEveryScreen(t *testing.T) {
	tab := browsertest.Tab(t)
	w := demoWingWith(t, func(l *config.Wing) { l.EscalateUnacknowledged = 2 * time.Second })
	console := browsertest.WatchConsole(tab)
	signInOnThePad(t, tab, w, "2001", "2345")
	w.Set(t, "A1-STAFF", true)
	w.Set(t, "A1-STAFF", false)
	w.Eventually(t, "raised", func(s *wing.State) bool { return len(s.ActiveAlarms()) == 1 })
	a := w.State().ActiveAlarms()[0]
	seq := strconv.FormatUint(a.ID.Seq, 10)
	banner := `[data-testid="escalated-A-` + seq + `"]`
	pollTab(t, tab, "the banner", `!!document.querySelector('`+banner+`')`)
	assert.Contains(t, textOf(t, tab, banner), "Landing 1 staff alarm")
	assert.Contains(t, textOf(t, tab, banner), "not acknowledged in 2 s")
	pollTab(t, tab, "the card", `document.querySelector('[data-testid="alarm-A-`+seq+`"]').dataset.escalated === "true"`)
	assert.Contains(t, textOf(t, tab, `[data-testid="alarm-A-`+seq+`-escalated-unacknowledged"]`), "ESCALATED at")
	browsertest.Screenshot(t, tab, "appliance-escalated")
	for _, path := range []string{"/events", "/plan", "/walktest", "/site", "/regime"} {
		require.NoError(t, chromedp.Do(tab,
			chromedp.Navigate("http://"+w.HTTP+path),
			chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
			chromedp.WaitVisible(chromedp.CSS(banner)),
		), path)
	}
	require.NoError(t, w.Acknowledge(context.Background(), a.ID, wingtest.Supervisor("2001")))
	pollTab(t, tab, "an escalated alarm stays in the banner until it is resolved", `!!document.querySelector('`+banner+`')`)
	require.NoError(t, w.Resolve(context.Background(), a.ID, wingtest.Supervisor("2001"), "false-alarm", ""))
	pollTab(t, tab, "the banner goes once it is resolved", `document.getElementById("escalations").dataset.count === "0"`)
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}
