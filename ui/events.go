package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// eventLogPageSize is how many events one page of the log shows.
const eventLogPageSize = 50

// datetimeLocal is the value format of an <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

// eventFilter is the log's filter form as the officer filled it in.
type eventFilter struct {
	Kind    string
	Subject string
	From    string
	To      string
	Cursor  string
}

func filterFrom(q url.Values) eventFilter {
	return eventFilter{
		Kind:    q.Get("kind"),
		Subject: strings.TrimSpace(q.Get("subject")),
		From:    q.Get("from"),
		To:      q.Get("to"),
		Cursor:  q.Get("cursor"),
	}
}

// query checks the form and turns it into a query of the event log. Times are the
// appliance's local time, as the datetime-local inputs show them.
func (f eventFilter) query() (event.Query, error) {
	q := event.Query{Subject: f.Subject, Limit: eventLogPageSize, Cursor: f.Cursor}
	if f.Kind != "" {
		k, err := event.ParseKind(f.Kind)
		if err != nil {
			return q, fmt.Errorf("the kind %q is not one this appliance records: choose one from the list", f.Kind)
		}
		q.Kinds = []event.Kind{k}
	}
	var err error
	if q.From, err = parseLocal("From", f.From); err != nil {
		return q, err
	}
	if q.To, err = parseLocal("To", f.To); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return q, fmt.Errorf("“From” must be earlier than “To”: swap them or widen the range")
	}
	return q, nil
}

func parseLocal(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation(datetimeLocal, v, time.Local)
	if err != nil {
		return time.Time{}, fmt.Errorf("“%s” %q is not a date and time: pick one with the date picker, or leave it empty", field, v)
	}
	return t, nil
}

// link returns the log's address for this filter at cursor.
func (f eventFilter) link(cursor string) string {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.Kind, "subject": f.Subject, "from": f.From, "to": f.To, "cursor": cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return "/events"
	}
	return "/events?" + q.Encode()
}

type eventLogPage struct {
	Header  header
	Filter  eventFilter
	Problem string // why the filter was refused, or why the log could not be read
	Records []event.Record
	Older   string // address of the next (older) page; empty at the end
	Newest  string // address of the first page, when this is a later one
	// Follows is true when new events that match go to the top of the
	// list as they happen: on the first page, with no end time.
	Follows bool
}

// follows reports whether the log shown for f takes new events at its
// top: it shows the newest events (no cursor, no end time).
func (f eventFilter) follows() bool { return f.Cursor == "" && f.To == "" }

// liveQuery is the filter as the live stream takes it.
func (f eventFilter) liveQuery() string {
	q := url.Values{}
	for k, v := range map[string]string{"kind": f.Kind, "subject": f.Subject, "from": f.From} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	f := filterFrom(r.URL.Query())
	h := s.header(s.view())
	p := eventLogPage{Header: h, Filter: f}
	q, err := f.query()
	if err != nil {
		p.Problem = "Filter not applied: " + err.Error() + "."
		s.render(w, r, http.StatusBadRequest, eventLog(p))
		return
	}
	page, err := s.wing.Query(r.Context(), q)
	if errors.Is(err, event.ErrBadCursor) {
		p.Problem = "That page link is out of date: open Events again for the newest events."
		s.render(w, r, http.StatusBadRequest, eventLog(p))
		return
	}
	if err != nil {
		s.logError(r.Context(), "query events", err, "query", r.URL.RawQuery)
		p.Problem = "The event log could not be read. Try again; if it keeps failing, report it."
		s.render(w, r, http.StatusInternalServerError, eventLog(p))
		return
	}
	p.Records = page.Records
	if f.follows() {
		p.Header.Live, p.Header.LiveQuery, p.Follows = liveEvents, f.liveQuery(), true
	}
	if page.Next != "" {
		p.Older = f.link(page.Next)
	}
	if f.Cursor != "" {
		p.Newest = f.link("")
	}
	s.render(w, r, http.StatusOK, eventLog(p))
}

// wallTime formats an event's wall time for the log, in the appliance's
// local time.
func wallTime(t time.Time) string { return t.In(time.Local).Format("2006-01-02 15:04:05") }

// dataText lists an event's data fields as key=value, in canonical order.
func dataText(e event.Event) string {
	var b strings.Builder
	for i, k := range e.SortedKeys() {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString(k + "=" + e.Data[k])
	}
	return b.String()
}
