package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/ui/browsertest"
)

// edgeWatch resolves with the browser's clock (ms since the epoch) when
// the door's tile reaches the wanted state.
const edgeWatch = `window.__edge = new Promise((resolve) => {
	const done = () => {
		const el = document.getElementById(%q);
		if (el && el.dataset.state === %q) { resolve(performance.timeOrigin + performance.now()); return true; }
		return false;
	};
	if (done()) return;
	const obs = new MutationObserver(() => { if (done()) obs.disconnect(); });
	obs.observe(document.body, { subtree: true, childList: true, attributes: true });
})`

// edgeToScreen: an edge on a simulated input pin until the door's tile in
// a real browser shows it, through debounce, the store, the fold and the
// live stream. Browser and appliance share this machine's clock. The
// toggles go round 40 doors, so that no door changes often enough to be
// (rightly) reported as flapping.
func edgeToScreen(ctx context.Context, dir string) ([]figure, error) {
	const toggles = 200
	path := browsertest.Path()
	if path == "" {
		return nil, errors.New("chromium is not installed: run 'make deps' as root")
	}
	a, stop, err := running(ctx, appliance.Config{DataDir: dir, Simulate: true})
	if err != nil {
		return nil, err
	}
	defer stop()
	addr, err := a.Addr(ctx)
	if err != nil {
		return nil, err
	}
	bctx, closeBrowser, err := browsertest.Start(path)
	if err != nil {
		return nil, err
	}
	defer closeBrowser()
	tab, cancel := context.WithTimeout(bctx, 5*time.Minute)
	defer cancel()
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(browsertest.Width, browsertest.Height, chromedp.EmulateTouch),
		chromedp.Navigate("http://"+addr+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#door-A1-01[data-state="closed"]`)),
	); err != nil {
		return nil, fmt.Errorf("open the overview: %w", err)
	}
	doors := gpioDoors(a.Layout(), 40)
	lat := make([]time.Duration, 0, toggles)
	for i := range toggles {
		door, open := doors[i%len(doors)], (i/len(doors))%2 == 0
		want := map[bool]string{true: "open", false: "closed"}[open]
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(edgeWatch, "door-"+door, want))); err != nil {
			return nil, err
		}
		edge := time.Now()
		if err := a.Sim().SetInput(door, open); err != nil {
			return nil, err
		}
		wait, cancelWait := context.WithTimeout(tab, 5*time.Second)
		shown, err := chromedp.Run(wait, chromedp.Evaluate[float64](`window.__edge`, chromedp.EvalAwaitPromise))
		cancelWait()
		if err != nil {
			page, _ := chromedp.Run(tab, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).outerHTML`, "door-"+door)))
			return nil, fmt.Errorf("toggle %d (want %s): %w; the page shows %s", i, want, err, page)
		}
		lat = append(lat, time.Duration(shown*float64(time.Millisecond))-time.Duration(edge.UnixNano()))
	}
	return []figure{
		{"edge_to_screen_p50_ms", percentile(lat, 50), "ms"},
		{"edge_to_screen_p99_ms", percentile(lat, 99), "ms"},
	}, nil
}

// gpioDoors returns up to n of the wing's doors read on GPIO pins (not on
// supervised lines, which are polled), for edges the simulator can make.
func gpioDoors(w config.Wing, n int) []string {
	var doors []string
	for _, d := range w.Doors {
		if d.Input.ADC == nil && len(doors) < n {
			doors = append(doors, d.ID)
		}
	}
	return doors
}
