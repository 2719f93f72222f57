package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"wingnode/appliance/roster"
	"wingnode/ui/browsertest"
)

// siteAlarmsWatch resolves with the browser's clock (ms since the epoch)
// when the screen's banner of other wings' alarms counts the wanted number.
const siteAlarmsWatch = `window.__alarm = new Promise((resolve) => {
	const done = () => {
		const el = document.getElementById("site-alarms");
		if (el && el.dataset.count === %q) { resolve(performance.timeOrigin + performance.now()); return true; }
		return false;
	};
	if (done()) return;
	const obs = new MutationObserver(() => { if (done()) obs.disconnect(); });
	obs.observe(document.body, { subtree: true, childList: true, attributes: true });
})`

// alarmToEveryWing: a staff alarm pressed on wing A until it is in the
// DOM of wing C's screen, in a real browser, three wings on loopback:
// debounce, A's store, the leader's pull of A's outbox, one raft round,
// C's store and fold, and C's live stream. Each alarm is then closed and
// gone from C's screen before the next.
func alarmToEveryWing(ctx context.Context, dir string) ([]figure, error) {
	const presses = 40
	path := browsertest.Path()
	if path == "" {
		return nil, errors.New("chromium is not installed: run 'make deps' as root")
	}
	s, err := startSite(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	a, c := s.wings[0], s.wings[2]
	bctx, closeBrowser, err := browsertest.Start(path)
	if err != nil {
		return nil, err
	}
	defer closeBrowser()
	tab, cancel := context.WithTimeout(bctx, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(browsertest.Width, browsertest.Height, chromedp.EmulateTouch),
		chromedp.Navigate("http://"+c.HTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.WaitReady(chromedp.CSS(`#site-alarms[data-count="0"]`)),
	); err != nil {
		return nil, fmt.Errorf("open wing C's overview: %w", err)
	}
	var points []string
	for _, p := range a.Layout().AlarmPoints {
		if p.Kind == "staff-alarm" {
			points = append(points, p.ID)
		}
	}
	supervisor := roster.Actor{ID: "bench", Role: roster.Supervisor}
	watch := func(count string) error {
		return chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(siteAlarmsWatch, count)))
	}
	shown := func(what string) (float64, error) {
		wait, cancelWait := context.WithTimeout(tab, 10*time.Second)
		defer cancelWait()
		at, err := chromedp.Run(wait, chromedp.Evaluate[float64](`window.__alarm`, chromedp.EvalAwaitPromise))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		return at, nil
	}
	lat := make([]time.Duration, 0, presses)
	for i := range presses {
		point := points[i%len(points)]
		if err := watch("1"); err != nil {
			return nil, err
		}
		press := time.Now()
		if err := a.Sim().SetInput(point, true); err != nil {
			return nil, err
		}
		at, err := shown(fmt.Sprintf("press %d of %s never reached wing C's screen", i, point))
		if err != nil {
			return nil, err
		}
		lat = append(lat, time.Duration(at*float64(time.Millisecond))-time.Duration(press.UnixNano()))
		if err := a.Sim().SetInput(point, false); err != nil {
			return nil, err
		}
		if err := watch("0"); err != nil {
			return nil, err
		}
		for _, al := range a.State().ActiveAlarms() {
			if err := a.CloseRemotely(ctx, al.ID, supervisor, "the bench presses the next alarm"); err != nil {
				return nil, err
			}
		}
		if _, err := shown("the closed alarm stayed on wing C's screen"); err != nil {
			return nil, err
		}
	}
	return []figure{
		{"alarm_to_every_wing_screen_p50_ms", percentile(lat, 50), "ms"},
		{"alarm_to_every_wing_screen_p99_ms", percentile(lat, 99), "ms"},
	}, nil
}
