package ui

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/ui/browsertest"
)

// signInWithKeys signs officer id in at the tab from the sign-in pad,
// typing on the keyboard (an officer number with letters cannot be typed
// on the pad), and waits for the overview.
func signInWithKeys(t *testing.T, ctx context.Context, ts *httptest.Server, id, pin string) {
	t.Helper()
	signInAt(t, ctx, ts.URL, id, pin)
}

// signInAt is signInWithKeys at the screens at base.
func signInAt(t *testing.T, ctx context.Context, base, id, pin string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-officer"]`), id),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-pin"]`), pin),
		chromedp.Tap(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="officer"][data-officer="`+id+`"]`)),
	))
}

// TestBrowserSignInActAndIdleSignOut: at 800×480 with touch, the signed-out
// kiosk shows the alarm; an officer signs in on the on-screen pad,
// acknowledges it, and is signed out once the (shortened) idle time passes
// without a touch.
func TestBrowserSignInActAndIdleSignOut(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing() // A/6: a cell call, not acknowledged
	srv := New(f, Options{Version: "test", SignOutIdle: 3 * time.Second, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	console := browsertest.WatchConsole(ctx)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarm-A-6"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-out"]`)),
	))
	browsertest.Screenshot(t, ctx, "overview-signed-out-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="sign-in"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`)),
	))
	small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
	require.NoError(t, err)
	assert.Empty(t, small, "the pad's targets are at least 44×44 px")
	for _, sel := range []string{`[data-testid="key-0"]`, `[data-testid="key-next"]`, `[data-testid="signin-submit"]`} {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(sel)))
		require.NoError(t, err)
		assert.True(t, shown, "%s is on the first screen at %d×%d", sel, browsertest.Width, browsertest.Height)
	}
	var taps []chromedp.Action[chromedp.Void]
	for _, k := range []string{"1", "0", "0", "1", "next", "1", "1", "1", "1"} {
		taps = append(taps, chromedp.Tap(chromedp.CSS(`[data-testid="key-`+k+`"]`)))
	}
	require.NoError(t, chromedp.Do(ctx, taps...))
	assert.Equal(t, "1001|4", evalOn(t, ctx, `[data-testid="signin-pin"]`,
		`document.querySelector('[data-testid="signin-officer"]').value + "|" + el.value.length`), "the pad typed the number, then the PIN")
	browsertest.Screenshot(t, ctx, "signin-pad-800x480")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="key-next"]`)), // from the PIN, Next signs in
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="officer"][data-officer="1001"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	small, err = chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
	require.NoError(t, err)
	assert.Empty(t, small, "signed in: targets at least 44×44 px")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	assert.LessOrEqual(t, width, browsertest.Width, "signed in: no sideways scrolling")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="acknowledge-alarm-A-6"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarm-A-6"][data-acknowledged="true"]`)),
	))
	assert.Equal(t, "1001", f.State().Alarms[event.ID{Wing: "A", Seq: 6}].Acknowledged.By)
	browsertest.Screenshot(t, ctx, "overview-signed-in-800x480")

	start := time.Now()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="signed-out"]`))))
	t.Logf("signed out %v after the last touch", time.Since(start))
	require.Eventually(t, func() bool { return slices.Contains(f.signIns(), "out 1001 idle") }, 5*time.Second, 20*time.Millisecond,
		"the idle sign-out is recorded")
	assert.Equal(t, 1, evalCount(t, ctx, `[data-testid="alarm-A-6"]`), "signed out, the alarm stays on screen")
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

func evalCount(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(t, sel)+`).length`))
	require.NoError(t, err)
	return n
}
