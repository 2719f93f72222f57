package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chromedp/chromedp"

	"wingnode/appliance"
	"wingnode/ui/browsertest"
)

// edgeWatch resolves with the browser's clock (ms since the epoch) when
// the tile reaches the wanted state.
const edgeWatch = `window.__edge = new Promise((resolve) => {
	const done = () => {
		const el = document.getElementById("door-A2-10");
		if (el && el.dataset.state === %q) { resolve(performance.timeOrigin + performance.now()); return true; }
		return false;
	};
	if (done()) return;
	const obs = new MutationObserver(() => { if (done()) obs.disconnect(); });
	obs.observe(document.body, { subtree: true, childList: true, attributes: true });
})`

// edgeToScreen: an edge on a simulated input pin until the door's tile in
// a real browser shows it, through debounce, the store, the fold and the
// live stream. Browser and appliance share this machine's clock.
func edgeToScreen(ctx context.Context, dir string) ([]figure, error) {
	const toggles = 200
	path := browsertest.Path()
	if path == "" {
		return nil, errors.New("chromium is not installed: run 'make deps' as root")
	}
	a, err := appliance.New(appliance.Config{DataDir: dir, Listen: "127.0.0.1:0", Simulate: true, Log: quiet})
	if err != nil {
		return nil, err
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()
	defer func() {
		stop()
		<-ran
		a.Close()
	}()
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
		chromedp.WaitVisible(chromedp.CSS(`#door-A2-10[data-state="closed"]`)),
	); err != nil {
		return nil, fmt.Errorf("open the overview: %w", err)
	}
	lat := make([]time.Duration, 0, toggles)
	for i := range toggles {
		open := i%2 == 0
		want := map[bool]string{true: "open", false: "closed"}[open]
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(edgeWatch, want))); err != nil {
			return nil, err
		}
		edge := time.Now()
		if err := a.Sim().SetInput("A2-10", open); err != nil {
			return nil, err
		}
		shown, err := chromedp.Run(tab, chromedp.Evaluate[float64](`window.__edge`, chromedp.EvalAwaitPromise))
		if err != nil {
			return nil, fmt.Errorf("toggle %d: %w", i, err)
		}
		lat = append(lat, time.Duration(shown*float64(time.Millisecond))-time.Duration(edge.UnixNano()))
	}
	return []figure{
		{"edge_to_screen_p50_ms", percentile(lat, 50), "ms"},
		{"edge_to_screen_p99_ms", percentile(lat, 99), "ms"},
	}, nil
}
