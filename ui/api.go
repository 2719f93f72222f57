package ui

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

// The limits of a page of events from the API.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 1000
)

// The API's answers. docs/openapi.yaml describes them; keep the two in step.
type (
	apiErrorBody struct {
		Error string `json:"error"`
	}
	apiHealth struct {
		Status  string `json:"status"`
		Wing    string `json:"wing"`
		Version string `json:"version"`
	}
	apiState struct {
		Wing         apiWing         `json:"wing"`
		Doors        []apiDoor       `json:"doors"`
		ActiveAlarms []apiAlarm      `json:"active_alarms"`
		InputFaults  []apiInputFault `json:"input_faults"`
		Wings        []apiWingClock  `json:"wings"`
	}
	apiWing struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	apiDoor struct {
		ID      string    `json:"id"`
		Name    string    `json:"name"`
		Kind    string    `json:"kind"`
		Landing string    `json:"landing,omitempty"`
		State   doorState `json:"state"`
		Since   time.Time `json:"since,omitzero"`
		Fault   string    `json:"fault,omitempty"`
	}
	apiAlarm struct {
		ID           event.ID   `json:"id"`
		Wing         string     `json:"wing"`
		Seq          uint64     `json:"seq"`
		Point        string     `json:"point"`
		PointKind    string     `json:"point_kind"`
		Priority     int        `json:"priority"`
		RaisedAt     time.Time  `json:"raised_at"`
		Acknowledged *apiAction `json:"acknowledged,omitempty"`
	}
	apiAction struct {
		By string    `json:"by"`
		At time.Time `json:"at"`
	}
	apiInputFault struct {
		ID     string    `json:"id"`
		Fault  string    `json:"fault"`
		Detail string    `json:"detail,omitempty"`
		Since  time.Time `json:"since"`
	}
	apiWingClock struct {
		Wing         string    `json:"wing"`
		LastSeq      uint64    `json:"last_seq"`
		LastEvent    time.Time `json:"last_event"`
		Running      bool      `json:"running"`
		ClockTrusted bool      `json:"clock_trusted"`
	}
	apiEventPage struct {
		Records []store.Record `json:"records"`
		Next    string         `json:"next"`
	}
	apiTailPage struct {
		Records []store.Record `json:"records"`
		Next    uint64         `json:"next"`
	}
	apiActionRequest struct {
		Note string `json:"note"`
	}
	apiActionResult struct {
		Alarm           event.ID `json:"alarm"`
		Action          string   `json:"action"`
		Officer         string   `json:"officer"`
		OfficerVerified bool     `json:"officer_verified"`
	}
)

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// An error here means the client went away: nothing left to tell it.
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, status int, sentence string) {
	writeJSON(w, status, apiErrorBody{Error: sentence})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, apiHealth{Status: "ok", Wing: s.wing.Layout().ID, Version: s.opt.Version})
}

// apiState answers with this wing's doors, active alarms and input faults,
// and the recording state of every wing the appliance knows.
func (s *Server) apiState(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	out := apiState{
		Wing:         apiWing{ID: v.layout.ID, Name: cmp.Or(v.layout.Name, v.layout.ID)},
		Doors:        []apiDoor{},
		ActiveAlarms: []apiAlarm{},
		InputFaults:  []apiInputFault{},
		Wings:        []apiWingClock{},
	}
	for _, d := range v.layout.Doors {
		state, at, fault := v.doorStatus(d.ID)
		out.Doors = append(out.Doors, apiDoor{
			ID: d.ID, Name: cmp.Or(d.Name, d.ID), Kind: string(d.Kind), Landing: d.Landing,
			State: state, Since: at, Fault: fault,
		})
	}
	for _, a := range v.ownAlarms() {
		al := apiAlarm{
			ID: a.ID, Wing: a.ID.Wing, Seq: a.ID.Seq, Point: a.Point, PointKind: a.PointKind,
			Priority: a.Priority, RaisedAt: a.RaisedAt,
		}
		if a.Acknowledged != nil {
			al.Acknowledged = &apiAction{By: a.Acknowledged.By, At: a.Acknowledged.At}
		}
		out.ActiveAlarms = append(out.ActiveAlarms, al)
	}
	inputs := map[string]bool{}
	for _, d := range v.layout.Doors {
		inputs[d.ID] = true
	}
	for _, p := range v.layout.AlarmPoints {
		inputs[p.ID] = true
	}
	for id, in := range v.state.Inputs {
		if in.Faulted && inputs[id] {
			out.InputFaults = append(out.InputFaults, apiInputFault{ID: id, Fault: in.Fault, Detail: in.Detail, Since: in.Since})
		}
	}
	slices.SortFunc(out.InputFaults, func(a, b apiInputFault) int { return strings.Compare(a.ID, b.ID) })
	for _, c := range v.state.Wings {
		out.Wings = append(out.Wings, apiWingClock{
			Wing: c.Wing, LastSeq: c.LastSeq, LastEvent: c.LastEvent, Running: c.Running, ClockTrusted: c.ClockTrusted,
		})
	}
	slices.SortFunc(out.Wings, func(a, b apiWingClock) int { return strings.Compare(a.Wing, b.Wing) })
	writeJSON(w, http.StatusOK, out)
}

// parseLimit reads the limit parameter: 1 to apiMaxLimit, apiDefaultLimit
// when absent.
func parseLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return apiDefaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > apiMaxLimit {
		return 0, fmt.Errorf("limit: %q is not a whole number from 1 to %d", v, apiMaxLimit)
	}
	return n, nil
}

func parseRFC3339(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %q is not an RFC 3339 time such as 2026-03-01T14:30:00Z", name, v)
	}
	return t, nil
}

// apiQuery turns the parameters of GET /api/v1/events into a store query.
func apiQuery(q url.Values) (store.Query, error) {
	sq := store.Query{Subject: q.Get("subject"), Wing: q.Get("wing"), Cursor: q.Get("cursor")}
	for _, k := range q["kind"] {
		kind, err := event.ParseKind(k)
		if err != nil {
			return sq, fmt.Errorf("kind: %q is not a kind of event; use one of %v", k, event.Kinds)
		}
		sq.Kinds = append(sq.Kinds, kind)
	}
	var err error
	if sq.From, err = parseRFC3339(q, "from"); err != nil {
		return sq, err
	}
	if sq.To, err = parseRFC3339(q, "to"); err != nil {
		return sq, err
	}
	if !sq.From.IsZero() && !sq.To.IsZero() && !sq.From.Before(sq.To) {
		return sq, errors.New("from: must be earlier than to")
	}
	sq.Limit, err = parseLimit(q)
	return sq, err
}

func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	q, err := apiQuery(r.URL.Query())
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	page, err := s.wing.Query(r.Context(), q)
	if errors.Is(err, store.ErrBadCursor) {
		writeJSONError(w, http.StatusBadRequest, "cursor: not a cursor of this query; start again without it.")
		return
	}
	if err != nil {
		s.logError(r.Context(), "api query events", err, "query", r.URL.RawQuery)
		writeJSONError(w, http.StatusInternalServerError, "The event log could not be read. Try again; if a cursor was given, start again without it.")
		return
	}
	writeJSON(w, http.StatusOK, apiEventPage{Records: nonNil(page.Records), Next: page.Next})
}

func (s *Server) apiTail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		var err error
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("after: %q is not a store position; pass 0 to start, then the next of each answer.", v))
			return
		}
	}
	limit, err := parseLimit(q)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	recs, err := s.wing.Tail(r.Context(), after, limit)
	if err != nil {
		s.logError(r.Context(), "api tail events", err, "after", after)
		writeJSONError(w, http.StatusInternalServerError, "The event log could not be read. Try again with the same after.")
		return
	}
	next := after
	if len(recs) > 0 {
		next = recs[len(recs)-1].Pos
	}
	writeJSON(w, http.StatusOK, apiTailPage{Records: nonNil(recs), Next: next})
}

// apiAlarmAction acknowledges or resolves an alarm for another system. As on
// the screen, the actor is the configured officer.
func (s *Server) apiAlarmAction(action alarmActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.origin.Check(r); err != nil {
			writeJSONError(w, http.StatusForbidden, "This request came from another site's page, so it was refused. Call the API from a program, or act from the wing screen.")
			return
		}
		id, err := alarmID(r)
		if err != nil {
			writeJSONError(w, http.StatusBadRequest, "seq: the alarm's seq must be a whole number from 1 up (the alarm id is wing/seq).")
			return
		}
		var req apiActionRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("body: %v. Send nothing, or {\"note\": \"...\"} to resolve; the officer is not sent until officer sign-in exists.", err))
			return
		}
		if req.Note != "" && action == actionAcknowledge {
			writeJSONError(w, http.StatusBadRequest, "note: only resolving an alarm (clear) takes a note; send no note to acknowledge.")
			return
		}
		if err := checkNote(req.Note); err != nil {
			writeJSONError(w, http.StatusBadRequest, "note: "+err.Error()+".")
			return
		}
		if err := s.act(r.Context(), action, id, req.Note); err != nil {
			status, text := actionProblem(id, err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "api alarm "+string(action), err, "alarm", id)
			}
			writeJSONError(w, status, text)
			return
		}
		writeJSON(w, http.StatusOK, apiActionResult{Alarm: id, Action: string(action), Officer: s.opt.Officer, OfficerVerified: false})
	}
}
