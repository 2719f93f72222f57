package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/ui/browsertest"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// busyWing has something of everything the overview shows.
func busyWing() *fakeWing {
	f := newFakeWing()
	f.now = time.Now().Add(-10 * time.Minute).Truncate(time.Second) // the browser counts ages on its own clock
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	f.record(event.InputFault, "A1-03", event.SystemActor, map[string]string{"fault": "read-error"})
	f.record(event.DoorClosed, "A-GATE1", event.SystemActor, nil)
	f.raise("A1-02-CALL", "cell-call", 2) // A/6
	staff := f.raise("A-STAFF", "staff-alarm", 1)
	if err := f.Acknowledge(context.Background(), staff, officer("officer-7")); err != nil {
		panic(err)
	}
	return f
}

// fittedBusyWing has what busyWing lacks: locks, a forced door, sensors
// reading, too hot and silent, and a wing partly proven.
func fittedBusyWing() *fakeWing {
	f := fittedWing()
	f.now = time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
	f.record(event.DoorLocked, "A1-01", event.SystemActor, nil)
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	f.record(event.DoorClosed, "A1-03", event.SystemActor, nil)
	f.record(event.DoorClosed, "A2-01", event.SystemActor, nil)
	f.record(event.DoorLocked, "A-GATE1", event.SystemActor, nil)
	f.record(event.DoorOpened, "A-GATE1", event.SystemActor, nil)
	f.raise("A-GATE1", "door-forced", 1)
	for _, in := range []string{"A1-01", "A1-01#lock", "A1-01-CALL", "A-STAFF"} {
		f.record(event.InputProven, in, "officer-7", nil)
	}
	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "29.300°C"})
	f.record(event.InputFault, "ENV-2", event.SystemActor, map[string]string{"fault": "silent"})
	f.setClimate(
		ClimateReading{Sensor: "ENV-1", TemperatureC: 29.3, HumidityPct: 61.2, At: time.Now().Add(-4 * time.Second)},
		ClimateReading{Sensor: "ENV-2", TemperatureC: 20.1, HumidityPct: 40, At: time.Now().Add(-3 * time.Minute)},
	)
	return f
}

func TestBrowserWalkTest(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := fittedBusyWing()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/walktest"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.Tap(chromedp.CSS(`[data-testid="walktest-start"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="walktest-banner"][data-running="true"]`)),
	))
	assert.Contains(t, text(t, ctx, `[data-testid="walktest-banner"]`), "WALK TEST of the whole wing until")
	started := f.lastEvent(t)
	assert.Equal(t, event.WalkTestStarted, started.Kind)
	assert.Equal(t, testOfficer, started.Actor)
	assert.Equal(t, started.Wall.Add(30*time.Minute).UTC().Format(time.RFC3339), started.Data["until"], "30 minutes unless chosen otherwise")

	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`))))
	f.record(event.InputProven, "A1-02", testOfficer, nil)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.getElementById("proof-A1-02").dataset.status === "ok"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the row follows the proof over the live stream")
	browsertest.Screenshot(t, ctx, "walktest-running-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="walktest-end"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="walktest-start"]`)),
	))
	assert.Equal(t, "false", attr(t, ctx, `[data-testid="walktest-banner"]`, "data-running"))
	assert.Equal(t, event.WalkTestEnded, f.lastEvent(t).Kind)
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

func TestBrowserOverviewFollowsTheWing(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	assert.Equal(t, "closed", attr(t, ctx, `[data-testid="door-A1-01"]`, "data-state"))

	edge := time.Now()
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](
		`document.querySelector('[data-testid="door-A1-01"]').dataset.state === "open"`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the tile follows the door over the live stream")
	t.Logf("door edge to DOM: %v", time.Since(edge))
	assert.Equal(t, "OPEN", text(t, ctx, `[data-testid="door-A1-01"] .state`))
	browsertest.Screenshot(t, ctx, "overview-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="acknowledge-alarm-A-6"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarm-A-6"][data-acknowledged="true"]`)),
	))
	assert.Contains(t, text(t, ctx, `[data-testid="alarm-A-6-ack"]`), "Acknowledged by "+testOfficer)
	assert.Equal(t, testOfficer, f.State().Alarms[event.ID{Wing: "A", Seq: 6}].Acknowledged.By)
	browsertest.Screenshot(t, ctx, "overview-acknowledged-800x480")
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// undersized lists the touch targets smaller than 44×44 CSS px, and the
// ones that do not use touch-action: manipulation.
const undersized = `Array.from(document.querySelectorAll("a, button, input:not([type=hidden]), select, .tile"))
	.filter((el) => {
		const r = el.getBoundingClientRect();
		return r.width < 44 || r.height < 44 || getComputedStyle(el).touchAction !== "manipulation";
	})
	.map((el) => el.dataset.testid || el.outerHTML.slice(0, 100))`

func TestBrowserTouchTargetsAtTheSmallestScreen(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	f.record(event.InputFault, "A-STAFF", event.SystemActor, map[string]string{"fault": "pin-missing"})
	for range 60 {
		f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	}
	_, ts := serve(t, f)
	fitted := fittedBusyWing()
	_, fts := serve(t, fitted)
	site := busyWing()
	site.raiseOn("B", "B1-04-CALL", "cell-call", 2, site.ago(3*time.Minute))
	site.raiseOn("C", "C-STAFF", "staff-alarm", 1, site.ago(time.Minute))
	st := threeWingSite(site)
	st.Isolated, st.IsolatedSince, st.Waiting = true, site.ago(time.Hour), 312
	st.Lockdown = wing.Lockdown{Active: true, Reason: "fight on B2 landing", By: "officer-7", Since: site.ago(time.Minute)}
	site.setSite(st)
	_, sts := serve(t, site)

	for _, page := range []struct {
		ts         *httptest.Server
		path, name string
		walking    bool
	}{
		{ts, "/", "overview", false},
		{ts, "/events", "events", false},
		{ts, "/events?from=nonsense", "events-bad-filter", false},
		{fts, "/", "overview-fitted", false},
		{fts, "/walktest", "walktest", false},
		{fts, "/walktest", "walktest-running", true},
		{fts, "/plan", "plan", false},
		{fts, "/regime", "regime", false},
		{fts, "/alarms/A/9/close-remotely", "close-remotely", false},
		{fts, "/", "overview-walktest", true},
		{sts, "/", "overview-site", false},
		{sts, "/site", "site-lockdown-isolated", false},
		{sts, "/events", "events-site", false},
	} {
		if page.walking {
			require.NoError(t, fitted.StartWalkTest(ctx, officer(testOfficer), 30*time.Minute, wing.WalkTestPoints{}))
		}
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(page.ts.URL+page.path),
			chromedp.WaitReady(chromedp.CSS("main")),
		))
		small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
		require.NoError(t, err)
		assert.Empty(t, small, "%s: targets under 44×44 px at %d×%d", page.path, browsertest.Width, browsertest.Height)
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		assert.LessOrEqual(t, width, browsertest.Width, "%s: no sideways scrolling", page.path)
		browsertest.Screenshot(t, ctx, page.name+"-800x480")
	}
}

// attr and text read the page through script rather than chromedp's node
// ids: live updates replace elements, and a node id cached a moment before
// would be gone.
func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return evalOn(t, ctx, sel, "el.getAttribute("+jsString(t, name)+")")
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return evalOn(t, ctx, sel, "el.innerText")
}

// evalOn evaluates expr with el bound to the first element sel matches.
func evalOn(t *testing.T, ctx context.Context, sel, expr string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		"(() => { const el = document.querySelector("+jsString(t, sel)+"); if (!el) throw new Error('no element matches ' + "+jsString(t, sel)+"); return String("+expr+"); })()"))
	require.NoError(t, err)
	return v
}

func jsString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	require.NoError(t, err)
	return string(b)
}

func TestBrowserShowsWhenRecordingStops(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	_, ts := serve(t, f)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	visible := `!document.getElementById("recording-banner").hidden`
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](visible))
	require.NoError(t, err)
	require.False(t, shown)

	f.mu.Lock()
	f.recording = errors.New("no event stored since 10:41:07: no space left on device")
	f.mu.Unlock()
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](visible, chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "the open page shows the banner without a reload")
	browsertest.Screenshot(t, ctx, "recording-stopped-800x480")

	f.mu.Lock()
	f.recording = nil
	f.mu.Unlock()
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("recording-banner").hidden`, chromedp.WithPollingTimeout(15*time.Second)))
	require.NoError(t, err, "and hides it once events are recorded again")
}

// inView is true when the element sel matches lies wholly inside the
// viewport, with some of it painted.
func inView(sel string) string {
	return `(() => { const el = document.querySelector(` + "`" + sel + "`" + `); if (!el) return false;
		const r = el.getBoundingClientRect();
		return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth; })()`
}

func TestBrowserSiteBannerAndLockdown(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing() // A/6 a cell call, A/7 a staff alarm acknowledged
	f.raiseOn("B", "B1-04-CALL", "cell-call", 2, f.ago(3*time.Minute))
	f.raiseOn("C", "C-STAFF", "staff-alarm", 1, f.ago(time.Minute))
	f.raiseOn("D", "D2-11-CALL", "cell-call", 2, f.ago(30*time.Second))
	f.raiseOn("B", "B2-02-CALL", "cell-call", 2, f.ago(10*time.Second))
	st := threeWingSite(f)
	st.Isolated, st.IsolatedSince, st.Waiting = true, f.ago(20*time.Minute), 312
	f.setSite(st)
	srv, ts := serve(t, f)
	srv.siteEvery = 50 * time.Millisecond
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	for _, sel := range []string{
		`[data-testid="site-alarms"]`, `[data-testid="site-alarm-C-1"]`, `[data-testid="isolation-banner"]`,
		`#alarms`, `[data-testid="alarm-A-6"]`, `[data-testid="acknowledge-alarm-A-6"]`,
	} {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(sel)))
		require.NoError(t, err)
		assert.True(t, shown, "%s is on the first screen at %d×%d", sel, browsertest.Width, browsertest.Height)
	}
	assert.Contains(t, text(t, ctx, `[data-testid="site-alarms"]`), "+1 more on Site")
	browsertest.Screenshot(t, ctx, "overview-site-banner-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="site-link"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lockdown-panel"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
	require.NoError(t, err)
	assert.Empty(t, small, "/site: targets under 44×44 px")

	// The link comes back while the officer types a reason: the panel is
	// replaced live, and what was typed stays.
	reason := `document.querySelector('form[action="/site/lockdown/declare"] input[name="reason"]')`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="lockdown-reason-field"]`)),
		chromedp.KeyEvent("fight on B2"),
	))
	f.setSite(threeWingSite(f))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("isolation-banner").dataset.isolated === "false" && !document.querySelector('[data-testid="lockdown-isolated"]')`,
		chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the banner and the panel follow the site")
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](reason+`.value + "|" + (document.activeElement === `+reason+`)`))
	require.NoError(t, err)
	assert.Equal(t, "fight on B2|true", kept, "the reason and the focus survive the update")
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(" landing")))
	browsertest.Screenshot(t, ctx, "site-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="lockdown-declare"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lockdown-confirm"]`)),
	))
	assert.False(t, f.Site().Lockdown.Active, "not before the officer confirms")
	small, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
	require.NoError(t, err)
	assert.Empty(t, small, "confirm: targets under 44×44 px")
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(`[data-testid="lockdown-confirm-yes"]`)))
	require.NoError(t, err)
	assert.True(t, shown, "the confirm button is on the first screen")
	browsertest.Screenshot(t, ctx, "lockdown-confirm-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="lockdown-confirm-yes"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="lockdown-banner"][data-active="true"]`)),
	))
	banner := text(t, ctx, `[data-testid="lockdown-banner"]`)
	assert.Contains(t, banner, "SITE LOCKDOWN since")
	assert.Contains(t, banner, "fight on B2 landing")
	assert.Contains(t, banner, "declared by "+testOfficer)
	assert.Equal(t, wing.Lockdown{Active: true, Reason: "fight on B2 landing", By: testOfficer, Since: f.ago(0)}, f.Site().Lockdown)
	browsertest.Screenshot(t, ctx, "site-lockdown-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="wing-name"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarms"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	for _, sel := range []string{`[data-testid="lockdown-banner"]`, `[data-testid="site-alarms"]`, `[data-testid="alarm-A-6"]`} {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(sel)))
		require.NoError(t, err)
		assert.True(t, shown, "with the lockdown declared, %s is on the first screen", sel)
	}
	small, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
	require.NoError(t, err)
	assert.Empty(t, small, "/: targets under 44×44 px")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	assert.LessOrEqual(t, width, browsertest.Width, "no sideways scrolling")
	browsertest.Screenshot(t, ctx, "overview-lockdown-800x480")
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}
