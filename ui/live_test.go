package ui

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// sseMessage is one server-sent event as the browser sees it.
type sseMessage struct {
	name string
	data string
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
	// A stream that is never flushed would leave a plain Get waiting for
	// the headers for ever.
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 10 * time.Second}}
	resp, err := client.Get(ts.URL + "/live")
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
					out <- m
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
	var ids []string
	nextMessage(t, stream, "the last door tile", func(m sseMessage) bool {
		ids = append(ids, m.fragment(t).AttrOr("id", ""))
		return ids[len(ids)-1] == "door-A-OFFICE"
	})
	return ids
}

func TestLiveSendsEverythingWhenItOpens(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)
	_, ts := serve(t, f)

	stream := openLive(t, ts)

	assert.Equal(t, []string{"clock-status", "alarms", "door-A1-01", "door-A1-02", "door-A-GATE1", "door-A1-03", "door-A2-01", "door-A-OFFICE"},
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

	require.NoError(t, f.Acknowledge(t.Context(), event.ID{Wing: "A", Seq: 1}, "officer-7"))
	panel = nextMessage(t, stream, "the alarm panel", fragmentFor(t, "alarms", "")).fragment(t)
	assert.Equal(t, "true", panel.Find(`[data-testid="alarm-A-1"]`).AttrOr("data-acknowledged", ""))
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
	ch := make(chan event.Event, 4)
	ch <- event.Event{Seq: 2}
	ch <- event.Event{Seq: 3}
	batch, open := drain(event.Event{Seq: 1}, ch)
	assert.True(t, open)
	assert.Equal(t, []event.Event{{Seq: 1}, {Seq: 2}, {Seq: 3}}, batch)

	ch <- event.Event{Seq: 5}
	close(ch)
	batch, open = drain(event.Event{Seq: 4}, ch)
	assert.False(t, open, "closed behind the burst")
	assert.Equal(t, []event.Event{{Seq: 4}, {Seq: 5}}, batch)
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
