package ui

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// sseMessage is one server-sent event as the browser sees it; a
// "fragments" message is delivered as the "fragment" of each of its
// elements, in its order, each with in set.
type sseMessage struct {
	name string
	data string
	in   string // "fragments" for an element of one
}

// split delivers m to out, a "fragments" message element by element.
func (m sseMessage) split(out chan<- sseMessage) {
	if m.name != "fragments" {
		out <- m
		return
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(m.data))
	if err != nil {
		out <- m
		return
	}
	doc.Find("body").Children().Each(func(_ int, el *goquery.Selection) {
		html, _ := goquery.OuterHtml(el)
		out <- sseMessage{name: "fragment", data: html, in: m.name}
	})
}

// fragment parses a fragment message's element.
func (m sseMessage) fragment(t *testing.T) *goquery.Selection {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(m.data))
	require.NoError(t, err)
	return doc.Find("body").Children().First()
}

// openLive opens /live and delivers its messages until the stream ends,
// when the channel is closed.
func openLive(t *testing.T, ts *httptest.Server) <-chan sseMessage {
	t.Helper()
	return openLiveAt(t, ts, "/live")
}

// openLiveAt is openLive with a path, for another page's stream.
func openLiveAt(t *testing.T, ts *httptest.Server, path string) <-chan sseMessage {
	t.Helper()
	return openLiveAs(t, ts, tab{}, path)
}

// openLiveAs is openLiveAt from browser b.
func openLiveAs(t *testing.T, ts *httptest.Server, b tab, path string) <-chan sseMessage {
	t.Helper()
	// A stream that is never flushed would leave a plain Get waiting for
	// the headers for ever.
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	b.add(req)
	resp, err := client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan sseMessage, 256)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var m sseMessage
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.name != "" || data != nil {
					m.data = strings.Join(data, "\n")
					m.split(out)
				}
				m, data = sseMessage{}, nil
			case strings.HasPrefix(line, "event: "):
				m.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = append(data, strings.TrimPrefix(line, "data: "))
			}
		}
	}()
	return out
}

// nextMessage waits for a message for which match is true, skipping others.
func nextMessage(t *testing.T, stream <-chan sseMessage, what string, match func(sseMessage) bool) sseMessage {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-stream:
			if !ok {
				t.Fatalf("stream ended before %s", what)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s within 10 s", what)
		}
	}
}

// fragmentFor matches a fragment whose root element has id and, if state
// is not empty, that data-state.
func fragmentFor(t *testing.T, id, state string) func(sseMessage) bool {
	return func(m sseMessage) bool {
		if m.name != "fragment" {
			return false
		}
		el := m.fragment(t)
		return el.AttrOr("id", "") == id && (state == "" || el.AttrOr("data-state", "") == state)
	}
}

// initialFragments reads the fragments sent when the stream opens, up to
// and including the last door tile.
func initialFragments(t *testing.T, stream <-chan sseMessage) []string {
	t.Helper()
	return fragmentsUntil(t, stream, "door-A-OFFICE")
}

// fragmentsUntil reads fragments up to and including the one with id
// last, and returns their ids.
func fragmentsUntil(t *testing.T, stream <-chan sseMessage, last string) []string {
	t.Helper()
	var ids []string
	nextMessage(t, stream, last, func(m sseMessage) bool {
		ids = append(ids, m.fragment(t).AttrOr("id", ""))
		return ids[len(ids)-1] == last
	})
	return ids
}

func TestLiveSendsEverythingWhenItOpens(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	_, ts := serve(t, f)

	stream := openLive(t, ts)

	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "alarms", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms",
		"door-A1-01", "door-A1-02", "door-A-GATE1", "door-A1-03", "door-A2-01", "door-A-OFFICE"},
		initialFragments(t, stream), "the page may be older than the stream: every part is sent once")
}

func TestLiveSendsTheChangedDoorTile(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.record(event.DoorOpened, "A1-03", event.SystemActor, nil)

	m := nextMessage(t, stream, "the A1-03 tile", func(m sseMessage) bool { return m.name == "fragment" })
	tile := m.fragment(t)
	assert.Equal(t, "door-A1-03", tile.AttrOr("id", ""), "only the changed tile is sent")
	assert.Equal(t, "open", tile.AttrOr("data-state", ""))
	assert.Equal(t, "OPEN", tile.Find(".state").Text())

	f.record(event.InputFault, "A1-03", event.SystemActor, map[string]string{"fault": "read-error"})
	tile = nextMessage(t, stream, "the faulted tile", fragmentFor(t, "door-A1-03", "")).fragment(t)
	assert.Equal(t, "fault", tile.AttrOr("data-state", ""))

	f.record(event.InputRestored, "A1-03", event.SystemActor, nil)
	tile = nextMessage(t, stream, "the restored tile", fragmentFor(t, "door-A1-03", "")).fragment(t)
	assert.Equal(t, "open", tile.AttrOr("data-state", ""))
}

func TestLiveSendsAlarmPanelAndCellTile(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.raise("A1-02-CALL", "cell-call", 2)

	panel := nextMessage(t, stream, "the alarm panel", fragmentFor(t, "alarms", "")).fragment(t)
	assert.Equal(t, []string{"alarm-A-1"}, testIDs(panel.Find("article")))
	tile := nextMessage(t, stream, "the cell tile", fragmentFor(t, "door-A1-02", "")).fragment(t)
	assert.Equal(t, 1, tile.Find(`[data-testid="badge-A1-02"]`).Length())

	// Among the same alarms, a card that changed goes alone.
	f.ack(t, event.ID{Wing: "A", Seq: 1}, "officer-7")
	var sent []string
	card := nextMessage(t, stream, "the acknowledged card", func(m sseMessage) bool {
		sent = append(sent, m.fragment(t).AttrOr("id", ""))
		return fragmentFor(t, "alarm-A-1", "")(m)
	}).fragment(t)
	assert.NotContains(t, sent, "alarms", "the panel is not sent again for one card")
	assert.Equal(t, "true", card.AttrOr("data-acknowledged", ""))
	assert.NotEqual(t, panel.Find(`[data-testid="alarm-A-1"]`).AttrOr("data-v", ""), card.AttrOr("data-v", ""), "a changed card has a new version")

	// A new alarm changes what the panel holds: it goes whole, and the
	// card that did not change keeps its version, for the screen to keep.
	second := f.raise("A1-01-CALL", "cell-call", 2)
	panel = nextMessage(t, stream, "the alarm panel", fragmentFor(t, "alarms", "")).fragment(t)
	assert.ElementsMatch(t, []string{"alarm-A-1", fmt.Sprintf("alarm-A-%d", second.Seq)}, testIDs(panel.Find("article")))
	assert.Equal(t, card.AttrOr("data-v", ""), panel.Find(`[data-testid="alarm-A-1"]`).AttrOr("data-v", ""))
}

// The streams share what they render of one picture: each screen still
// gets its own browser's CSRF token, and the buttons of its officer's role.
func TestLiveStreamsShareTheirPartsButNotTheirTokens(t *testing.T) {
	f := newFakeWing()
	srv, ts := serve(t, f)
	signedOut, boss := visitor(t, ts), supervisor(t, ts)
	require.NotEqual(t, signedOut.token, boss.token)
	streams := map[string]<-chan sseMessage{}
	for name, b := range map[string]tab{"signed out": signedOut, "supervisor": boss} {
		streams[name] = openLiveAs(t, ts, b, "/live")
		initialFragments(t, streams[name])
	}

	f.raise("A1-02-CALL", "cell-call", 2)
	for name, own := range map[string]tab{"signed out": signedOut, "supervisor": boss} {
		m := nextMessage(t, streams[name], "the raised alarm on the "+name+" screen", fragmentFor(t, "alarms", ""))
		assert.NotContains(t, m.data, srv.liveViews.token, "%s: no stand-in token reaches a screen", name)
		tokens := m.fragment(t).Find(`input[name="` + csrfField + `"]`)
		require.Positive(t, tokens.Length(), "%s: the panel's forms carry a CSRF token", name)
		tokens.Each(func(_ int, in *goquery.Selection) {
			assert.Equal(t, own.token, in.AttrOr("value", ""), "%s: the screen's own token", name)
		})
	}
	f.ack(t, event.ID{Wing: "A", Seq: 1}, "officer-7")
	acknowledged := func(m sseMessage) bool {
		return fragmentFor(t, "alarm-A-1", "")(m) && m.fragment(t).AttrOr("data-acknowledged", "") == "true"
	}
	panels := map[string]sseMessage{}
	for name, stream := range streams {
		panels[name] = nextMessage(t, stream, "the acknowledged alarm on the "+name+" screen", acknowledged)
	}
	assert.Equal(t, 1, panels["supervisor"].fragment(t).Find(`[data-testid="close-remotely-alarm-A-1"]`).Length(), "a supervisor may close the call remotely")
	assert.Zero(t, panels["signed out"].fragment(t).Find(`[data-testid="close-remotely-alarm-A-1"]`).Length(), "a signed-out screen is not offered it")
}

func TestLiveWarnsWhenTheClockStopsBeingTrusted(t *testing.T) {
	f := newFakeWing()
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.add(event.Event{Wing: "A", Wall: time.Unix(60, 0), Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor})

	clock := nextMessage(t, stream, "the clock warning", fragmentFor(t, "clock-status", "")).fragment(t)
	assert.Equal(t, "false", clock.AttrOr("data-trusted", ""))
}

func TestLiveReloadsWhenTheSubscriptionEnds(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.stop()

	nextMessage(t, stream, "reload", func(m sseMessage) bool { return m.name == "reload" })
	_, open := <-stream
	assert.False(t, open, "the stream ends after reload")
}

func TestDrainTakesTheWholeBurst(t *testing.T) {
	ev := func(seq uint64) *event.Event { return &event.Event{Seq: seq} }
	seqs := func(batch []*event.Event) (out []uint64) {
		for _, e := range batch {
			out = append(out, e.Seq)
		}
		return out
	}
	ch := make(chan *event.Event, 4)
	ch <- ev(2)
	ch <- ev(3)
	batch, open := drain(ev(1), ch)
	assert.True(t, open)
	assert.Equal(t, []uint64{1, 2, 3}, seqs(batch))

	ch <- ev(5)
	close(ch)
	batch, open = drain(ev(4), ch)
	assert.False(t, open, "closed behind the burst")
	assert.Equal(t, []uint64{4, 5}, seqs(batch))
}

func TestCloseEndsLiveStreams(t *testing.T) {
	f := newFakeWing()
	srv, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)
	require.Equal(t, 1, f.subscribers())

	srv.Close()

	select {
	case m, open := <-stream:
		assert.False(t, open, "the stream ends without reload (%v): the appliance may be back in a moment", m)
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the stream")
	}
	assert.Zero(t, f.subscribers(), "the subscription is cancelled")

	resp, err := http.Get(ts.URL + "/live")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "no stream opens after Close")
}

func TestLiveRefusesAnUnknownPage(t *testing.T) {
	_, ts := serve(t, newFakeWing())
	resp, err := http.Get(ts.URL + "/live?page=nonsense")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestLiveSendsNothingWhileNothingHappens(t *testing.T) {
	f := newFakeWing() // no sensors: nothing changes with time alone
	srv, ts := serve(t, f)
	srv.refreshEvery = 5 * time.Millisecond
	srv.siteEvery = 5 * time.Millisecond
	stream := openLive(t, ts)
	initialFragments(t, stream)

	time.Sleep(100 * time.Millisecond) // twenty refreshes, and twenty looks at the site
	f.record(event.DoorOpened, "A1-03", event.SystemActor, nil)

	m := nextMessage(t, stream, "any message", func(sseMessage) bool { return true })
	assert.Equal(t, "door-A1-03", m.fragment(t).AttrOr("id", ""), "the refreshes sent nothing before the door's tile")
}

func TestLiveSendsLocksAndForcedDoors(t *testing.T) {
	f := fittedWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.record(event.DoorLocked, "A1-01", event.SystemActor, nil)
	tile := nextMessage(t, stream, "the locked tile", fragmentFor(t, "door-A1-01", "")).fragment(t)
	assert.Equal(t, "locked", tile.AttrOr("data-lock", ""))

	f.record(event.InputFault, "A-GATE1#lock", event.SystemActor, map[string]string{"fault": "tamper"})
	tile = nextMessage(t, stream, "the gate's tile", fragmentFor(t, "door-A-GATE1", "")).fragment(t)
	assert.Equal(t, "fault", tile.AttrOr("data-state", ""), "a lock contact fault shows on its door")

	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	f.raise("A1-01", "door-forced", 1)
	panel := nextMessage(t, stream, "the alarm panel", fragmentFor(t, "alarms", "")).fragment(t)
	assert.Contains(t, panel.Text(), "DOOR FORCED")
	nextMessage(t, stream, "the forced tile", func(m sseMessage) bool {
		return fragmentFor(t, "door-A1-01", "open")(m) && m.fragment(t).AttrOr("data-forced", "") == "true"
	})
}

func TestLiveRefreshesTheEnvironment(t *testing.T) {
	f := fittedWing()
	f.setClimate(ClimateReading{Sensor: "ENV-1", TemperatureC: 21, HumidityPct: 50, At: f.ago(0)})
	srv, ts := serve(t, f)
	srv.refreshEvery = 20 * time.Millisecond
	stream := openLive(t, ts)

	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "alarms", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms", "environment",
		"door-A1-01", "door-A1-02", "door-A-GATE1", "door-A1-03", "door-A2-01", "door-A-OFFICE"},
		initialFragments(t, stream))

	f.setClimate(ClimateReading{Sensor: "ENV-1", TemperatureC: 22.5, HumidityPct: 51, At: f.ago(0)})
	nextMessage(t, stream, "the new reading", func(m sseMessage) bool {
		return fragmentFor(t, "environment", "")(m) && m.fragment(t).Find(`[data-testid="temperature-ENV-1"]`).Text() == "22.5 °C"
	})

}

func TestLiveSendsTheEnvironmentOnItsEvents(t *testing.T) {
	f := fittedWing()
	_, ts := serve(t, f) // refreshes every 10 s: longer than the test
	stream := openLive(t, ts)
	initialFragments(t, stream)

	f.record(event.ClimateCondition, "ENV-1", event.SystemActor, map[string]string{"condition": "too-hot", "active": "true", "value": "28.5°C"})
	panel := nextMessage(t, stream, "the panel", fragmentFor(t, "environment", "")).fragment(t)
	assert.Equal(t, "TOO HOT 28.5 °C", panel.Find(`[data-testid="condition-ENV-1-too-hot"]`).Text())
	f.record(event.InputFault, "ENV-2", event.SystemActor, map[string]string{"fault": "silent"})
	panel = nextMessage(t, stream, "the panel", fragmentFor(t, "environment", "")).fragment(t)
	assert.Equal(t, "silent", panel.Find(`[data-testid="sensor-ENV-2"]`).AttrOr("data-state", ""))
}

func TestLiveOverviewFollowsTheWalkTest(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	initialFragments(t, stream)

	require.NoError(t, f.StartWalkTest(t.Context(), officer("officer-7"), 15*time.Minute, wing.WalkTestPoints{}))
	banner := nextMessage(t, stream, "the banner", fragmentFor(t, "walktest-banner", "")).fragment(t)
	assert.Equal(t, "true", banner.AttrOr("data-running", ""))
	assert.Contains(t, banner.Text(), "WALK TEST of the whole wing until")

	f.record(event.InputProven, "A1-01", "officer-7", nil)
	link := nextMessage(t, stream, "the walk test link", fragmentFor(t, "walktest-link", "")).fragment(t)
	assert.Equal(t, "8", link.AttrOr("data-due", ""), "one of nine inputs proven")
}

func TestLiveWalkTestPage(t *testing.T) {
	f := fittedWing() // ProveEvery: 7 days
	srv, ts := serve(t, f)
	srv.refreshEvery = 20 * time.Millisecond
	stream := openLiveAt(t, ts, "/live?page=walktest")

	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms", "walktest-controls", "proof-summary",
		"proof-group-sum-1", "proof-group-sum-2", "proof-group-sum-3", "proof-A1-01", "proof-A1-01#lock", "proof-A1-01-CALL", "proof-A1-02", "proof-A1-02-CALL", "proof-A-GATE1", "proof-A-GATE1#lock",
		"proof-A1-03", "proof-A2-01", "proof-A-OFFICE", "proof-A-STAFF"},
		fragmentsUntil(t, stream, "proof-A-STAFF"), "the walk test page's parts, and no door tiles")

	require.NoError(t, f.StartWalkTest(t.Context(), officer("officer-7"), 15*time.Minute, wing.WalkTestPoints{}))
	nextMessage(t, stream, "the running banner", fragmentFor(t, "walktest-banner", ""))
	controls := nextMessage(t, stream, "the controls", fragmentFor(t, "walktest-controls", "")).fragment(t)
	assert.Equal(t, "true", controls.AttrOr("data-running", ""))
	assert.Equal(t, 1, controls.Find(`[data-testid="walktest-end"]`).Length())

	row := nextMessage(t, stream, "the covered row", fragmentFor(t, "proof-A1-01#lock", "")).fragment(t)
	assert.Equal(t, "true", row.AttrOr("data-covered", ""), "the walk test covers the whole wing")
	nextMessage(t, stream, "the last covered row", fragmentFor(t, "proof-A-STAFF", ""))

	f.record(event.InputProven, "A1-01#lock", "officer-7", nil)
	sum := nextMessage(t, stream, "the summary", fragmentFor(t, "proof-summary", "")).fragment(t)
	assert.Equal(t, "10", sum.AttrOr("data-never", ""))
	group := nextMessage(t, stream, "landing 1's line", fragmentFor(t, "proof-group-sum-1", "")).fragment(t)
	assert.Equal(t, "7", group.AttrOr("data-due", ""), "eight inputs on landing 1, one proven")
	row = nextMessage(t, stream, "the proven row", fragmentFor(t, "proof-A1-01#lock", "")).fragment(t)
	assert.Equal(t, "ok", row.AttrOr("data-status", ""))
	assert.Contains(t, row.Text(), "officer-7")

	f.advance(15 * time.Minute) // the walk test runs out before its end is recorded
	banner := nextMessage(t, stream, "the banner going", fragmentFor(t, "walktest-banner", "")).fragment(t)
	assert.Equal(t, "false", banner.AttrOr("data-running", ""))
	controls = nextMessage(t, stream, "the controls", fragmentFor(t, "walktest-controls", "")).fragment(t)
	assert.Equal(t, 1, controls.Find(`[data-testid="walktest-start"]`).Length())

	f.advance(7 * 24 * time.Hour) // the proof falls overdue with no event
	nextMessage(t, stream, "the overdue row", func(m sseMessage) bool {
		return fragmentFor(t, "proof-A1-01#lock", "")(m) && m.fragment(t).AttrOr("data-status", "") == "overdue"
	})
}

func TestLiveFollowsTheSite(t *testing.T) {
	f := newFakeWing()
	f.setSite(threeWingSite(f))
	srv, ts := serve(t, f)
	srv.siteEvery = 20 * time.Millisecond
	stream := openLive(t, ts)
	initialFragments(t, stream)

	// Isolation is not an event: the stream sees it when it looks at Site.
	st := threeWingSite(f)
	st.Isolated, st.IsolatedSince, st.Waiting = true, f.ago(0), 7
	f.setSite(st)
	link := nextMessage(t, stream, "the site link", fragmentFor(t, "site-link", "")).fragment(t)
	assert.Equal(t, "isolated", link.AttrOr("data-note", ""))
	banner := nextMessage(t, stream, "the isolation banner", fragmentFor(t, "isolation-banner", "")).fragment(t)
	assert.Equal(t, "true", banner.AttrOr("data-isolated", ""))
	assert.Contains(t, banner.Text(), "7 events waiting to be shared")

	st.Waiting = 8
	f.setSite(st)
	banner = nextMessage(t, stream, "the new count", fragmentFor(t, "isolation-banner", "")).fragment(t)
	assert.Equal(t, "8", banner.AttrOr("data-waiting", ""))

	require.NoError(t, f.SetLockdown(t.Context(), officer("officer-7"), true, "fight"))
	lockdown := nextMessage(t, stream, "the lockdown banner", fragmentFor(t, "lockdown-banner", "")).fragment(t)
	assert.Equal(t, "true", lockdown.AttrOr("data-active", ""))
	assert.Contains(t, lockdown.Text(), "declared by officer-7")

	// Another wing's alarm arrives as an event.
	f.raiseOn("B", "B1-04-CALL", "cell-call", 2, f.ago(0))
	alarms := nextMessage(t, stream, "the site banner", fragmentFor(t, "site-alarms", "")).fragment(t)
	assert.Equal(t, []string{"site-alarm-B-1"}, testIDs(alarms.Find("li.site-alarm")))
	assert.Contains(t, alarms.Find(".label").Text(), "as last heard", "this wing is isolated")
}

func TestLiveSitePage(t *testing.T) {
	f := newFakeWing()
	f.setSite(threeWingSite(f))
	srv, ts := serve(t, f)
	srv.siteEvery = 20 * time.Millisecond
	stream := openLiveAt(t, ts, "/live?page=site")

	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms",
		"site-status", "lockdown-panel", "site-alarm-list"},
		fragmentsUntil(t, stream, "site-alarm-list"), "the Site screen's parts, and no door tiles")

	st := threeWingSite(f)
	st.Wings[2].Link, st.Leader = LinkUnreachable, ""
	f.setSite(st)
	status := nextMessage(t, stream, "the wings", fragmentFor(t, "site-status", "")).fragment(t)
	assert.Equal(t, "unreachable", status.Find(`[data-testid="site-wing-B"]`).AttrOr("data-link", ""))
	assert.Contains(t, status.Find(`[data-testid="site-leader"]`).Text(), "No leader known")

	require.NoError(t, f.SetLockdown(t.Context(), officer("officer-7"), true, "fight"))
	panel := nextMessage(t, stream, "the lockdown panel", fragmentFor(t, "lockdown-panel", "")).fragment(t)
	assert.Equal(t, "true", panel.AttrOr("data-active", ""))
	assert.Equal(t, 1, panel.Find(`[data-testid="lockdown-end"]`).Length())

	f.raiseOn("C", "C-STAFF", "staff-alarm", 1, f.ago(0))
	list := nextMessage(t, stream, "the alarm list", fragmentFor(t, "site-alarm-list", "")).fragment(t)
	assert.Equal(t, []string{"site-alarm-C-1"}, testIDs(list.Find("li.site-alarm")))
}

func TestLiveEventLogTakesNewEvents(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	doc := getPage(t, ts, "/events?subject=A1-01", http.StatusOK)
	live := doc.Find("#live-status")
	assert.Equal(t, "events", live.AttrOr("data-page", ""))
	assert.Equal(t, "subject=A1-01", live.AttrOr("data-query", ""), "the stream takes the log's filter")

	stream := openLiveAt(t, ts, "/live?page=events&subject=A1-01")
	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms"}, fragmentsUntil(t, stream, "site-alarms"))
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil) // not the filter's
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	rows := nextMessage(t, stream, "the new row", func(m sseMessage) bool { return m.name == "prepend" })
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table>" + rows.data + "</table>"))
	require.NoError(t, err)
	assert.Equal(t, "event-rows", doc.Find("tbody").AttrOr("id", ""))
	assert.Equal(t, []string{"event-A-2"}, testIDs(doc.Find("tbody tr")), "only the events of the filter")

	require.NoError(t, f.SetLockdown(t.Context(), officer("officer-7"), true, "fight"))
	f.raise("A-STAFF", "staff-alarm", 1)
	bar := nextMessage(t, stream, "the alarm bar", fragmentFor(t, "alarm-bar", "")).fragment(t)
	assert.Equal(t, "1", bar.AttrOr("data-count", ""), "a new alarm is seen from the event log")
	assert.Equal(t, "/", bar.AttrOr("href", ""))

	// An older page of the log, or one that ends at a time, is as loaded.
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)
	doc = getPage(t, ts, "/events?to=2026-03-02T10:00", http.StatusOK)
	assert.Equal(t, "frame", doc.Find("#live-status").AttrOr("data-page", ""))
	assert.Zero(t, doc.Find(`[data-testid="events-follow"]`).Length())
}

// TestEveryPageFollowsTheFrame: every page carries the alarm bar and the
// live stream, so a new alarm is seen on whatever page is open.
func TestEveryPageFollowsTheFrame(t *testing.T) {
	f := newFakeWing()
	f.raise("A-STAFF", "staff-alarm", 1)
	_, ts := serve(t, f)
	sup := supervisor(t, ts)
	for path, page := range map[string]string{"/": "overview", "/events": "events", "/walktest": "walktest", "/site": "site", "/plan": "plan",
		"/officers": "frame", "/regime": "frame", "/signin": "frame", "/no-such-page": "frame", "/alarms/A/1/close-remotely": "frame"} {
		doc := docOf(t, getAs(t, ts, sup, path))
		assert.Equal(t, page, doc.Find("#live-status").AttrOr("data-page", ""), path)
		assert.Equal(t, "1", doc.Find("#alarm-bar").AttrOr("data-count", ""), path)
	}
	stream := openLiveAt(t, ts, "/live?page=frame")
	assert.Equal(t, []string{"clock-status", "regime", "alarm-bar", "checks-badge", "escalations", "walktest-banner", "walktest-link", "site-link", "lockdown-banner", "isolation-banner", "site-alarms"}, fragmentsUntil(t, stream, "site-alarms"))
}

func TestLiveStreamsAreCappedPerClientAndInAllTheKiosksApart(t *testing.T) {
	f := newFakeWing()
	srv := New(f, Options{Now: func() time.Time { return f.ago(0) }, Streams: api.Limits{PerClient: 2, Total: 3, Own: 1},
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	t.Cleanup(srv.Close)
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
		return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}}
	}
	open := func(c *http.Client, path string) *http.Response {
		t.Helper()
		resp, err := c.Get(ts.URL + path)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	refused := func(resp *http.Response, why string) {
		t.Helper()
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, why)
		assert.Equal(t, "30", resp.Header.Get("Retry-After"), why)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		assert.Contains(t, string(body), "as many live streams as it allows", why)
	}

	screen, other, kiosk := from("127.0.0.2"), from("127.0.0.3"), from("127.0.0.1")
	first := open(screen, "/live")
	require.Equal(t, http.StatusOK, first.StatusCode)
	require.Equal(t, http.StatusOK, open(screen, "/live/shift?page=checks").StatusCode, "the shift's stream counts with the page's")
	refused(open(screen, "/live"), "a third stream of one screen")
	require.Equal(t, http.StatusOK, open(other, "/live").StatusCode)
	refused(open(other, "/live"), "a fourth stream on the network")
	require.Equal(t, http.StatusOK, open(kiosk, "/live").StatusCode, "the kiosk's screens are served while the network's are full")
	refused(open(kiosk, "/live"), "the kiosk's own places are bounded too")

	// A screen that goes lets another in.
	first.Body.Close()
	assert.Eventually(t, func() bool {
		resp, err := other.Get(ts.URL + "/live")
		if err != nil {
			return false
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond)
}

// A storm changes many doors at once: their tiles go in one "fragments"
// message, as do all of them when a stream opens, rendered once for every
// stream and put in place by the screen in one go.
func TestLiveSendsTheDoorTilesTogether(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)
	stream := openLive(t, ts)
	var tiles []string
	nextMessage(t, stream, "every door tile", func(m sseMessage) bool {
		if id := m.fragment(t).AttrOr("id", ""); strings.HasPrefix(id, "door-") {
			assert.Equal(t, "fragments", m.in, "%s comes with the other tiles", id)
			tiles = append(tiles, id)
		}
		return len(tiles) == len(f.Layout().Doors)
	})
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	m := nextMessage(t, stream, "the opened tile", fragmentFor(t, "door-A1-02", "open"))
	assert.Equal(t, "fragments", m.in)
}
