// Command wingshots writes screenshots of the wing's main screens, for
// `make screenshots`: a simulated wing with the demo roster, in headless
// Chromium with touch, at the smallest wing screen (800×480) and a large
// one (1280×800): signed out, the sign-in pad, signed in, alarms (with an
// escalation, a forced door and a cut line), ten alarms, Resolve, the
// plan, the walk test, the event log, the regime and the Site screen. A
// person looks at them; nothing is asserted here.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
	"wingnode/sensors/simulate"
	"wingnode/ui/browsertest"
)

// sizes are the screens shot.
var sizes = []struct{ w, h int64 }{{800, 480}, {1280, 800}}

func main() {
	out := flag.String("out", "build/screenshots", "folder to write the PNGs into")
	flag.Parse()
	if err := run(context.Background(), *out); err != nil {
		fmt.Fprintln(os.Stderr, "wingshots:", err)
		os.Exit(1)
	}
}

// shooter takes the shots of one tab.
type shooter struct {
	tab  context.Context
	base string
	out  string
	n    int
}

// shoot loads path (unless empty) and writes name-WxH.png at each size.
func (s *shooter) shoot(name, path string, ready ...chromedp.Action[chromedp.Void]) error {
	for _, sz := range sizes {
		acts := []chromedp.Action[chromedp.Void]{chromedp.EmulateViewport(sz.w, sz.h, chromedp.EmulateTouch)}
		if path != "" {
			acts = append(acts, chromedp.Navigate(s.base+path), chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)))
		}
		acts = append(acts, ready...)
		acts = append(acts, chromedp.Sleep(300*time.Millisecond)) // ages count, fonts settle
		if err := chromedp.Do(s.tab, acts...); err != nil {
			return fmt.Errorf("%s at %dx%d: %w", name, sz.w, sz.h, err)
		}
		png, err := chromedp.Run(s.tab, chromedp.CaptureScreenshot())
		if err != nil {
			return err
		}
		file := filepath.Join(s.out, fmt.Sprintf("%02d-%s-%dx%d.png", s.n, name, sz.w, sz.h))
		if err := os.WriteFile(file, png, 0o644); err != nil {
			return err
		}
		fmt.Println(file)
	}
	s.n++
	return nil
}

func run(ctx context.Context, out string) error {
	path := browsertest.Path()
	if path == "" {
		return errors.New("chromium is not installed: run 'make deps' as root")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "wingshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	layout, err := config.Simulated("A")
	if err != nil {
		return err
	}
	layout.EscalateUnacknowledged = 3 * time.Second // so that one alarm has escalated by its shot
	w, err := wingtest.Run(ctx, appliance.Config{DataDir: dir, Wing: layout, DemoRoster: true, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer w.Stop()
	if err := wingtest.WaitFor(ctx, 30*time.Second, "the demo roster", func() bool { return len(w.Roster()) == 3 }); err != nil {
		return err
	}
	bctx, closeBrowser, err := browsertest.Start(path)
	if err != nil {
		return err
	}
	defer closeBrowser()
	tab, cancel := context.WithTimeout(bctx, 5*time.Minute)
	defer cancel()
	s := &shooter{tab: tab, base: "http://" + w.HTTP, out: out}
	sim := w.Sim()
	set := func(point string, active bool) error {
		err := sim.SetInput(point, active)
		time.Sleep(3 * config.DefaultDebounce)
		return err
	}
	press := func(point string) error {
		if err := set(point, true); err != nil {
			return err
		}
		return set(point, false)
	}

	if err := s.shoot("overview-signed-out", "/"); err != nil {
		return err
	}
	if err := s.shoot("signin", "/signin", chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`))); err != nil {
		return err
	}
	if err := chromedp.Do(tab,
		chromedp.Navigate(s.base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-officer"]`), "2001"),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="signin-pin"]`), "2345"),
		chromedp.Tap(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="officer"][data-officer="2001"]`)),
	); err != nil {
		return fmt.Errorf("sign in: %w", err)
	}
	if err := s.shoot("overview-signed-in", "/"); err != nil {
		return err
	}

	// Alarms: a staff alarm, cell calls (one attended at its door), a
	// forced door, a door opened at night, a cut line.
	sup := roster.Actor{ID: "2001", Role: roster.Supervisor}
	for _, step := range []func() error{
		func() error { return press("A2-STAFF") },
		func() error { return press("A1-14-CALL") },
		func() error { return press("A2-07-CALL") },
		func() error { return set("A1-04#lock", true) },
		func() error { return set("A1-04", true) },
		func() error { return sim.SetLine("A2-11", simulate.LineOpenCircuit) },
	} {
		if err := step(); err != nil {
			return err
		}
	}
	if err := wingtest.WaitFor(ctx, 5*time.Second, "four alarms", func() bool { return len(w.State().ActiveAlarms()) == 4 }); err != nil {
		return err
	}
	for _, a := range w.State().ActiveAlarms() {
		if a.PointKind == wing.CellCall {
			if err := w.Acknowledge(ctx, a.ID, sup); err != nil {
				return err
			}
		}
	}
	if err := press("A2-07-CALL#reset"); err != nil {
		return err
	}
	time.Sleep(4 * time.Second) // the staff alarm and the forced door escalate, unacknowledged
	if err := s.shoot("overview-alarms", "/"); err != nil {
		return err
	}
	var staff wing.Alarm
	for _, a := range w.State().ActiveAlarms() {
		if a.PointKind == "staff-alarm" {
			staff = a
		}
	}
	if err := w.Acknowledge(ctx, staff.ID, sup); err != nil {
		return err
	}
	if err := s.shoot("resolve", fmt.Sprintf("/alarms/%s/%d/resolve", staff.ID.Wing, staff.ID.Seq)); err != nil {
		return err
	}
	if err := s.shoot("plan", "/plan"); err != nil {
		return err
	}
	if err := s.shoot("events", "/events"); err != nil {
		return err
	}

	// Night: a cell door opens; then ten alarms at once.
	if err := w.SetRegime(ctx, sup, wing.Night); err != nil {
		return err
	}
	if err := set("A3-10", true); err != nil {
		return err
	}
	for _, p := range []string{"A1-02-CALL", "A1-09-CALL", "A3-14-CALL", "A3-01-CALL", "A1-STAFF"} {
		if err := press(p); err != nil {
			return err
		}
	}
	if err := wingtest.WaitFor(ctx, 5*time.Second, "ten alarms", func() bool { return len(w.State().ActiveAlarms()) >= 10 }); err != nil {
		return err
	}
	if err := s.shoot("overview-ten-alarms", "/"); err != nil {
		return err
	}
	if err := s.shoot("plan-night", "/plan"); err != nil {
		return err
	}
	if err := s.shoot("regime", "/regime"); err != nil {
		return err
	}
	if err := w.StartWalkTest(ctx, sup, 30*time.Minute, wing.WalkTestPoints{Landing: "2"}); err != nil {
		return err
	}
	if err := s.shoot("walktest", "/walktest", chromedp.Tap(chromedp.CSS(`[data-testid="proof-group-2"] summary`)), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		return err
	}
	return s.shoot("site", "/site")
}
