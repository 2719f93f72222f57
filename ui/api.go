package ui

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// The limits of a page of events from the API.
const (
	apiDefaultLimit = 100
	apiMaxLimit     = 1000
)

// The API's answers. docs/openapi.yaml describes them; keep the two in step.
type (
	apiHealth struct {
		Status  string `json:"status"` // "ok", or "failing" while events cannot be recorded
		Problem string `json:"problem,omitempty"`
		Wing    string `json:"wing"`
		Version string `json:"version"`
	}
	apiState struct {
		Wing         apiWing         `json:"wing"`
		Doors        []apiDoor       `json:"doors"`
		ActiveAlarms []apiAlarm      `json:"active_alarms"`
		InputFaults  []apiInputFault `json:"input_faults"`
		Wings        []apiWingClock  `json:"wings"`
		Climate      []apiSensor     `json:"climate"`
		WalkTest     apiWalkTest     `json:"walk_test"`
		Proof        apiProof        `json:"proof"`
		Regime       apiRegime       `json:"regime"`
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
		// The lock contact, where one is fitted.
		Lock      lockState `json:"lock,omitempty"`
		LockSince time.Time `json:"lock_since,omitzero"`
		LockFault string    `json:"lock_fault,omitempty"`
		Forced    bool      `json:"forced,omitempty"` // a door-forced alarm is active
	}
	apiSensor struct {
		Sensor     string         `json:"sensor"`
		Name       string         `json:"name"`
		Landing    string         `json:"landing,omitempty"`
		Cell       string         `json:"cell,omitempty"`
		Reading    *apiReading    `json:"reading,omitempty"`
		Fault      string         `json:"fault,omitempty"` // "silent" when it gives no readings
		Conditions []apiCondition `json:"conditions"`
	}
	apiReading struct {
		TemperatureC float64   `json:"temperature_c"`
		HumidityPct  float64   `json:"humidity_pct"`
		At           time.Time `json:"at"`
	}
	apiCondition struct {
		Condition string    `json:"condition"`
		Value     string    `json:"value"`
		Since     time.Time `json:"since"`
	}
	apiWalkTest struct {
		Running bool      `json:"running"`
		By      string    `json:"by,omitempty"`
		Since   time.Time `json:"since,omitzero"`
		Until   time.Time `json:"until,omitzero"`
		Landing string    `json:"landing,omitempty"`
		Points  []string  `json:"points,omitempty"` // absent: every input
	}
	apiProof struct {
		ProveEveryS int64           `json:"prove_every_s"`
		Overdue     int             `json:"overdue"`
		Never       int             `json:"never"`
		Inputs      []apiProofInput `json:"inputs"`
	}
	apiProofInput struct {
		Input    string      `json:"input"`
		Kind     string      `json:"kind"`
		Landing  string      `json:"landing,omitempty"`
		Status   proofStatus `json:"status"`
		ProvenAt time.Time   `json:"proven_at,omitzero"`
		ProvenBy string      `json:"proven_by,omitempty"`
	}
	apiWalkTestRequest struct {
		Minutes int      `json:"minutes"`
		Landing string   `json:"landing"`
		Points  []string `json:"points"`
	}
	apiWalkTestResult struct {
		Action          string   `json:"action"`
		Minutes         int      `json:"minutes,omitempty"`
		Landing         string   `json:"landing,omitempty"`
		Points          []string `json:"points,omitempty"`
		Officer         string   `json:"officer"`
		OfficerVerified bool     `json:"officer_verified"`
	}
	apiAlarm struct {
		ID           event.ID        `json:"id"`
		Wing         string          `json:"wing"`
		Seq          uint64          `json:"seq"`
		Point        string          `json:"point"`
		Name         string          `json:"name"`
		PointKind    string          `json:"point_kind"`
		Priority     int             `json:"priority"`
		RaisedAt     time.Time       `json:"raised_at"`
		Acknowledged *apiAction      `json:"acknowledged,omitempty"`
		Attended     *apiAttendance  `json:"attended,omitempty"`
		Escalations  []apiEscalation `json:"escalations"`
		// NextStep is what the alarm waits for: acknowledge,
		// attend-at-door (a cell call, by its reset key) or resolve.
		NextStep string `json:"next_step"`
	}
	apiAction struct {
		By string    `json:"by"`
		At time.Time `json:"at"`
	}
	apiAttendance struct {
		By    string    `json:"by"`
		At    time.Time `json:"at"`
		How   string    `json:"how"`
		Where string    `json:"where"`
	}
	apiEscalation struct {
		Reason string    `json:"reason"`
		After  string    `json:"after"`
		At     time.Time `json:"at"`
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
		Records []event.Record `json:"records"`
		Next    string         `json:"next"`
	}
	apiTailPage struct {
		Records []event.Record `json:"records"`
		Next    uint64         `json:"next"`
	}
	// apiRollout is the site's firmware rollout in GET /api/v1/site: where
	// it has got to. The bundle's digest, size and holder are site IT's
	// business (GET /api/v1/firmware), not the screens'.
	apiRollout struct {
		Build   uint64   `json:"build"`
		Display string   `json:"display,omitempty"`
		Order   []string `json:"order"`
		Done    []string `json:"done"`
		Next    string   `json:"next,omitempty"` // the wing installing it now; empty when it finished or stopped
		Stopped string   `json:"stopped,omitempty"`
	}
	apiActionRequest struct {
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
		Reason  string `json:"reason"`
	}
	apiLockdownRequest struct {
		Active  *bool  `json:"active"`
		Reason  string `json:"reason"`
		Officer string `json:"officer"`
	}
	apiActionResult struct {
		Alarm           event.ID `json:"alarm"`
		Action          string   `json:"action"`
		Officer         string   `json:"officer"`
		OfficerVerified bool     `json:"officer_verified"`
	}
)

func apiRolloutOf(r *firmware.Rollout) *apiRollout {
	if r == nil {
		return nil
	}
	return &apiRollout{Build: r.Build, Display: r.Display, Order: r.Order, Done: r.Done, Next: r.Next(), Stopped: r.Stopped}
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.wing.Recording(); err != nil {
		api.WriteJSON(w, http.StatusServiceUnavailable, apiHealth{Status: "failing", Problem: err.Error(), Wing: s.wing.Layout().ID, Version: s.opt.Version})
		return
	}
	api.WriteJSON(w, http.StatusOK, apiHealth{Status: "ok", Wing: s.wing.Layout().ID, Version: s.opt.Version})
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
		ad := apiDoor{
			ID: d.ID, Name: cmp.Or(d.Name, d.ID), Kind: string(d.Kind), Landing: d.Landing,
			State: state, Since: at, Fault: fault,
		}
		ad.Lock, ad.LockSince, ad.LockFault = v.lockStatus(d)
		if a, ok := v.state.ActiveAlarmOn(d.ID); ok && a.PointKind == wing.DoorForced {
			ad.Forced = true
		}
		out.Doors = append(out.Doors, ad)
	}
	for _, a := range v.ownAlarms() {
		al := apiAlarm{
			ID: a.ID, Wing: a.ID.Wing, Seq: a.ID.Seq, Point: a.Point, Name: v.pointName(a), PointKind: a.PointKind,
			Priority: a.Priority, RaisedAt: a.RaisedAt, Escalations: []apiEscalation{}, NextStep: v.card(a).Step,
		}
		if a.Acknowledged != nil {
			al.Acknowledged = &apiAction{By: a.Acknowledged.By, At: a.Acknowledged.At}
		}
		if at := a.Attended; at != nil {
			al.Attended = &apiAttendance{By: at.By, At: at.At, How: at.How, Where: at.Where}
		}
		for _, e := range a.Escalations {
			al.Escalations = append(al.Escalations, apiEscalation{Reason: e.Reason, After: e.After, At: e.At})
		}
		out.ActiveAlarms = append(out.ActiveAlarms, al)
	}
	inputs := map[string]bool{}
	for _, g := range v.inputGroups() {
		for _, in := range g.Inputs {
			inputs[in.ID] = true
		}
	}
	for _, sn := range v.layout.Sensors {
		inputs[sn.ID] = true
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
	out.Climate = v.apiClimate()
	if wt, ok := v.walkTest(); ok {
		out.WalkTest = apiWalkTest{Running: true, By: wt.By, Since: wt.Since, Until: wt.Until, Landing: wt.Landing, Points: wt.Points}
	}
	out.Proof = v.apiProof()
	out.Regime = v.apiRegimeOf()
	api.WriteJSON(w, http.StatusOK, out)
}

// apiClimate is every environment sensor with its latest reading and its
// active conditions, in configuration order.
func (v view) apiClimate() []apiSensor {
	out := []apiSensor{}
	for _, sn := range v.layout.Sensors {
		as := apiSensor{Sensor: sn.ID, Name: cmp.Or(sn.Name, sn.ID), Landing: sn.Landing, Cell: sn.Cell, Conditions: []apiCondition{}}
		if r, ok := v.climate[sn.ID]; ok && !r.At.IsZero() {
			as.Reading = &apiReading{TemperatureC: r.TemperatureC, HumidityPct: r.HumidityPct, At: r.At}
		}
		if in, ok := v.state.Inputs[sn.ID]; ok && in.Faulted {
			as.Fault = cmp.Or(in.Fault, "fault")
		}
		for _, c := range v.state.Conditions {
			if c.Sensor == sn.ID && c.Active {
				as.Conditions = append(as.Conditions, apiCondition{Condition: c.Condition, Value: c.Value, Since: c.Since})
			}
		}
		slices.SortFunc(as.Conditions, func(a, b apiCondition) int { return strings.Compare(a.Condition, b.Condition) })
		out = append(out, as)
	}
	return out
}

// apiProof is when each input was last proven, in the walk test page's order.
func (v view) apiProof() apiProof {
	out := apiProof{ProveEveryS: int64(v.proveEvery() / time.Second), Inputs: []apiProofInput{}}
	for _, g := range v.inputGroups() {
		for _, in := range g.Inputs {
			status, p := v.proof(in.ID)
			pi := apiProofInput{Input: in.ID, Kind: in.Kind, Landing: in.Landing, Status: status}
			switch status {
			case proofOverdue:
				out.Overdue++
			case proofNever:
				out.Never++
			}
			if status != proofNever {
				pi.ProvenAt, pi.ProvenBy = p.At, p.By
			}
			out.Inputs = append(out.Inputs, pi)
		}
	}
	return out
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

// apiQuery turns the parameters of GET /api/v1/events into a query.
func apiQuery(q url.Values) (event.Query, error) {
	sq := event.Query{Subject: q.Get("subject"), Wing: q.Get("wing"), Cursor: q.Get("cursor")}
	for _, k := range q["kind"] {
		kind, err := event.ParseKind(k)
		if err != nil {
			return sq, fmt.Errorf("kind: %q is not a kind of event; use one of %v", k, event.Kinds())
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
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	page, err := s.wing.Query(r.Context(), q)
	if errors.Is(err, event.ErrBadCursor) {
		api.WriteError(w, http.StatusBadRequest, "cursor: not a cursor of this query; start again without it.")
		return
	}
	if err != nil {
		s.logError(r.Context(), "api query events", err, "query", r.URL.RawQuery)
		api.WriteError(w, http.StatusInternalServerError, "The event log could not be read. Try again; if a cursor was given, start again without it.")
		return
	}
	api.WriteJSON(w, http.StatusOK, apiEventPage{Records: nonNil(page.Records), Next: page.Next})
}

func (s *Server) apiTail(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after uint64
	if v := q.Get("after"); v != "" {
		var err error
		if after, err = strconv.ParseUint(v, 10, 64); err != nil {
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("after: %q is not a store position; pass 0 to start, then the next of each answer.", v))
			return
		}
	}
	limit, err := parseLimit(q)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	recs, err := s.wing.Tail(r.Context(), after, limit)
	if err != nil {
		s.logError(r.Context(), "api tail events", err, "after", after)
		api.WriteError(w, http.StatusInternalServerError, "The event log could not be read. Try again with the same after.")
		return
	}
	next := after
	if len(recs) > 0 {
		next = recs[len(recs)-1].Pos
	}
	api.WriteJSON(w, http.StatusOK, apiTailPage{Records: nonNil(recs), Next: next})
}

// apiAlarmAction takes an officer's step on an alarm for another system
// (behind needs): acknowledge, attend, resolve (with an outcome and an
// optional note) or close remotely (a supervisor, with a reason). As on
// the screen, the actor is the signed-in officer.
func (s *Server) apiAlarmAction(action alarmActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		id, err := alarmID(r)
		if err != nil {
			api.WriteError(w, http.StatusBadRequest, "seq: the alarm's seq must be a whole number from 1 up (the alarm id is wing/seq).")
			return
		}
		var req apiActionRequest
		if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxActionBody, Optional: true}); err != nil {
			api.RefuseBody(w, err, "Send nothing to acknowledge or attend, {\"outcome\": \"...\", \"note\": \"...\"} to resolve, {\"reason\": \"...\"} to close remotely; the officer is the one signed in, never sent.")
			return
		}
		switch {
		case req.Note != "" && action != actionResolve:
			api.WriteError(w, http.StatusBadRequest, "note: only resolving an alarm takes a note.")
			return
		case req.Outcome != "" && action != actionResolve:
			api.WriteError(w, http.StatusBadRequest, "outcome: only resolving an alarm takes an outcome.")
			return
		case req.Reason != "" && action != actionCloseRemotely:
			api.WriteError(w, http.StatusBadRequest, "reason: only closing an alarm remotely takes a reason.")
			return
		case action == actionResolve && !slices.Contains(s.wing.Layout().Outcomes, req.Outcome):
			api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("outcome: send one of the wing's outcomes (%s), not %q.", strings.Join(s.wing.Layout().Outcomes, ", "), req.Outcome))
			return
		case action == actionCloseRemotely && strings.TrimSpace(req.Reason) == "":
			api.WriteError(w, http.StatusBadRequest, "reason: a remote close is an exception: say why.")
			return
		}
		text := req.Note
		if action == actionCloseRemotely {
			text = strings.TrimSpace(req.Reason)
		}
		if err := event.CheckText(map[bool]string{true: "reason", false: "note"}[action == actionCloseRemotely], text); err != nil {
			api.WriteError(w, http.StatusBadRequest, map[bool]string{true: "reason: ", false: "note: "}[action == actionCloseRemotely]+err.Error()+".")
			return
		}
		if err := s.act(r.Context(), officer, action, id, req.Outcome, text); err != nil {
			status, sentence := actionProblem(id, err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "api alarm "+string(action), err, "alarm", id)
			}
			api.WriteError(w, status, sentence)
			return
		}
		api.WriteJSON(w, http.StatusOK, apiActionResult{Alarm: id, Action: string(action), Officer: officer.ID, OfficerVerified: true})
	}
}

// apiWalkTest starts or ends the wing's walk test for another system
// (behind needs). As on the screen, the actor is the signed-in officer.
func (s *Server) apiWalkTest(start bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		var req apiWalkTestRequest
		if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxActionBody, Optional: true}); err != nil {
			api.RefuseBody(w, err, "Send nothing, or {\"minutes\": 30} to start, with \"landing\": \"2\" or \"points\": [\"A2-03\", ...] to test only those; the officer is the one signed in, never sent.")
			return
		}
		result := apiWalkTestResult{Action: "end", Officer: officer.ID, OfficerVerified: true}
		var err error
		if start {
			minutes := cmp.Or(req.Minutes, defaultWalkTestMinutes)
			if minutes < 1 || minutes > int(wing.MaxWalkTest/time.Minute) {
				api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("minutes: %d is not a whole number of minutes from 1 to %d.", req.Minutes, int(wing.MaxWalkTest/time.Minute)))
				return
			}
			if req.Landing != "" && len(req.Points) > 0 {
				api.WriteError(w, http.StatusBadRequest, "landing, points: send a landing or a list of points, not both.")
				return
			}
			result.Action, result.Minutes, result.Landing, result.Points = "start", minutes, req.Landing, req.Points
			err = s.wing.StartWalkTest(r.Context(), officer, time.Duration(minutes)*time.Minute, wing.WalkTestPoints{Landing: req.Landing, Points: req.Points})
		} else {
			if req.Minutes != 0 || req.Landing != "" || len(req.Points) > 0 {
				api.WriteError(w, http.StatusBadRequest, "minutes, landing, points: only starting a walk test takes them; send nothing to end it.")
				return
			}
			err = s.wing.EndWalkTest(r.Context(), officer)
		}
		if err != nil {
			_, text := walkTestProblem(start, err)
			if !errors.Is(err, ErrBadInput) {
				s.logError(r.Context(), "api "+walkTestWhat(start), err)
			}
			api.WriteError(w, walkTestStatus(err), text)
			return
		}
		api.WriteJSON(w, http.StatusOK, result)
	}
}

// apiSite answers with this wing's view of its site: Wing.Site as it is.
func (s *Server) apiSite(w http.ResponseWriter, r *http.Request) {
	st := s.wing.Site()
	st.Wings = nonNil(st.Wings)
	api.WriteJSON(w, http.StatusOK, st)
}

// apiLockdown declares or ends the site lockdown for another system
// (behind needs). As on the screen, the actor is the signed-in officer: a
// different officer in the body is refused rather than recorded.
func (s *Server) apiLockdown(w http.ResponseWriter, r *http.Request) {
	officer, _ := s.actor(r)
	var req apiLockdownRequest
	if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxActionBody}); err != nil {
		api.RefuseBody(w, err, "Send {\"active\": true, \"reason\": \"...\"} to declare a site lockdown, or {\"active\": false} to end it.")
		return
	}
	if req.Active == nil {
		api.WriteError(w, http.StatusBadRequest, "active: send true to declare a site lockdown or false to end it.")
		return
	}
	if req.Officer != "" && req.Officer != officer.ID {
		api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("officer: the lockdown is recorded as the signed-in officer, %s; leave officer out or send that.", officer.ID))
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if err := checkNote(reason); err != nil {
		api.WriteError(w, http.StatusBadRequest, "reason: "+strings.Replace(err.Error(), "note", "reason", 1)+".")
		return
	}
	if err := s.setLockdown(r.Context(), officer, *req.Active, reason); err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, lockdownProblem(*req.Active, err))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
