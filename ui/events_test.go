package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// logRows lists the event rows of a log page as their data-testid.
func logRows(doc *goquery.Document) []string {
	return testIDs(doc.Find(`[data-testid="event-log"] tbody tr`))
}

func localInput(t time.Time) string { return t.In(time.Local).Format(datetimeLocal) }

func TestEventLogNewestFirst(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	f.raise("A1-01-CALL", "cell-call", 2)
	f.ack(t, event.ID{Wing: "A", Seq: 2}, "officer-7")
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/events", http.StatusOK)

	assert.Equal(t, []string{"event-A-3", "event-A-2", "event-A-1"}, logRows(doc))
	var cells []string
	doc.Find(`[data-testid="event-A-3"] td`).Each(func(_ int, s *goquery.Selection) { cells = append(cells, strings.TrimSpace(s.Text())) })
	assert.Equal(t, []string{wallTime(testNow.Add(3 * time.Second)), "A", "3", "alarm.acknowledged", "A1-01-CALL", "officer-7", "alarm=A/2"}, cells)
	assert.Zero(t, doc.Find(`[data-testid="clock-untrusted"]`).Length())
	assert.Zero(t, doc.Find(`[data-testid="older"], [data-testid="newest"]`).Length(), "one page only")
}

func TestEventLogFilters(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)    // 10:00:01
	f.record(event.DoorClosed, "A1-01", event.SystemActor, nil)    // 10:00:02
	f.record(event.DoorOpened, "A1-02", event.SystemActor, nil)    // 10:00:03
	f.now = f.now.Add(time.Hour)                                   //
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)    // 11:00:04
	f.record(event.InputFault, "A1-01", event.SystemActor, nil)    // 11:00:05
	f.record(event.ApplianceStopped, "A", event.SystemActor, nil)  // 11:00:06
	f.record(event.ApplianceStarted, "A", event.SystemActor, nil)  // 11:00:07
	f.record(event.DoorClosed, "A-GATE1", event.SystemActor, nil)  // 11:00:08
	f.record(event.DoorOpened, "A-OFFICE", event.SystemActor, nil) // 11:00:09
	_, ts := serve(t, f)

	for _, c := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"kind", url.Values{"kind": {"door.opened"}}, []string{"event-A-9", "event-A-4", "event-A-3", "event-A-1"}},
		{"subject", url.Values{"subject": {" A1-01 "}}, []string{"event-A-5", "event-A-4", "event-A-2", "event-A-1"}},
		{"kind and subject", url.Values{"kind": {"door.opened"}, "subject": {"A1-01"}}, []string{"event-A-4", "event-A-1"}},
		{"from", url.Values{"from": {localInput(testNow.Add(time.Hour))}, "subject": {"A1-01"}}, []string{"event-A-5", "event-A-4"}},
		{"to", url.Values{"to": {localInput(testNow.Add(time.Minute))}, "kind": {"door.opened"}}, []string{"event-A-3", "event-A-1"}},
		{"nothing matches", url.Values{"subject": {"B1-01"}}, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := getPage(t, ts, "/events?"+c.query.Encode(), http.StatusOK)
			assert.Equal(t, c.want, logRows(doc))
			assert.Zero(t, doc.Find(`[data-testid="problem"]`).Length())
			assert.Equal(t, len(c.want) == 0, doc.Find(`[data-testid="no-events"]`).Length() == 1)
			form := doc.Find(`[data-testid="filter"]`)
			assert.Equal(t, c.query.Get("kind"), form.Find(`select[name="kind"] option[selected]`).AttrOr("value", ""), "the form keeps the filter")
			assert.Equal(t, strings.TrimSpace(c.query.Get("subject")), form.Find(`input[name="subject"]`).AttrOr("value", ""))
		})
	}
}

func TestEventLogPagesWithTheStoreCursor(t *testing.T) {
	f := newFakeWing()
	for range 60 {
		f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	}
	for range 60 {
		f.record(event.DoorClosed, "A1-02", event.SystemActor, nil)
	}
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/events?kind=door.opened", http.StatusOK)
	rows := logRows(doc)
	require.Len(t, rows, eventLogPageSize)
	assert.Equal(t, "event-A-60", rows[0])
	assert.Zero(t, doc.Find(`[data-testid="newest"]`).Length())
	older, ok := doc.Find(`[data-testid="older"]`).Attr("href")
	require.True(t, ok, "an Older link while there is more")

	doc = getPage(t, ts, older, http.StatusOK)
	assert.Equal(t, []string{"event-A-10", "event-A-9", "event-A-8", "event-A-7", "event-A-6", "event-A-5", "event-A-4", "event-A-3", "event-A-2", "event-A-1"},
		logRows(doc), "the next page keeps the filter and goes on where the first ended")
	assert.Zero(t, doc.Find(`[data-testid="older"]`).Length(), "no Older link at the end")
	assert.Equal(t, "/events?kind=door.opened", doc.Find(`[data-testid="newest"]`).AttrOr("href", ""))
}

func TestEventLogRefusesBadFilters(t *testing.T) {
	f := newFakeWing()
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	_, ts := serve(t, f)

	for _, c := range []struct {
		name  string
		query url.Values
		says  string
	}{
		{"unknown kind", url.Values{"kind": {"door.exploded"}}, `the kind "door.exploded" is not one this appliance records`},
		{"from not a time", url.Values{"from": {"yesterday"}}, `“From” "yesterday" is not a date and time`},
		{"to out of range", url.Values{"to": {"2026-13-40T25:61"}}, `“To” "2026-13-40T25:61" is not a date and time`},
		{"from after to", url.Values{"from": {"2026-03-02T12:00"}, "to": {"2026-03-02T11:00"}}, "“From” must be earlier than “To”"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := getPage(t, ts, "/events?"+c.query.Encode(), http.StatusBadRequest)
			problem := doc.Find(`[data-testid="problem"]`).Text()
			assert.Contains(t, problem, "Filter not applied: ")
			assert.Contains(t, problem, c.says)
			assert.Empty(t, logRows(doc))
			form := doc.Find(`[data-testid="filter"]`)
			assert.Equal(t, c.query.Get("from"), form.Find(`input[name="from"]`).AttrOr("value", ""), "the form keeps what was entered")
			assert.Equal(t, c.query.Get("to"), form.Find(`input[name="to"]`).AttrOr("value", ""))
		})
	}
}

func TestEventLogMarksUntrustedClock(t *testing.T) {
	f := newFakeWing()
	f.add(event.Event{Wing: "A", Wall: time.Unix(60, 0), Kind: event.ApplianceStarted, Subject: "A", Actor: event.SystemActor})
	f.record(event.DoorOpened, "A1-01", event.SystemActor, nil)
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/events", http.StatusOK)

	assert.Equal(t, 1, doc.Find(`[data-testid="event-A-1"] [data-testid="clock-untrusted"]`).Length())
	assert.Contains(t, doc.Find(`[data-testid="event-A-1"]`).Text(), "clock not set")
	assert.Zero(t, doc.Find(`[data-testid="event-A-2"] [data-testid="clock-untrusted"]`).Length())
}

func TestEventLogReportsStoreFailure(t *testing.T) {
	f := newFakeWing()
	f.queryErr = errQueryBroken
	_, ts := serve(t, f)

	doc := getPage(t, ts, "/events", http.StatusInternalServerError)
	problem := doc.Find(`[data-testid="problem"]`).Text()
	assert.Contains(t, problem, "could not be read")
	assert.NotContains(t, problem, "disk on fire", "internal detail goes to the log, not the screen")
}
