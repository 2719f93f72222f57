package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/event"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// The shift's JSON API: checks, plans, the roll, counts, handovers,
// corrections, timelines and figures. docs/openapi.yaml describes each;
// keep the two in step. Durations are seconds (_s).

type (
	apiStruck struct {
		Correction event.ID  `json:"correction"`
		By         string    `json:"by"`
		At         time.Time `json:"at"`
		Reason     string    `json:"reason"`
	}
	apiCheck struct {
		ID               event.ID          `json:"id"`
		Cell             string            `json:"cell"`
		By               string            `json:"by"`
		At               time.Time         `json:"at"`
		Outcome          wing.CheckOutcome `json:"outcome"`
		How              string            `json:"how"`
		PresenceAt       time.Time         `json:"presence_at,omitzero"`
		Note             string            `json:"note,omitempty"`
		Screen           string            `json:"screen,omitempty"`
		Regime           wing.Regime       `json:"regime,omitempty"`
		Due              time.Time         `json:"due,omitzero"`
		Late             bool              `json:"late"`
		NextDue          time.Time         `json:"next_due,omitzero"`
		NextConversation bool              `json:"next_conversation,omitempty"`
		Flags            []string          `json:"flags"`
		TookS            float64           `json:"took_s,omitempty"`
		NeedsS           float64           `json:"needs_s,omitempty"`
		Struck           *apiStruck        `json:"struck,omitempty"`
	}
	apiPlan struct {
		Cell                string    `json:"cell"`
		DayPerHour          float64   `json:"day_per_hour"`
		NightPerHour        float64   `json:"night_per_hour"`
		ConversationsPerDay int       `json:"conversations_per_day"`
		MaxGapS             float64   `json:"max_gap_s"`
		By                  string    `json:"by"`
		Since               time.Time `json:"since"`
		Note                string    `json:"note,omitempty"`
	}
	apiDue struct {
		Cell         string    `json:"cell"`
		Due          time.Time `json:"due"`
		Overdue      bool      `json:"overdue"`
		Conversation bool      `json:"conversation"`
		Plan         apiPlan   `json:"plan"`
		Last         *apiCheck `json:"last,omitempty"`
	}
	apiPresence struct {
		Cell string    `json:"cell"`
		At   time.Time `json:"at"`
	}
	apiChecks struct {
		Wing      string        `json:"wing"`
		Night     bool          `json:"night"`
		Due       []apiDue      `json:"due"`
		Presences []apiPresence `json:"presences"`
	}
	apiCellChecks struct {
		Cell     string       `json:"cell"`
		Plan     *apiPlan     `json:"plan,omitempty"`
		Due      *apiDue      `json:"due,omitempty"`
		Presence *apiPresence `json:"presence,omitempty"`
		History  []apiCheck   `json:"history"`
	}
	apiCheckRequest struct {
		Cell    string `json:"cell"`
		Outcome string `json:"outcome"`
		Note    string `json:"note"`
		Screen  string `json:"screen"`
		AtDoor  bool   `json:"at_door"`
	}
	apiPlanRequest struct {
		DayPerHour          *float64 `json:"day_per_hour"`
		NightPerHour        *float64 `json:"night_per_hour"`
		ConversationsPerDay *int     `json:"conversations_per_day"`
		MaxGapMinutes       *float64 `json:"max_gap_minutes"`
		Note                string   `json:"note"`
	}
	apiReasonRequest struct {
		Reason string `json:"reason"`
	}
	apiExpected struct {
		Cell      string    `json:"cell"`
		Landing   string    `json:"landing"`
		Occupants int       `json:"occupants"`
		Out       int       `json:"out"`
		Reason    string    `json:"reason,omitempty"`
		By        string    `json:"by"`
		Since     time.Time `json:"since"`
	}
	apiCount struct {
		ID          event.ID   `json:"id"`
		Landing     string     `json:"landing"`
		Counted     int        `json:"counted"`
		Expected    int        `json:"expected"`
		Discrepancy int        `json:"discrepancy"`
		OpenDoors   int        `json:"open_doors"`
		OpenCells   []string   `json:"open_cells"`
		By          string     `json:"by"`
		At          time.Time  `json:"at"`
		Struck      *apiStruck `json:"struck,omitempty"`
	}
	apiRollSign struct {
		ID       event.ID   `json:"id"`
		Wing     string     `json:"wing"`
		By       string     `json:"by"`
		At       time.Time  `json:"at"`
		Counted  int        `json:"counted"`
		Expected int        `json:"expected"`
		Counts   []event.ID `json:"counts"`
		Struck   *apiStruck `json:"struck,omitempty"`
	}
	apiLandingRoll struct {
		Landing    string    `json:"landing"`
		Cells      int       `json:"cells"`
		Expected   int       `json:"expected"`
		Empty      int       `json:"empty"`
		Unset      int       `json:"unset"`
		LastCount  *apiCount `json:"last_count,omitempty"`
		Reconciled bool      `json:"reconciled"`
		OpenNow    []string  `json:"open_now"`
	}
	apiWingRoll struct {
		Wing    string       `json:"wing"`
		Correct bool         `json:"correct"`
		Signed  *apiRollSign `json:"signed,omitempty"`
	}
	apiRoll struct {
		Wing     string           `json:"wing"`
		Correct  bool             `json:"correct"`
		Signed   *apiRollSign     `json:"signed,omitempty"`
		Problems []string         `json:"problems"`
		Landings []apiLandingRoll `json:"landings"`
		Cells    []apiExpected    `json:"cells"`
		Wings    []apiWingRoll    `json:"wings"`
	}
	apiCellRoll struct {
		Occupants *int   `json:"occupants"`
		Out       int    `json:"out"`
		Reason    string `json:"reason"`
	}
	apiExpectedRequest struct {
		Cells map[string]apiCellRoll `json:"cells"`
	}
	apiCountRequest struct {
		Landing string `json:"landing"`
		Counted *int   `json:"counted"`
	}
	apiStep struct {
		By     string    `json:"by"`
		At     time.Time `json:"at"`
		AfterS float64   `json:"after_s"`
		How    string    `json:"how,omitempty"`
		Where  string    `json:"where,omitempty"`
	}
	apiAlarmItem struct {
		ID           event.ID  `json:"id"`
		Point        string    `json:"point"`
		PointKind    string    `json:"point_kind"`
		Priority     int       `json:"priority"`
		Raised       time.Time `json:"raised"`
		Acknowledged *apiStep  `json:"acknowledged,omitempty"`
		Attended     *apiStep  `json:"attended,omitempty"`
		Resolved     *apiStep  `json:"resolved,omitempty"`
		Outcome      string    `json:"outcome,omitempty"`
		Note         string    `json:"note,omitempty"`
		Remote       bool      `json:"remote"`
		Reason       string    `json:"reason,omitempty"`
		Escalations  []string  `json:"escalations"`
	}
	apiResponse struct {
		Done         int     `json:"done"`
		MedianS      float64 `json:"median_s"`
		WorstS       float64 `json:"worst_s"`
		Waiting      int     `json:"waiting"`
		WorstWaiting bool    `json:"worst_waiting"`
	}
	apiFigures struct {
		Wing            string      `json:"wing"`
		From            time.Time   `json:"from"`
		To              time.Time   `json:"to"`
		Alarms          int         `json:"alarms"`
		Acknowledge     apiResponse `json:"acknowledge"`
		Attend          apiResponse `json:"attend"`
		CellCalls       int         `json:"cell_calls"`
		CellCallsInTime int         `json:"cell_calls_in_time"`
		InTimeShare     float64     `json:"in_time_share"`
		RemoteCloses    int         `json:"remote_closes"`
		OverdueChecks   int         `json:"overdue_checks"`
		LateChecks      int         `json:"late_checks"`
	}
	apiMissed struct {
		Cell    string    `json:"cell"`
		Due     time.Time `json:"due"`
		Alarm   event.ID  `json:"alarm"`
		Checked time.Time `json:"checked,omitzero"`
	}
	apiDraftChecks struct {
		Done    int         `json:"done"`
		AtDoor  int         `json:"at_door"`
		Records []apiCheck  `json:"records"`
		Late    []apiCheck  `json:"late"`
		Flagged []apiCheck  `json:"flagged"`
		Missed  []apiMissed `json:"missed"`
	}
	apiWalkTestItem struct {
		Started time.Time `json:"started"`
		By      string    `json:"by"`
		Until   time.Time `json:"until"`
		Ended   time.Time `json:"ended,omitzero"`
		Landing string    `json:"landing,omitempty"`
		Points  []string  `json:"points"`
		Proven  int       `json:"proven"`
	}
	apiFault struct {
		Input  string    `json:"input"`
		Fault  string    `json:"fault"`
		Detail string    `json:"detail,omitempty"`
		Since  time.Time `json:"since"`
	}
	apiOpenItem struct {
		What    string    `json:"what"`
		Subject string    `json:"subject"`
		Detail  string    `json:"detail"`
		Since   time.Time `json:"since"`
		Owner   string    `json:"owner"`
		Ref     *event.ID `json:"ref,omitempty"`
	}
	apiCorrection struct {
		Struck apiStruck   `json:"struck"`
		Record event.Event `json:"record"`
	}
	apiDraft struct {
		Wing          string            `json:"wing"`
		From          time.Time         `json:"from"`
		To            time.Time         `json:"to"`
		Digest        string            `json:"digest"`
		Alarms        []apiAlarmItem    `json:"alarms"`
		DoorAnomalies []apiAlarmItem    `json:"door_anomalies"`
		Checks        apiDraftChecks    `json:"checks"`
		Counts        []apiCount        `json:"counts"`
		Rolls         []apiRollSign     `json:"rolls"`
		WalkTests     []apiWalkTestItem `json:"walk_tests"`
		Faults        []apiFault        `json:"faults"`
		OpenItems     []apiOpenItem     `json:"open_items"`
		Corrections   []apiCorrection   `json:"corrections"`
		Figures       apiFigures        `json:"figures"`
	}
	apiHandoverRead struct {
		ID     event.ID   `json:"id"`
		By     string     `json:"by"`
		At     time.Time  `json:"at"`
		Struck *apiStruck `json:"struck,omitempty"`
	}
	apiHandover struct {
		ID        event.ID          `json:"id"`
		Wing      string            `json:"wing"`
		By        string            `json:"by"`
		At        time.Time         `json:"at"`
		From      time.Time         `json:"from"`
		To        time.Time         `json:"to"`
		Notes     string            `json:"notes,omitempty"`
		Digest    string            `json:"digest"`
		OpenItems int               `json:"open_items"`
		Reads     []apiHandoverRead `json:"reads"`
		Struck    *apiStruck        `json:"struck,omitempty"`
	}
	apiHandoverRequest struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
		Digest string    `json:"digest"`
		Notes  string    `json:"notes"`
	}
	apiSigned struct {
		ID event.ID `json:"id"`
	}
	apiTimelineEntry struct {
		Event  event.Event   `json:"event"`
		Struck *apiStruck    `json:"struck,omitempty"`
		Alarm  *apiAlarmItem `json:"alarm,omitempty"`
	}
	apiTimeline struct {
		From    time.Time          `json:"from"`
		To      time.Time          `json:"to"`
		Place   string             `json:"place"`
		Alarm   *apiAlarmItem      `json:"alarm,omitempty"`
		Entries []apiTimelineEntry `json:"entries"`
	}
)

func seconds(d time.Duration) float64 { return d.Seconds() }

func apiStruckOf(c *wing.Correction) *apiStruck {
	if c == nil {
		return nil
	}
	return &apiStruck{Correction: c.ID, By: c.By, At: c.At, Reason: c.Reason}
}

func (v view) struck(id event.ID) *wing.Correction {
	if c, ok := v.state.Struck[id]; ok {
		return &c
	}
	return nil
}

func apiCheckOf(c wing.Check, struck *wing.Correction) apiCheck {
	return apiCheck{ID: c.ID, Cell: c.Cell, By: c.By, At: c.At, Outcome: c.Outcome, How: c.How, PresenceAt: c.PresenceAt, Note: c.Note,
		Screen: c.Screen, Regime: c.Regime, Due: c.Due, Late: c.Late, NextDue: c.Next.At, NextConversation: c.Next.Conversation,
		Flags: nonNil(c.Flags), TookS: seconds(c.Took), NeedsS: seconds(c.Needs), Struck: apiStruckOf(struck)}
}

func apiPlanOf(cell string, p wing.PlanRecord) apiPlan {
	return apiPlan{Cell: cell, DayPerHour: p.DayPerHour, NightPerHour: p.NightPerHour, ConversationsPerDay: p.ConversationsPerDay,
		MaxGapS: seconds(p.MaxGap), By: p.By, Since: p.Since, Note: p.Note}
}

func (v view) apiDueOf(c wing.CheckDue) apiDue {
	d := apiDue{Cell: c.Cell, Due: c.At, Overdue: c.Overdue, Conversation: c.Conversation, Plan: apiPlanOf(c.Cell, c.Plan)}
	if c.Last != nil {
		last := apiCheckOf(*c.Last, v.struck(c.Last.ID))
		d.Last = &last
	}
	return d
}

func apiCountOf(c wing.Count, struck *wing.Correction) apiCount {
	return apiCount{ID: c.ID, Landing: c.Landing, Counted: c.Counted, Expected: c.Expected, Discrepancy: c.Discrepancy(),
		OpenDoors: c.OpenDoors, OpenCells: nonNil(c.OpenCells), By: c.By, At: c.At, Struck: apiStruckOf(struck)}
}

func apiRollSignOf(r wing.RollSign, struck *wing.Correction) *apiRollSign {
	return &apiRollSign{ID: r.ID, Wing: r.Wing, By: r.By, At: r.At, Counted: r.Counted, Expected: r.Expected, Counts: nonNil(r.Counts), Struck: apiStruckOf(struck)}
}

func apiStepOf(s *shift.Step) *apiStep {
	if s == nil {
		return nil
	}
	return &apiStep{By: s.By, At: s.At, AfterS: seconds(s.After), How: s.How, Where: s.Where}
}

func apiAlarmItemOf(a shift.AlarmItem) apiAlarmItem {
	return apiAlarmItem{ID: a.ID, Point: a.Point, PointKind: a.PointKind, Priority: a.Priority, Raised: a.Raised,
		Acknowledged: apiStepOf(a.Acknowledged), Attended: apiStepOf(a.Attended), Resolved: apiStepOf(a.Resolved),
		Outcome: a.Outcome, Note: a.Note, Remote: a.Remote, Reason: a.Reason, Escalations: nonNil(a.Escalations)}
}

func apiAlarmItems(items []shift.AlarmItem) []apiAlarmItem {
	out := []apiAlarmItem{}
	for _, a := range items {
		out = append(out, apiAlarmItemOf(a))
	}
	return out
}

func apiResponseOf(r shift.Response) apiResponse {
	return apiResponse{Done: r.Done, MedianS: seconds(r.Median), WorstS: seconds(r.Worst), Waiting: r.Waiting, WorstWaiting: r.WorstWaiting}
}

func apiFiguresOf(f shift.Figures) apiFigures {
	return apiFigures{Wing: f.Wing, From: f.From, To: f.To, Alarms: f.Alarms, Acknowledge: apiResponseOf(f.Acknowledge), Attend: apiResponseOf(f.Attend),
		CellCalls: f.CellCalls, CellCallsInTime: f.CellCallsInTime, InTimeShare: f.InTimeShare, RemoteCloses: f.RemoteCloses,
		OverdueChecks: f.OverdueChecks, LateChecks: f.LateChecks}
}

func apiCheckItems(items []shift.CheckItem) []apiCheck {
	out := []apiCheck{}
	for _, c := range items {
		out = append(out, apiCheckOf(c.Check, c.Struck))
	}
	return out
}

func apiDraftOf(d shift.Draft) apiDraft {
	out := apiDraft{Wing: d.Wing, From: d.From, To: d.To, Digest: d.Digest, Alarms: apiAlarmItems(d.Alarms), DoorAnomalies: apiAlarmItems(d.DoorAnomalies),
		Checks: apiDraftChecks{Done: d.Checks.Done, AtDoor: d.Checks.AtDoor, Records: apiCheckItems(d.Checks.Records), Late: apiCheckItems(d.Checks.Late),
			Flagged: apiCheckItems(d.Checks.Flagged), Missed: []apiMissed{}},
		Counts: []apiCount{}, Rolls: []apiRollSign{}, WalkTests: []apiWalkTestItem{}, Faults: []apiFault{}, OpenItems: []apiOpenItem{},
		Corrections: []apiCorrection{}, Figures: apiFiguresOf(d.Figures)}
	for _, m := range d.Checks.Missed {
		out.Checks.Missed = append(out.Checks.Missed, apiMissed{Cell: m.Cell, Due: m.Due, Alarm: m.Alarm, Checked: m.Checked})
	}
	for _, c := range d.Counts {
		out.Counts = append(out.Counts, apiCountOf(c.Count, c.Struck))
	}
	for _, r := range d.Rolls {
		out.Rolls = append(out.Rolls, *apiRollSignOf(r.RollSign, r.Struck))
	}
	for _, w := range d.WalkTests {
		out.WalkTests = append(out.WalkTests, apiWalkTestItem{Started: w.Started, By: w.By, Until: w.Until, Ended: w.Ended, Landing: w.Landing,
			Points: nonNil(w.Points), Proven: w.Proven})
	}
	for _, f := range d.Faults {
		out.Faults = append(out.Faults, apiFault{Input: f.Input, Fault: f.Fault, Detail: f.Detail, Since: f.Since})
	}
	for _, it := range d.OpenItems {
		o := apiOpenItem{What: it.What, Subject: it.Subject, Detail: it.Detail, Since: it.Since, Owner: it.Owner}
		if it.Ref != (event.ID{}) {
			ref := it.Ref
			o.Ref = &ref
		}
		out.OpenItems = append(out.OpenItems, o)
	}
	for _, c := range d.Corrections {
		out.Corrections = append(out.Corrections, apiCorrection{Struck: *apiStruckOf(&c.Correction), Record: c.Record})
	}
	return out
}

// decodeBody reads a shift action's JSON body into req with api.ReadJSON
// (an empty body is allowed when optional), answering a refusal with what
// to send, example.
func decodeBody(w http.ResponseWriter, r *http.Request, req any, optional bool, example string) bool {
	if err := api.ReadJSON(w, r, req, api.Body{Limit: maxShiftBody, Optional: optional}); err != nil {
		api.RefuseBody(w, err, "Send "+example+"; the officer is the one signed in, never sent.")
		return false
	}
	return true
}

// maxShiftBody bounds a shift action's JSON body: the largest is the
// expected roll's, a line for each cell.
const maxShiftBody = 64 << 10

// apiShiftError writes a shift action's refusal.
func (s *Server) apiShiftError(w http.ResponseWriter, r *http.Request, what string, err error) {
	status, sentence := shiftProblem(err)
	if status == http.StatusInternalServerError {
		s.logError(r.Context(), "api "+what, err)
	}
	api.WriteError(w, status, sentence)
}

// apiChecks is GET /api/v1/checks: the checks due on this wing and the
// presences at cell doors waiting for their outcome.
func (s *Server) apiChecks(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	out := apiChecks{Wing: v.layout.ID, Night: v.night(), Due: []apiDue{}, Presences: []apiPresence{}}
	for _, c := range v.state.ChecksDue(v.layout.ID, v.now) {
		out.Due = append(out.Due, v.apiDueOf(c))
	}
	for _, p := range v.presences() {
		out.Presences = append(out.Presences, apiPresence{Cell: p.Cell, At: p.At.At})
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// apiCell reads the {cell} path segment for the API.
func (s *Server) apiCell(w http.ResponseWriter, r *http.Request) (string, bool) {
	cell := r.PathValue("cell")
	if d, ok := s.wing.Layout().Door(cell); ok && isCell(d.Kind) {
		return cell, true
	}
	api.WriteError(w, http.StatusNotFound, fmt.Sprintf("cell: this wing has no cell %q.", cell))
	return "", false
}

// apiCellChecks is GET /api/v1/checks/{cell}: the cell's plan, next
// check and check history (limit, default 100).
func (s *Server) apiCellChecks(w http.ResponseWriter, r *http.Request) {
	cell, ok := s.apiCell(w, r)
	if !ok {
		return
	}
	limit, err := parseLimit(r.URL.Query())
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	v := s.view()
	out := apiCellChecks{Cell: cell}
	if p := v.state.Observations[cell].Plan; p != nil {
		plan := apiPlanOf(cell, *p)
		out.Plan = &plan
	}
	for _, c := range v.state.ChecksDue(v.layout.ID, v.now) {
		if c.Cell == cell {
			d := v.apiDueOf(c)
			out.Due = &d
		}
	}
	if p, ok := v.state.PendingPresence(cell, v.now); ok {
		out.Presence = &apiPresence{Cell: cell, At: p.At}
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	hist, err := s.wing.CheckHistory(ctx, cell, limit)
	if err != nil {
		s.logError(r.Context(), "api check history", err, "cell", cell)
		api.WriteError(w, http.StatusInternalServerError, "The cell's check history could not be read. Try again.")
		return
	}
	out.History = apiCheckItems(hist)
	api.WriteJSON(w, http.StatusOK, out)
}

// apiRecordCheck is POST /api/v1/checks (behind needs).
func (s *Server) apiRecordCheck(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	var req apiCheckRequest
	if !decodeBody(w, r, &req, false, `{"cell": "A1-07", "outcome": "spoke", "note": "..."}`) {
		return
	}
	outcome, err := wing.ParseCheckOutcome(req.Outcome)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "outcome: "+err.Error()+".")
		return
	}
	if err := checkNote(req.Note); err != nil {
		api.WriteError(w, http.StatusBadRequest, "note: "+err.Error()+".")
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	c, err := s.wing.RecordCheck(ctx, by, wing.CheckEntry{Cell: req.Cell, Outcome: outcome, Note: req.Note, Screen: req.Screen, AtDoor: req.AtDoor})
	if err != nil {
		if c.ID != (event.ID{}) {
			s.logError(r.Context(), "api check alarm", err)
			api.WriteError(w, http.StatusInternalServerError, "The check "+c.ID.String()+" is recorded, but its no-response alarm could not be raised: raise the alarm by hand now.")
			return
		}
		s.apiShiftError(w, r, "record check", err)
		return
	}
	api.WriteJSON(w, http.StatusOK, apiCheckOf(c, nil))
}

// apiPlans is GET /api/v1/plans: this wing's cells on observation plans.
func (s *Server) apiPlans(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	out := []apiPlan{}
	for _, d := range v.layout.Cells("") {
		if p := v.state.Observations[d.ID].Plan; p != nil {
			out = append(out, apiPlanOf(d.ID, *p))
		}
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// apiSetPlan is POST /api/v1/plans/{cell} (behind needs, a supervisor).
func (s *Server) apiSetPlan(w http.ResponseWriter, r *http.Request) {
	cell, ok := s.apiCell(w, r)
	if !ok {
		return
	}
	by, _ := s.actor(r)
	var req apiPlanRequest
	const example = `{"day_per_hour": 2, "night_per_hour": 4, "conversations_per_day": 3, "max_gap_minutes": 30}`
	if !decodeBody(w, r, &req, false, example) {
		return
	}
	if req.DayPerHour == nil || req.NightPerHour == nil || req.ConversationsPerDay == nil || req.MaxGapMinutes == nil {
		api.WriteError(w, http.StatusBadRequest, "body: a plan needs day_per_hour, night_per_hour, conversations_per_day and max_gap_minutes: "+example+".")
		return
	}
	plan := wing.Plan{DayPerHour: *req.DayPerHour, NightPerHour: *req.NightPerHour, ConversationsPerDay: *req.ConversationsPerDay,
		MaxGap: time.Duration(*req.MaxGapMinutes * float64(time.Minute))}
	if err := plan.Validate(); err != nil {
		api.WriteError(w, http.StatusBadRequest, "plan: "+strings.TrimPrefix(err.Error(), wing.ErrBadPlan.Error()+": ")+".")
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.SetPlan(ctx, by, cell, plan, strings.TrimSpace(req.Note)); err != nil {
		s.apiShiftError(w, r, "set plan", err)
		return
	}
	v := s.view()
	p := v.state.Observations[cell].Plan
	if p == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	out := apiCellChecks{Cell: cell, History: []apiCheck{}}
	plan2 := apiPlanOf(cell, *p)
	out.Plan = &plan2
	for _, c := range v.state.ChecksDue(v.layout.ID, v.now) {
		if c.Cell == cell {
			d := v.apiDueOf(c)
			out.Due = &d
		}
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// apiEndPlan is POST /api/v1/plans/{cell}/end (behind needs, a supervisor).
func (s *Server) apiEndPlan(w http.ResponseWriter, r *http.Request) {
	cell, ok := s.apiCell(w, r)
	if !ok {
		return
	}
	by, _ := s.actor(r)
	var req apiReasonRequest
	if !decodeBody(w, r, &req, true, `nothing, or {"reason": "..."}`) {
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.EndPlan(ctx, by, cell, strings.TrimSpace(req.Reason)); err != nil {
		s.apiShiftError(w, r, "end plan", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiRoll is GET /api/v1/roll: this wing's expected roll, counts and
// signed roll, and every wing's roll as this wing holds it.
func (s *Server) apiRoll(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	st := v.rollStatus()
	out := apiRoll{Wing: v.layout.ID, Correct: st.Correct, Problems: nonNil(st.Problems), Landings: []apiLandingRoll{}, Cells: []apiExpected{}, Wings: []apiWingRoll{}}
	if st.Signed != nil {
		out.Signed = apiRollSignOf(*st.Signed, nil)
	}
	for _, l := range v.landingRolls() {
		al := apiLandingRoll{Landing: l.Landing, Cells: l.Cells, Expected: l.Expected, Empty: l.Empty, Unset: l.Unset, Reconciled: l.Reconcile, OpenNow: nonNil(l.OpenNow)}
		if l.Last != nil {
			c := apiCountOf(*l.Last, nil)
			al.LastCount = &c
		}
		out.Landings = append(out.Landings, al)
	}
	for _, d := range v.layout.Cells("") {
		if e, ok := v.state.Roll[d.ID]; ok {
			out.Cells = append(out.Cells, apiExpected{Cell: d.ID, Landing: d.Landing, Occupants: e.Occupants, Out: e.Out, Reason: e.Reason, By: e.By, Since: e.Since})
		}
	}
	for _, sr := range v.siteRolls() {
		wr := apiWingRoll{Wing: sr.Wing, Correct: sr.Correct}
		if sign, ok := v.state.SignedRoll(sr.Wing); ok {
			wr.Signed = apiRollSignOf(sign, nil)
		}
		out.Wings = append(out.Wings, wr)
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// apiSetExpected is POST /api/v1/roll/expected (behind needs, a supervisor).
func (s *Server) apiSetExpected(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	var req apiExpectedRequest
	const example = `{"cells": {"A1-01": {"occupants": 1}, "A1-02": {"occupants": 2, "out": 1, "reason": "court"}}}`
	if !decodeBody(w, r, &req, false, example) {
		return
	}
	if len(req.Cells) == 0 {
		api.WriteError(w, http.StatusBadRequest, "cells: name at least one cell: "+example+".")
		return
	}
	rolls := map[string]wing.CellRoll{}
	for cell, cr := range req.Cells {
		if cr.Occupants == nil {
			api.WriteError(w, http.StatusBadRequest, "cells: cell "+strconv.Quote(cell)+" needs occupants (0 for an empty cell).")
			return
		}
		rolls[cell] = wing.CellRoll{Occupants: *cr.Occupants, Out: cr.Out, Reason: strings.TrimSpace(cr.Reason)}
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.SetExpectedRoll(ctx, by, rolls); err != nil {
		s.apiShiftError(w, r, "set expected roll", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiCount is POST /api/v1/roll/counts (behind needs).
func (s *Server) apiCount(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	var req apiCountRequest
	if !decodeBody(w, r, &req, false, `{"landing": "1", "counted": 19}`) {
		return
	}
	if req.Counted == nil {
		api.WriteError(w, http.StatusBadRequest, `counted: send the number counted on the landing: {"landing": "1", "counted": 19}.`)
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	c, err := s.wing.CountLanding(ctx, by, req.Landing, *req.Counted)
	if err != nil {
		if c.ID != (event.ID{}) {
			s.logError(r.Context(), "api count alarm", err)
			api.WriteError(w, http.StatusInternalServerError, "The count "+c.ID.String()+" is recorded, but its discrepancy alarm could not be raised: tell the officer in charge now.")
			return
		}
		s.apiShiftError(w, r, "count landing", err)
		return
	}
	api.WriteJSON(w, http.StatusOK, apiCountOf(c, nil))
}

// apiSignRoll is POST /api/v1/roll/sign (behind needs, a supervisor).
func (s *Server) apiSignRoll(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	var req struct{}
	if !decodeBody(w, r, &req, true, "nothing") {
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	sign, err := s.wing.SignRoll(ctx, by)
	if err != nil {
		s.apiShiftError(w, r, "sign roll", err)
		return
	}
	api.WriteJSON(w, http.StatusOK, apiRollSignOf(sign, nil))
}

// apiHandoverDraft is GET /api/v1/handover: the draft of the shift (from,
// to; by default from the latest handover, or the start of the wing's
// day, to now).
func (s *Server) apiHandoverDraft(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	from, to, err := v.figuresRange(r.URL.Query())
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	d, err := s.wing.HandoverDraft(ctx, from, to)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "from: "+refusalSentence(err)+".")
		return
	}
	api.WriteJSON(w, http.StatusOK, apiDraftOf(d))
}

func (v view) apiHandovers() []apiHandover {
	out := []apiHandover{}
	for _, h := range v.handoverRows("") {
		ah := apiHandover{ID: h.ID, Wing: h.Wing, By: h.By, At: h.At, From: h.From, To: h.To, Notes: h.Notes, Digest: h.Digest,
			OpenItems: h.OpenItems, Reads: []apiHandoverRead{}, Struck: apiStruckOf(h.Struck)}
		for _, rd := range h.Reads {
			ah.Reads = append(ah.Reads, apiHandoverRead{ID: rd.ID, By: rd.By, At: rd.At, Struck: apiStruckOf(rd.Struck)})
		}
		out = append(out, ah)
	}
	return out
}

// apiHandovers is GET /api/v1/handovers: this wing's latest signed
// handovers, newest first, struck ones marked.
func (s *Server) apiHandovers(w http.ResponseWriter, r *http.Request) {
	api.WriteJSON(w, http.StatusOK, s.view().apiHandovers())
}

// apiSignHandover is POST /api/v1/handovers (behind needs): the outgoing
// officer signs the draft of from..to whose digest they reviewed.
func (s *Server) apiSignHandover(w http.ResponseWriter, r *http.Request) {
	var req apiHandoverRequest
	if !decodeBody(w, r, &req, false, `{"from": "...", "to": "...", "digest": "the draft's digest", "notes": "..."}`) {
		return
	}
	notes := cleanNotes(req.Notes)
	if err := checkNotes(notes); err != nil {
		api.WriteError(w, http.StatusBadRequest, "notes: "+refusalSentence(err)+".")
		return
	}
	if req.From.IsZero() || req.To.IsZero() || req.Digest == "" {
		api.WriteError(w, http.StatusBadRequest, "body: from, to and digest are the draft's (GET /api/v1/handover).")
		return
	}
	id, _, err := s.signHandover(r, req.From, req.To, req.Digest, notes)
	if err == errDraftChanged {
		api.WriteError(w, http.StatusConflict, "digest: the draft of this shift is no longer the one reviewed: get it again (GET /api/v1/handover), review it and sign its digest.")
		return
	}
	if err != nil {
		s.apiShiftError(w, r, "sign handover", err)
		return
	}
	api.WriteJSON(w, http.StatusOK, apiSigned{ID: id})
}

// apiReadHandover is POST /api/v1/handovers/{wing}/{seq}/read (behind needs).
func (s *Server) apiReadHandover(w http.ResponseWriter, r *http.Request) {
	id, err := recordID(r)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "seq: the handover's seq must be a whole number from 1 up (its id is wing/seq).")
		return
	}
	by, _ := s.actor(r)
	var req struct{}
	if !decodeBody(w, r, &req, true, "nothing") {
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.ReadHandover(ctx, by, id); err != nil {
		s.apiShiftError(w, r, "read handover", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiCorrect is POST /api/v1/records/{wing}/{seq}/correct (behind needs).
func (s *Server) apiCorrect(w http.ResponseWriter, r *http.Request) {
	id, err := recordID(r)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "seq: the record's seq must be a whole number from 1 up (its id is wing/seq).")
		return
	}
	by, _ := s.actor(r)
	var req apiReasonRequest
	if !decodeBody(w, r, &req, false, `{"reason": "recorded in error"}`) {
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" {
		api.WriteError(w, http.StatusBadRequest, "reason: say why the record is struck.")
		return
	}
	if err := checkNote(reason); err != nil {
		api.WriteError(w, http.StatusBadRequest, "reason: "+strings.Replace(err.Error(), "note", "reason", 1)+".")
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.Correct(ctx, by, id, reason); err != nil {
		s.apiShiftError(w, r, "correct record", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiTimeline is GET /api/v1/timeline: the timeline as JSON.
func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	t, _, ok := s.apiTimelineOf(w, r, "api timeline")
	if !ok {
		return
	}
	out := apiTimeline{From: t.From, To: t.To, Place: t.Place, Entries: []apiTimelineEntry{}}
	if t.Alarm != nil {
		a := apiAlarmItemOf(*t.Alarm)
		out.Alarm = &a
	}
	for _, en := range t.Entries {
		e := apiTimelineEntry{Event: en.Event, Struck: apiStruckOf(en.Struck)}
		if en.Alarm != nil {
			a := apiAlarmItemOf(*en.Alarm)
			e.Alarm = &a
		}
		out.Entries = append(out.Entries, e)
	}
	api.WriteJSON(w, http.StatusOK, out)
}

// apiFigures is GET /api/v1/figures: a wing's response figures (wing,
// default this one) for the shift (from, to; default the handover's).
func (s *Server) apiFigures(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	from, to, err := v.figuresRange(r.URL.Query())
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error()+".")
		return
	}
	id := r.URL.Query().Get("wing")
	if id == "" {
		id = v.layout.ID
	}
	if !event.ValidID(id) {
		api.WriteError(w, http.StatusBadRequest, fmt.Sprintf("wing: %q is not a wing id.", id))
		return
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	f, err := s.wing.Figures(ctx, id, from, to)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "from: "+refusalSentence(err)+".")
		return
	}
	api.WriteJSON(w, http.StatusOK, apiFiguresOf(f))
}
