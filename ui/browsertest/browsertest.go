// Package browsertest runs tests in headless Chromium with a touch screen
// the size of the wing's (800×480). A test binary shares one browser: call
// Main from TestMain, and Tab from each test.
//
// Browser tests are the slow tier: Tab skips them under go test -short, and
// when Chromium is not installed, except in CI (CI=true), where a missing
// browser fails the test.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The viewport of every tab: the smallest wing screen, 7 inches.
const (
	Width  = 800
	Height = 480
)

// ScreenshotDirEnv names the environment variable that, when set, is the
// folder where Screenshot writes its images.
const ScreenshotDirEnv = "BROWSERTEST_SCREENSHOTS"

// tabTimeout bounds everything one test does in its tab.
const tabTimeout = time.Minute

var shared struct {
	mu      sync.Mutex
	ctx     context.Context // the browser's first tab; new tabs derive from it
	stop    func()
	started bool
	err     error
}

// Main runs the package's tests and then stops the browser, if one was
// started. Use it as os.Exit(browsertest.Main(m)) in TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.stop != nil {
		shared.stop()
	}
	return code
}

// Path returns the Chromium to run: /usr/bin/chromium, or chromium on PATH;
// empty when there is none.
func Path() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// browser starts the shared browser on first use.
func browser() (context.Context, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		shared.ctx, shared.stop, shared.err = Start(Path())
	}
	return shared.ctx, shared.err
}

// Start runs the Chromium at path headless, with the flags this machine's
// closed network needs and a fresh profile, and returns the browser's
// first tab and a function that stops it. Tests use Tab; Start is for
// programs such as the bench.
func Start(path string) (context.Context, func(), error) {
	dir, err := os.MkdirTemp("", "browsertest-profile-")
	if err != nil {
		return nil, nil, err
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
	)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	stop := func() {
		cancelBrowser()
		cancelAlloc()
		os.RemoveAll(dir)
	}
	// Started without a deadline: the first Run binds the browser's life
	// to its context.
	if err := chromedp.Do(ctx); err != nil {
		stop()
		return nil, nil, fmt.Errorf("browsertest: start %s: %w", path, err)
	}
	return ctx, stop, nil
}

var errNoBrowser = errors.New("browsertest: Chromium not found at /usr/bin/chromium or on PATH; install it with apt-get install chromium")

// Tab opens a new tab in the shared browser with an 800×480 touch viewport
// and returns its context, which has a deadline; the tab closes when the
// test ends.
func Tab(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped with -short")
	}
	if Path() == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(errNoBrowser)
		}
		t.Skip(errNoBrowser)
	}
	bctx, err := browser()
	if err != nil {
		t.Fatal(err)
	}
	tabCtx, closeTab := chromedp.NewContext(bctx)
	ctx, cancel := context.WithTimeout(tabCtx, tabTimeout)
	t.Cleanup(func() {
		cancel()
		closeTab()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(Width, Height, chromedp.EmulateTouch)); err != nil {
		t.Fatalf("browsertest: open tab: %v", err)
	}
	return ctx
}

// WatchConsole collects the console errors and uncaught exceptions of the
// tab from now on, including Content-Security-Policy violations; the
// returned func stops watching and returns them.
func WatchConsole(ctx context.Context) func() []string {
	watchCtx, stop := context.WithCancel(ctx)
	messages := chromedp.Console(watchCtx)
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				problems = append(problems, m.String())
			}
		}
	}()
	return func() []string {
		stop()
		<-done
		return problems
	}
}

// Screenshot saves what the tab shows as name.png in the folder that
// BROWSERTEST_SCREENSHOTS names, for a person to look at; it does nothing
// when the variable is not set.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("browsertest: screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
