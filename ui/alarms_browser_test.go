package ui

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/ui/browsertest"
)

// rect is an element's box in the viewport, in CSS px.
type rect struct{ Top, Left, Width, Height float64 }

// rectOf returns the box of the element sel matches.
func rectOf(t *testing.T, ctx context.Context, sel string) rect {
	t.Helper()
	r, err := chromedp.Run(ctx, chromedp.Evaluate[rect](`(() => { const el = document.querySelector(`+jsString(t, sel)+`);
		if (!el) throw new Error("no element matches " + `+jsString(t, sel)+`);
		const r = el.getBoundingClientRect(); return {Top: r.top, Left: r.left, Width: r.width, Height: r.height}; })()`))
	require.NoError(t, err)
	return r
}

func poll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, what)
}

// TestBrowserResolveWithOutcome: at 800×480 with touch, an officer
// acknowledges, taps Resolve…, types a note that a new alarm arriving does
// not wipe, chooses the outcome and resolves; the screen goes back to the
// overview, and the record has the outcome and the note.
func TestBrowserResolveWithOutcome(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing() // A/6 a cell call, A/7 a staff alarm acknowledged
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.Tap(chromedp.CSS(`[data-testid="resolve-alarm-A-7"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="resolve-page"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	assert.Equal(t, "/alarms/A/7/resolve", evalOn(t, ctx, "body", "location.pathname"), "the page's address follows")
	assert.Empty(t, evalList(t, ctx, undersized), "targets at least 44×44 px")
	for _, sel := range []string{`[data-testid="resolve-confirm"]`, `[data-testid="step-cancel"]`} {
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(sel)))
		require.NoError(t, err)
		assert.True(t, shown, "%s is on the screen at 800×480", sel)
	}
	note, confirm := rectOf(t, ctx, `[data-testid="resolve-note"]`), rectOf(t, ctx, `[data-testid="resolve-confirm"]`)
	assert.Greater(t, confirm.Top-(note.Top+note.Height), 100.0, "Resolve is well away from the note field")
	browsertest.Screenshot(t, ctx, "resolve-800x480")

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="resolve-note"]`)),
		chromedp.KeyEvent("cell checked, pressed"),
	))
	f.raise("A1-01-CALL", "cell-call", 2)
	poll(t, ctx, "the new alarm is counted on this page", `document.getElementById("alarm-bar").dataset.count === "3"`)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent(" by mistake")))
	assert.Equal(t, "cell checked, pressed by mistake", evalOn(t, ctx, `[data-testid="resolve-note"]`, "el.value"))

	before := f.recordCount()
	require.NoError(t, chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(`[data-testid="resolve-confirm"]`))))
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, before, f.recordCount(), "no outcome chosen: nothing is sent")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`label:has([data-testid="outcome-false-alarm"])`)),
		chromedp.Tap(chromedp.CSS(`[data-testid="resolve-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarms"]`)),
	))
	assert.Equal(t, "/", evalOn(t, ctx, "body", "location.pathname"))
	e := f.lastEvent(t)
	assert.Equal(t, event.AlarmResolved, e.Kind)
	assert.Equal(t, testOfficer, e.Actor)
	assert.Equal(t, map[string]string{"alarm": "A/7", "outcome": "false-alarm", "note": "cell checked, pressed by mistake"}, e.Data)
	poll(t, ctx, "the resolved alarm goes", `!document.querySelector('[data-testid="alarm-A-7"]')`)
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// evalList evaluates a script that returns a list of strings.
func evalList(t *testing.T, ctx context.Context, expr string) []string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr))
	require.NoError(t, err)
	return v
}

// restartable serves h at one address and can stop and start again
// there, as a restarting wing does.
type restartable struct {
	t    *testing.T
	h    http.Handler
	addr string
	hs   *http.Server
}

func serveRestartable(t *testing.T, h http.Handler) *restartable {
	t.Helper()
	r := &restartable{t: t, h: h, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may take a moment to be free again
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.NoError(r.t, err)
	r.addr = ln.Addr().String()
	r.hs = &http.Server{Handler: r.h}
	go func() {
		if err := r.hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Log(err)
		}
	}()
}

// stop closes the listener and every connection, live streams too.
func (r *restartable) stop() {
	if r.hs != nil {
		r.hs.Close()
		r.hs = nil
	}
}

func (r *restartable) url() string { return "http://" + r.addr }

// TestBrowserTapWhileTheWingIsDown: taps while the wing does not answer
// never leave the kiosk on a browser error page: the screen says "not
// sent, the wing is not answering", sends nothing, and recovers by itself
// when the wing answers again.
func TestBrowserTapWhileTheWingIsDown(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing() // A/6 a cell call, not acknowledged
	srv := New(f, Options{Version: "test", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	t.Cleanup(srv.Close)
	wingSrv := serveRestartable(t, srv)
	console := browsertest.WatchConsole(ctx)
	signInAt(t, ctx, wingSrv.url(), testOfficer, "2468")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(wingSrv.url()),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))

	wingSrv.stop()
	before := f.recordCount()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="acknowledge-alarm-A-6"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="not-answering"]`)),
	))
	assert.Contains(t, text(t, ctx, `[data-testid="not-answering"]`), "Not sent, the wing is not answering")
	browsertest.Screenshot(t, ctx, "not-answering-800x480")
	require.NoError(t, chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(`[data-testid="plan-link"]`))))
	time.Sleep(500 * time.Millisecond)
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	require.NoError(t, err)
	assert.Equal(t, wingSrv.url()+"/", href, "no browser error page: the screen stays")
	assert.Equal(t, 1, evalCount(t, ctx, `[data-testid="alarm-A-6"]`), "the wing's page is still shown")
	assert.Equal(t, before, f.recordCount(), "nothing was sent")

	wingSrv.start()
	poll(t, ctx, "the screen recovers by itself", `!document.querySelector('[data-testid="not-answering"]') && document.getElementById("live-status").dataset.state === "live"`)
	assert.Contains(t, text(t, ctx, `[data-testid="notice"]`), "The wing is answering again")
	assert.Equal(t, before, f.recordCount(), "the tap was not sent later either")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="acknowledge-alarm-A-6"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarm-A-6"][data-acknowledged="true"]`)),
	))
	assert.Equal(t, testOfficer, f.State().Alarms[event.ID{Wing: "A", Seq: 6}].Acknowledged.By, "once it answers, a tap acts")
	problems := slices.DeleteFunc(console(), func(m string) bool { return strings.Contains(m, "Failed to load resource: net::") })
	assert.Empty(t, problems, "no script errors (the browser's own lines on the refused connections aside)")
}

// TestBrowserNewAlarmFromTheEventsPage: the event log is live: a new alarm
// is counted in the alarm bar, and its event is at the top of the list.
func TestBrowserNewAlarmFromTheEventsPage(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/events"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	assert.Equal(t, "2", attr(t, ctx, "#alarm-bar", "data-count"))
	e := f.raise("A-STAFF", "staff-alarm", 1)
	poll(t, ctx, "the bar counts it", `document.getElementById("alarm-bar").dataset.count === "3"`)
	poll(t, ctx, "its event is at the top", `document.querySelector("#event-rows tr").dataset.testid === "event-A-`+strconv.FormatUint(e.Seq, 10)+`"`)
	assert.Contains(t, evalOn(t, ctx, "#alarm-bar", "el.textContent"), "3 active alarms")
	browsertest.Screenshot(t, ctx, "events-new-alarm-800x480")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`#alarm-bar`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="alarm-A-`+strconv.FormatUint(e.Seq, 10)+`"]`)),
	))
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// tenAlarms is a wing with ten active alarms, none acknowledged: staff
// alarms, cell calls and door anomalies.
func tenAlarms() *fakeWing {
	f := busyWing() // A/6 a cell call, A/7 a staff alarm acknowledged
	for _, p := range []struct{ point, kind string }{
		{"A1-01-CALL", "cell-call"}, {"A1-02-CALL", "cell-call"}, {"A1-01-CALL", "cell-call"},
		{"A-GATE1", wing.DoorHeldOpen}, {"A1-02", wing.DoorOpenedAtNight}, {"A1-01-CALL", "cell-call"},
		{"A1-02-CALL", "cell-call"}, {"A-STAFF", "staff-alarm"},
	} {
		prio := 2
		if p.kind == "staff-alarm" || p.kind == wing.DoorOpenedAtNight {
			prio = 1
		}
		f.raise(p.point, p.kind, prio)
	}
	return f
}

// TestBrowserTenAlarmsAt800x480: with ten alarms nothing is cut off (the
// list scrolls within the first screen, and the bar counts them all), and
// acting on one alarm never moves another's buttons under a finger: while
// a finger is down and for a moment after a tap, the list stays as it is.
func TestBrowserTenAlarmsAt800x480(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := tenAlarms()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	assert.Equal(t, "10", attr(t, ctx, "#alarm-bar", "data-count"), "the bar counts every alarm")
	assert.Contains(t, evalOn(t, ctx, "#alarm-bar", "el.textContent"), "10 active alarms")
	assert.Equal(t, 10, evalCount(t, ctx, "#alarms article"))
	assert.Empty(t, evalList(t, ctx, undersized), "targets at least 44×44 px")
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	require.NoError(t, err)
	assert.LessOrEqual(t, width, browsertest.Width, "no sideways scrolling")
	list := rectOf(t, ctx, `[data-testid="alarm-list"]`)
	assert.LessOrEqual(t, list.Top+list.Height, float64(browsertest.Height), "the list scrolls within the first screen")
	browsertest.Screenshot(t, ctx, "ten-alarms-800x480")

	// Every card can be scrolled to within the list, whole, with its
	// buttons on the screen.
	cut := evalList(t, ctx, `Array.from(document.querySelectorAll("#alarms article")).filter((card) => {
		card.scrollIntoView({block: "nearest"});
		const c = card.getBoundingClientRect(), l = card.parentElement.getBoundingClientRect();
		const buttons = Array.from(card.querySelectorAll("button, .button")).every((b) => {
			const r = b.getBoundingClientRect();
			return r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
		});
		return !(c.top >= l.top - 1 && c.bottom <= l.bottom + 1 && c.right <= window.innerWidth && buttons);
	}).map((card) => card.dataset.testid)`)
	assert.Empty(t, cut, "cards cut off")
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="alarm-list"]').scrollTop = 0; window.scrollTo(0, 0)`)))

	// The first two cards are unacknowledged; acknowledging the first
	// would reorder the list (acknowledged alarms go after the others).
	ids := evalList(t, ctx, `Array.from(document.querySelectorAll("#alarms article")).map((a) => a.dataset.testid)`)
	first, second := ids[0], ids[1]
	secondButton := `[data-testid="acknowledge-` + second + `"]`
	at := rectOf(t, ctx, secondButton)
	require.NoError(t, chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(`[data-testid="acknowledge-`+first+`"]`))))
	tapped := time.Now()
	require.Eventually(t, func() bool { return f.State().Alarms[alarmIDOf(t, first)].Acknowledged != nil }, 5*time.Second, 10*time.Millisecond)
	for time.Since(tapped) < 900*time.Millisecond {
		assert.Equal(t, at, rectOf(t, ctx, secondButton), "%v after the tap, the next alarm's button has not moved", time.Since(tapped).Round(10*time.Millisecond))
		time.Sleep(100 * time.Millisecond)
	}
	poll(t, ctx, "then the list shows the acknowledgement", `document.querySelector('[data-testid="`+first+`"]').dataset.acknowledged === "true"`)
	assert.Equal(t, second, evalOn(t, ctx, "#alarms article", "el.dataset.testid"), "and the acknowledged alarm goes after the others")

	// A finger resting on the screen holds the list while a new, most
	// urgent alarm arrives; it shows once the finger lifts.
	at = rectOf(t, ctx, `[data-testid="acknowledge-`+second+`"]`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.dispatchEvent(new PointerEvent("pointerdown", {pointerId: 9, bubbles: true}))`)))
	urgent := f.raise("A-STAFF", "staff-alarm", 1)
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, at, rectOf(t, ctx, `[data-testid="acknowledge-`+second+`"]`), "nothing moves while the finger is down")
	assert.Zero(t, evalCount(t, ctx, `[data-testid="`+alarmTestIDOf(urgent)+`"]`))
	require.NoError(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.dispatchEvent(new PointerEvent("pointerup", {pointerId: 9, bubbles: true}))`)))
	poll(t, ctx, "the new alarm shows once the finger lifts", `!!document.querySelector('[data-testid="`+alarmTestIDOf(urgent)+`"]')`)
	assert.Equal(t, "11", attr(t, ctx, "#alarm-bar", "data-count"))
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

func alarmTestIDOf(id event.ID) string { return fmt.Sprintf("alarm-%s-%d", id.Wing, id.Seq) }

func alarmIDOf(t *testing.T, testID string) event.ID {
	t.Helper()
	var id event.ID
	_, err := fmt.Sscanf(testID, "alarm-%1s-%d", &id.Wing, &id.Seq)
	require.NoError(t, err, testID)
	return id
}

// TestBrowserSaysWhenTheScreenIsNotLive: a screen refused a live stream
// (the wing's places all taken) says so, with the wing's sentence, and
// becomes live by itself once a place is free.
func TestBrowserSaysWhenTheScreenIsNotLive(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := busyWing()
	srv := New(f, Options{Now: func() time.Time { return f.ago(0) }, Streams: api.Limits{PerClient: 1, Total: 1, Own: 1},
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	srv.streamRetry = time.Second
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	taken, err := http.Get(ts.URL + "/live") // the board's one place
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, taken.StatusCode)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="refused"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#not-live`)),
	))
	assert.Equal(t, "not live", text(t, ctx, "#live-status"))
	assert.Contains(t, text(t, ctx, "#not-live"), "as many live streams as it allows")
	assert.Contains(t, text(t, ctx, "#not-live"), "tries again in 1 s")
	assert.Contains(t, text(t, ctx, `[data-testid="alarm-count"]`), "2 ACTIVE ALARMS", "the alarms are shown, only not live")
	browsertest.Screenshot(t, ctx, "not-live-800x480")

	taken.Body.Close()
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`))))
	poll(t, ctx, "the note goes", `document.getElementById("not-live") === null`)
}

// TestBrowserPanelKeepsTheCardsThatDidNotChange: with many alarms up, an
// alarm raised, acknowledged (which moves it after the others) or
// resolved changes only its own card on the screen — the other cards are
// the same elements, not built and laid out anew — and the panel then
// reads as a fresh page of it does: the same cards, in the same order,
// each at its version, under the same count.
func TestBrowserPanelKeepsTheCardsThatDidNotChange(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := tenAlarms()
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	served := browsertest.Tab(t) // a fresh page of the overview after each step
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	ids := evalList(t, ctx, `Array.from(document.querySelectorAll("#alarms article")).map((a) => a.id)`)
	require.Len(t, ids, 10)
	unacknowledged := evalList(t, ctx, `Array.from(document.querySelectorAll('#alarms article[data-acknowledged="false"]')).map((a) => a.id)`)
	require.NotEmpty(t, unacknowledged)
	var raised event.ID
	for _, step := range []struct {
		what string
		do   func() string // returns the card that is new on the screen, if any
	}{
		{"an alarm raised", func() string {
			raised = f.raise("A-STAFF", "staff-alarm", 1)
			return fmt.Sprintf("alarm-%s-%d", raised.Wing, raised.Seq)
		}},
		{"an alarm acknowledged", func() string {
			last := unacknowledged[len(unacknowledged)-1]
			f.ack(t, alarmIDOf(t, last), testOfficer)
			return last
		}},
		{"an alarm resolved", func() string {
			f.resolve(t, alarmIDOf(t, ids[4]), testOfficer, "")
			return ""
		}},
	} {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("#alarms article").forEach((a) => { a.__kept = true })`))
		require.NoError(t, err)
		fresh := step.do()
		want := servedPanel(t, served, ts)
		require.Eventually(t, func() bool {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](panelSignature+`(document)`))
			return err == nil && got == want
		}, 10*time.Second, 50*time.Millisecond, "%s: the screen's panel reads as a fresh page's:\n%s", step.what, want)
		built := []string{}
		if fresh != "" {
			built = append(built, fresh)
		}
		assert.Equal(t, built, evalList(t, ctx, `Array.from(document.querySelectorAll("#alarms article")).filter((a) => !a.__kept).map((a) => a.id)`),
			"%s: the cards built anew", step.what)
	}
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// panelSignature is a script's function of a document: its alarm panel's
// classes, count, hint and cards (id and version, in order).
const panelSignature = `((doc) => {
	const s = doc.getElementById("alarms");
	const hint = s.querySelector(".scroll-hint");
	return JSON.stringify([s.className, s.dataset.count, hint ? hint.textContent : "",
		Array.from(s.querySelectorAll("article")).map((a) => a.id + "@" + a.dataset.v)]);
})`

// servedPanel is panelSignature of the overview as the server sends it
// now, loaded in the tab ctx.
func servedPanel(t *testing.T, ctx context.Context, ts *httptest.Server) string {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(ts.URL), chromedp.WaitVisible(chromedp.CSS(`#alarms`))))
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](panelSignature+`(document)`))
	require.NoError(t, err)
	return v
}
