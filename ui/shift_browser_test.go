package ui

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/ui/browsertest"
)

var (
	fakeOfficer1001 = roster.Actor{ID: "1001", Role: roster.Officer}
	fakeSupervisor  = roster.Actor{ID: testOfficer, Role: roster.Supervisor}
)

// shiftWing is a wing half-way through a shift: two cells on plans, one
// of them overdue, checks (one flagged, one struck), an officer at a cell
// door, the expected roll with prisoners out, a landing counted right and
// one short, alarms answered and not, and a handover signed and read.
// Its clock ends near the real one: the browser counts ages on its own.
func shiftWing(t *testing.T) *fakeWing {
	t.Helper()
	ctx := context.Background()
	f := newFakeWing()
	f.now = time.Now().Add(-50 * time.Minute).Truncate(time.Second)
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	for _, d := range []string{"A1-01", "A1-02", "A1-03", "A2-01", "A-GATE1", "A-OFFICE"} {
		f.record(event.DoorClosed, d, event.SystemActor, nil)
	}
	require.NoError(t, f.SetPlan(ctx, fakeSupervisor, "A1-01", wing.Plan{DayPerHour: 2, NightPerHour: 4, ConversationsPerDay: 3, MaxGap: 30 * time.Minute}, "ACCT open"))
	require.NoError(t, f.SetPlan(ctx, fakeSupervisor, "A1-02", wing.Plan{DayPerHour: 1, NightPerHour: 2, ConversationsPerDay: 2, MaxGap: 2 * time.Hour}, ""))
	require.NoError(t, f.SetExpectedRoll(ctx, fakeSupervisor, map[string]wing.CellRoll{
		"A1-01": {Occupants: 1}, "A1-02": {Occupants: 2, Out: 1, Reason: "court"}, "A1-03": {Occupants: 0}, "A2-01": {Occupants: 1},
	}))
	f.advance(5 * time.Minute)
	old, err := f.RecordCheck(ctx, fakeOfficer1001, wing.CheckEntry{Cell: "A1-02", Outcome: wing.Seen})
	require.NoError(t, err)
	require.NoError(t, f.Correct(ctx, fakeOfficer1001, old.ID, "wrong cell or landing"))
	_, err = f.RecordCheck(ctx, fakeOfficer1001, wing.CheckEntry{Cell: "A1-02", Outcome: wing.Spoke, Note: "in bed; asked about canteen"})
	require.NoError(t, err)
	call := f.raise("A1-01-CALL", "cell-call", 2)
	f.advance(40 * time.Second)
	f.ack(t, call, "1001")
	f.advance(2 * time.Minute)
	f.resolve(t, call, "1001", "wanted a light")
	staff := f.raise("A-STAFF", "staff-alarm", 1)
	f.advance(20 * time.Second)
	f.ack(t, staff, "2001")
	f.advance(10 * time.Minute)
	_, err = f.CountLanding(ctx, fakeOfficer1001, "1", 2)
	require.NoError(t, err)
	f.record(event.DoorOpened, "A2-01", event.SystemActor, nil)
	_, err = f.CountLanding(ctx, fakeOfficer1001, "2", 0)
	require.NoError(t, err)
	f.record(event.DoorClosed, "A2-01", event.SystemActor, nil)
	f.record(event.InputFault, "A-GATE1", event.SystemActor, map[string]string{"fault": "open-circuit"})
	f.advance(15 * time.Minute) // A1-01's check (due 15 min after its plan) is overdue
	f.presence("A1-03")
	return f
}

// tapCount counts the taps of a test, as an officer's fingers would.
type tapCount struct{ n int }

func (c *tapCount) tap(sel string) chromedp.Action[chromedp.Void] {
	c.n++
	return chromedp.Tap(chromedp.CSS(sel))
}

func TestBrowserRecordsACheckInTwoTaps(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := shiftWing(t)
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, "1001", "1111")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/checks"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="due-A1-01"][data-overdue="true"]`)),
	))
	browsertest.Screenshot(t, ctx, "checks-800x480")
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(`[data-testid="check-A1-01"]`)))
	require.NoError(t, err)
	assert.True(t, shown, "the overdue cell's Check is on the first screen")

	before := f.recordCount()
	var taps tapCount
	require.NoError(t, chromedp.Do(ctx,
		taps.tap(`[data-testid="check-A1-01"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcome-spoke"]`)),
	))
	shown, err = chromedp.Run(ctx, chromedp.Evaluate[bool](inView(`[data-testid="outcome-no-response"]`)))
	require.NoError(t, err)
	assert.True(t, shown, "every outcome is on the first screen of the cell")
	browsertest.Screenshot(t, ctx, "check-cell-800x480")
	require.NoError(t, chromedp.Do(ctx,
		taps.tap(`[data-testid="outcome-spoke"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="check-done"]`)),
	))
	assert.Equal(t, 2, taps.n, "a check in two taps")
	assert.Equal(t, before+1, f.recordCount(), "one check recorded")
	e := f.lastEvent(t)
	assert.Equal(t, event.ObservationChecked, e.Kind)
	assert.Equal(t, "1001", e.Actor)
	assert.Equal(t, "A1-01", e.Subject)
	assert.Equal(t, "spoke", e.Data["outcome"])
	assert.Contains(t, text(t, ctx, `[data-testid="check-done"]`), "Check of A1-01 recorded")
	assert.Equal(t, "false", attr(t, ctx, `[data-testid="due-A1-01"]`, "data-overdue"), "no longer overdue")

	// With a note: ticked phrases and typed words, then the outcome.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/checks/A2-01"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="outcome-seen-moving"]`)),
		chromedp.Tap(chromedp.CSS(`.note-row label.tag`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="check-note"]`), "at the window"),
		chromedp.Tap(chromedp.CSS(`[data-testid="outcome-seen-moving"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="check-done"]`)),
	))
	assert.Equal(t, "breathing seen; at the window", f.lastEvent(t).Data["note"])
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

func TestBrowserPresenceAtTheDoorPromptsForTheOutcome(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := shiftWing(t)
	_, ts := serve(t, f)
	signInWithKeys(t, ctx, ts, "1001", "1111")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/checks"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="presence-A1-03"]`)),
	))
	// A key turned while the page is open appears without a reload.
	f.presence("A2-01")
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('[data-testid="presence-A2-01"]')`, chromedp.WithPollingTimeout(10*time.Second)))
	require.NoError(t, err, "the prompt follows the wing")
	browsertest.Screenshot(t, ctx, "checks-presence-800x480")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="presence-A2-01-sign-of-life"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="check-done"][data-how="door"]`)),
	))
	e := f.lastEvent(t)
	assert.Equal(t, "A2-01", e.Subject)
	assert.Equal(t, wing.CheckedAtDoor, e.Data["how"], "one tap after the key: a check proven at the door")
}

func TestBrowserCountsAndSignsTheRoll(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := shiftWing(t)
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/roll"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="landing-2"][data-reconciled="false"]`)),
	))
	assert.Contains(t, text(t, ctx, `[data-testid="roll-not-ready"]`), "landing 2 counted 0 of 1")
	browsertest.Screenshot(t, ctx, "roll-800x480")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="count-2"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="count-key-1"]`)),
	))
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](inView(`[data-testid="count-submit"]`)))
	require.NoError(t, err)
	assert.True(t, shown, "the pad's Record is on the first screen")
	browsertest.Screenshot(t, ctx, "roll-count-800x480")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="count-key-1"]`)),
		chromedp.Tap(chromedp.CSS(`[data-testid="count-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="count-done"][data-reconciled="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-roll"]`)),
	))
	assert.Equal(t, "1", f.lastEvent(t).Data["counted"])
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Tap(chromedp.CSS(`[data-testid="sign-roll"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="roll-status"][data-correct="true"]`)),
	))
	e := f.lastEvent(t)
	assert.Equal(t, event.RollSigned, e.Kind)
	assert.Equal(t, testOfficer, e.Actor)
	browsertest.Screenshot(t, ctx, "roll-signed-800x480")
	browsertest.PrintScreenshot(t, ctx, "roll")
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

func TestBrowserSignsAHandover(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := shiftWing(t)
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, "1001", "1111")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/handover"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="sign-handover-submit"]`)),
	))
	assert.Contains(t, text(t, ctx, `[data-testid="open-items"]`), "A-GATE1")
	browsertest.Screenshot(t, ctx, "handover-800x480")
	browsertest.PrintScreenshot(t, ctx, "handover")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`[data-testid="handover-notes"]`), "A1-01 low, talk to her first."),
		chromedp.Tap(chromedp.CSS(`[data-testid="sign-handover-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="handover-done"]`)),
	))
	signed := f.lastEvent(t)
	require.Equal(t, event.HandoverSigned, signed.Kind)
	assert.Equal(t, "1001", signed.Actor)
	assert.Equal(t, "A1-01 low, talk to her first.", signed.Data["notes"])
	assert.Equal(t, 0, evalCount(t, ctx, `[data-testid="read-`+signed.ID().String()+`"]`), "the outgoing officer does not read their own")

	// The incoming officer signs it as read.
	require.NoError(t, chromedp.Do(ctx, chromedp.Tap(chromedp.CSS(`[data-testid="switch-officer"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="keypad"]`))))
	signInWithKeys(t, ctx, ts, "2001", "2222")
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/handover"),
		chromedp.Tap(chromedp.CSS(`[data-testid="read-`+signed.ID().String()+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="handover-done"]`)),
	))
	read := f.lastEvent(t)
	assert.Equal(t, event.HandoverRead, read.Kind)
	assert.Equal(t, "2001", read.Actor)
	assert.Equal(t, signed.ID().String(), read.Data["handover"])
	assert.Contains(t, text(t, ctx, `[data-testid="handover-`+signed.ID().String()+`"]`), "Read by 2001")
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// TestBrowserShiftScreensAtTheSmallestScreen: every shift page at
// 800×480 with touch: targets of at least 44×44 px, no sideways
// scrolling, no script error; screenshots of each, and the printed form
// of the reports.
func TestBrowserShiftScreensAtTheSmallestScreen(t *testing.T) {
	ctx := browsertest.Tab(t)
	f := shiftWing(t)
	_, ts := serve(t, f)
	console := browsertest.WatchConsole(ctx)
	signInWithKeys(t, ctx, ts, testOfficer, "2468")
	alarm := event.ID{Wing: "A", Seq: 0}
	for _, a := range f.State().Alarms {
		if a.PointKind == "cell-call" {
			alarm = a.ID
		}
	}
	for _, p := range []struct {
		path, name string
		print      bool
	}{
		{"/checks", "checks", true},
		{"/checks/A1-02", "check-cell-history", true},
		{"/roll", "roll", false},
		{"/roll/expected", "roll-expected", false},
		{"/handover", "handover", false},
		{"/timeline?alarm=" + alarm.String(), "timeline", true},
		{"/timeline", "timeline-wing", false},
		{"/figures", "figures", false},
		{"/site", "site-rolls", false},
		{"/records/" + f.lastOf(event.ObservationChecked).ID().String() + "/correct?back=/checks", "strike", false},
	} {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(ts.URL+p.path),
			chromedp.WaitReady(chromedp.CSS("main")),
		))
		small, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](undersized))
		require.NoError(t, err)
		assert.Empty(t, small, "%s: targets under 44×44 px at %d×%d", p.path, browsertest.Width, browsertest.Height)
		width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		require.NoError(t, err)
		assert.LessOrEqual(t, width, browsertest.Width, "%s: no sideways scrolling", p.path)
		browsertest.Screenshot(t, ctx, p.name+"-800x480")
		if p.print {
			browsertest.PrintScreenshot(t, ctx, p.name)
		}
	}
	assert.Empty(t, console(), "no script errors and nothing the Content-Security-Policy blocked")
}

// lastOf returns the newest recorded event of kind.
func (f *fakeWing) lastOf(kind event.Kind) event.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := len(f.records) - 1; i >= 0; i-- {
		if f.records[i].Event.Kind == kind {
			return f.records[i].Event
		}
	}
	return event.Event{}
}
