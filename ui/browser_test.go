package ui

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
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
	if err := f.Acknowledge(context.Background(), staff, "officer-7"); err != nil {
		panic(err)
	}
	return f
}

func TestBrowserOverviewFollowsTheWing(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)

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
const undersized = `Array.from(document.querySelectorAll("a, button, input, select, .tile"))
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

	for _, page := range []struct{ path, name string }{
		{"/", "overview"},
		{"/events", "events"},
		{"/events?from=nonsense", "events-bad-filter"},
	} {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(ts.URL+page.path),
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

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.NoError(t, err)
	return v.Value
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return v
}
