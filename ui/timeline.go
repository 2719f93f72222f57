package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// Incident timelines and the response figures on the screen. /timeline
// is every door, alarm, check and roll event of the site around an alarm
// (?alarm=WING/SEQ: the hour around its raise) or of a place and a time
// range (?place=ID&from=&to=), oldest first, alarms with their response
// times, struck records struck through; printable, and downloadable as
// NDJSON (/timeline.ndjson, the same query) in the central pull's
// verifiable format. /figures is each wing's response figures for the
// shift.

// defaultTimeline is the range of a timeline asked for with none: the
// last hour.
const defaultTimeline = time.Hour

// parseWhen reads a time parameter: RFC 3339, or the screen's date and
// time of day ("2006-01-02T15:04", the appliance's local time).
func parseWhen(q url.Values, name string) (time.Time, error) {
	v := strings.TrimSpace(q.Get(name))
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: %q is not a time such as 2026-03-01T14:30:00Z", name, v)
}

// timelineRequest reads a timeline's query. With no alarm and no range it
// is the last hour of this wing.
func (v view) timelineRequest(q url.Values) (shift.TimelineRequest, error) {
	var req shift.TimelineRequest
	if a := q.Get("alarm"); a != "" {
		id, err := event.ParseID(a)
		if err != nil {
			return req, fmt.Errorf("alarm: %q is not an alarm id such as A/12", a)
		}
		req.Alarm = id
	}
	var err error
	if req.From, err = parseWhen(q, "from"); err != nil {
		return req, err
	}
	if req.To, err = parseWhen(q, "to"); err != nil {
		return req, err
	}
	req.Place = q.Get("place")
	if _, ok := q["place"]; !ok && req.Alarm == (event.ID{}) {
		req.Place = v.layout.ID
	}
	if req.Place != "" && !event.ValidID(req.Place) {
		return req, fmt.Errorf("place: %q is not a wing, landing, door or alarm point id", req.Place)
	}
	if req.Alarm == (event.ID{}) {
		if req.To.IsZero() {
			req.To = v.now.Truncate(time.Minute).Add(time.Minute)
		}
		if req.From.IsZero() {
			req.From = req.To.Add(-defaultTimeline)
		}
	}
	return req, nil
}

// placeChoice is a place a timeline can be of.
type placeChoice struct {
	ID, Label string
}

// placeChoices are the places of this wing a timeline is asked of.
func (v view) placeChoices() []placeChoice {
	out := []placeChoice{{"", "the whole site"}, {v.layout.ID, "wing " + v.layout.ID}}
	for _, l := range v.layout.Landings {
		out = append(out, placeChoice{wing.LandingID(v.layout.ID, l), "landing " + l})
	}
	for _, d := range v.layout.Doors {
		out = append(out, placeChoice{d.ID, doorName(d.Name, d.ID)})
	}
	for _, p := range v.layout.AlarmPoints {
		if p.Kind != config.CellCall {
			out = append(out, placeChoice{p.ID, doorName(p.Name, p.ID)})
		}
	}
	return out
}

type timelinePage struct {
	Header   header
	Request  shift.TimelineRequest
	Timeline shift.Timeline
	Places   []placeChoice
	Query    string // for the NDJSON download
	From, To string // the form's fields
	Problem  string
}

// timelineScreen is GET /timeline.
func (s *Server) timelineScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	p := timelinePage{Header: s.shiftHeader(v), Places: v.placeChoices()}
	req, err := v.timelineRequest(r.URL.Query())
	status := http.StatusOK
	if err == nil {
		ctx, cancel := contextFor(r)
		defer cancel()
		p.Timeline, err = s.wing.Timeline(ctx, req)
		if err != nil {
			status, p.Problem = timelineProblem(err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "timeline", err)
			}
		}
	} else {
		status, p.Problem = http.StatusBadRequest, "No timeline: "+err.Error()+"."
	}
	p.Request = req
	from, to := req.From, req.To
	if !p.Timeline.From.IsZero() {
		from, to = p.Timeline.From, p.Timeline.To
	}
	p.From, p.To = datetimeInput(from), datetimeInput(to)
	p.Query = timelineQuery(req, p.Timeline)
	s.render(w, r, status, timelineView(p))
}

// timelineQuery is the query that asks for the same timeline again.
func timelineQuery(req shift.TimelineRequest, t shift.Timeline) string {
	q := url.Values{}
	if req.Alarm != (event.ID{}) {
		q.Set("alarm", req.Alarm.String())
	}
	q.Set("place", req.Place)
	from, to := req.From, req.To
	if !t.From.IsZero() {
		from, to = t.From, t.To
	}
	if !from.IsZero() {
		q.Set("from", from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		q.Set("to", to.UTC().Format(time.RFC3339))
	}
	return q.Encode()
}

// datetimeInput writes t for a datetime-local field.
func datetimeInput(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(time.Local).Format("2006-01-02T15:04")
}

func timelineProblem(err error) (int, string) {
	if errors.Is(err, wing.ErrNoSuchAlarm) {
		return http.StatusNotFound, "No timeline: this wing holds no such alarm (not raised, or not yet received from its wing)."
	}
	if strings.Contains(err.Error(), "range") || strings.Contains(err.Error(), "longer than") {
		return http.StatusBadRequest, "No timeline: " + refusalSentence(err) + "."
	}
	return http.StatusInternalServerError, "The timeline could not be read. Try again."
}

// timelineNDJSON is GET /timeline.ndjson and /api/v1/timeline.ndjson: the
// timeline's events, one central-pull record a line, as a download.
func (s *Server) timelineNDJSON(w http.ResponseWriter, r *http.Request) {
	t, req, ok := s.apiTimelineOf(w, r, "timeline ndjson")
	if !ok {
		return
	}
	name := "timeline-" + strings.ReplaceAll(timelineName(req), "/", "-") + "-" + t.From.UTC().Format("20060102T1504Z") + ".ndjson"
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	if err := t.WriteNDJSON(w); err != nil {
		s.logError(r.Context(), "write timeline ndjson", err)
	}
}

// apiTimelineOf reads the timeline r asks for, for the API and the
// download; when it cannot, it answers r with the status and sentence in
// JSON (logging what the officer cannot act on as what) and ok is false.
func (s *Server) apiTimelineOf(w http.ResponseWriter, r *http.Request, what string) (t shift.Timeline, req shift.TimelineRequest, ok bool) {
	req, err := s.view().timelineRequest(r.URL.Query())
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return t, req, false
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	t, err = s.wing.Timeline(ctx, req)
	if err != nil {
		status, sentence := timelineProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), what, err)
		}
		api.WriteError(w, status, sentence)
		return t, req, false
	}
	return t, req, true
}

// timelineName names a timeline for its file: the alarm, or the place.
func timelineName(req shift.TimelineRequest) string {
	switch {
	case req.Alarm != (event.ID{}):
		return "alarm-" + req.Alarm.String()
	case req.Place != "":
		return req.Place
	}
	return "site"
}

// entryDetail is an event of a timeline in a few words.
func entryDetail(e event.Event) string {
	d := e.Data
	switch e.Kind {
	case event.AlarmRaised:
		return pointKindLabel(d["point_kind"]) + ", priority " + d["priority"]
	case event.AlarmAttended:
		if d["how"] == wing.AttendedAtReset {
			return "at the cell door"
		}
		return d["where"]
	case event.AlarmResolved:
		s := outcomeWords(d["outcome"])
		if d["note"] != "" {
			s += ": " + d["note"]
		}
		return s
	case event.AlarmClosedRemotely:
		return d["reason"]
	case event.AlarmEscalated:
		return d["reason"]
	case event.ObservationChecked:
		c := wing.CheckFromEvent(e)
		s := outcomeLabel(c.Outcome) + ", " + howLabel(c)
		for _, f := range c.Flags {
			s += "; ⚑ " + flagLabel(c, f)
		}
		if c.Late {
			s += "; late"
		}
		return s
	case event.RollCounted:
		c := wing.CountFromEvent(e)
		s := "landing " + c.Landing + ": " + strconv.Itoa(c.Counted) + " of " + strconv.Itoa(c.Expected) + ", " + discrepancy(c)
		if c.OpenDoors > 0 {
			s += "; ⚑ open: " + strings.Join(c.OpenCells, ", ")
		}
		return s
	case event.RollSigned:
		return d["counted"] + " of " + d["expected"]
	case event.RollExpectedSet:
		s := d["occupants"] + " on the roll"
		if d["out"] != "" {
			s += ", " + d["out"] + " out: " + d["reason"]
		}
		return s
	case event.RecordCorrected:
		return eventLabel(event.Kind(d["kind"])) + " " + d["record"] + " struck: " + d["reason"]
	case event.ObservationPlanSet:
		return d["day_per_hour"] + "/h by day, " + d["night_per_hour"] + "/h at night"
	}
	return ""
}

type figuresPage struct {
	Header   header
	From, To time.Time
	Figures  []shift.Figures
	Problem  string
}

// figuresWings are the wings of the site: this wing first.
func (v view) figuresWings() []string {
	wings := []string{v.layout.ID}
	for _, w := range v.site.Wings {
		if w.Wing != "" && !slices.Contains(wings, w.Wing) {
			wings = append(wings, w.Wing)
		}
	}
	slices.Sort(wings[1:])
	return wings
}

// figuresRange reads a figures query's range: the shift by default.
func (v view) figuresRange(q url.Values) (from, to time.Time, err error) {
	from, to, _ = v.shiftRange()
	if f, err := parseWhen(q, "from"); err != nil {
		return from, to, err
	} else if !f.IsZero() {
		from = f
	}
	if t, err := parseWhen(q, "to"); err != nil {
		return from, to, err
	} else if !t.IsZero() {
		to = t
	}
	return from, to, nil
}

// figuresScreen is GET /figures: every wing's response figures for the
// shift (from the wing's latest handover, or the start of its day).
func (s *Server) figuresScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	p := figuresPage{Header: s.shiftHeader(v)}
	var err error
	p.From, p.To, err = v.figuresRange(r.URL.Query())
	status := http.StatusOK
	if err != nil {
		status, p.Problem = http.StatusBadRequest, "No figures: "+err.Error()+"."
	} else {
		ctx, cancel := contextFor(r)
		defer cancel()
		for _, id := range v.figuresWings() {
			f, err := s.wing.Figures(ctx, id, p.From, p.To)
			if err != nil {
				status, p.Problem = http.StatusBadRequest, "No figures: "+refusalSentence(err)+"."
				break
			}
			p.Figures = append(p.Figures, f)
		}
	}
	s.render(w, r, status, figuresView(p))
}

// share writes the share of cell calls attended in time.
func share(f shift.Figures) string {
	if f.CellCalls == 0 {
		return "no cell calls"
	}
	return strconv.Itoa(int(f.InTimeShare*100+0.5)) + "% (" + strconv.Itoa(f.CellCallsInTime) + " of " + strconv.Itoa(f.CellCalls) + ")"
}

// responseText writes a response's median and worst.
func responseText(r shift.Response) (median, worst string) {
	if r.Done == 0 && r.Waiting == 0 {
		return "—", "—"
	}
	median = "—"
	if r.Done > 0 {
		median = took(r.Median)
	}
	worst = took(r.Worst)
	if r.WorstWaiting {
		worst += " (still waiting)"
	}
	if r.Waiting > 0 {
		worst += ", " + strconv.Itoa(r.Waiting) + " waiting"
	}
	return median, worst
}

// kindClass is an event kind as a class name: "door-opened".
func kindClass(k event.Kind) string { return strings.ReplaceAll(string(k), ".", "-") }
