package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// Observation checks on the screen. /checks lists the presences at cell
// doors waiting for their outcome (each with its outcome buttons: one
// tap after the key), the cells on plans with their checks due (overdue
// first, as they fall due), and every cell of the wing; /checks/{cell} is
// one cell: its outcome buttons with an optional note (tap the cell, tap
// the outcome: two taps), its plan (a supervisor sets and ends it) and
// its check history, each check with its plausibility flags and struck
// ones struck through.

func isCell(k config.DoorKind) bool { return k == config.CellDoor }

// dueRow is a cell on an observation plan in the list of checks due.
type dueRow struct {
	Cell, Name   string
	Landing      string
	At           time.Time
	Overdue      bool
	Conversation bool
	Since        since // overdue for, or due in (the browser counts)
	Plan         wing.Plan
	Last         *wing.Check
	Presence     bool // a presence at its door waits for the outcome
}

// dueRows lists this wing's cells on plans, the soonest due first.
func (v view) dueRows() []dueRow {
	var out []dueRow
	for _, c := range v.state.ChecksDue(v.layout.ID, v.now) {
		d, _ := v.layout.Door(c.Cell)
		r := dueRow{Cell: c.Cell, Name: doorName(d.Name, c.Cell), Landing: d.Landing, At: c.At, Overdue: c.Overdue,
			Conversation: c.Conversation, Plan: c.Plan.Plan, Last: c.Last}
		r.Since = dueIn(c.At, v.now)
		if c.Overdue {
			r.Since = sinceOf(c.At, v.now)
		}
		_, r.Presence = v.state.PendingPresence(c.Cell, v.now)
		out = append(out, r)
	}
	return out
}

// checkOutcome is an outcome button of a check.
type checkOutcome struct {
	Outcome wing.CheckOutcome
	Label   string
	Hint    string // why it is not offered, when it is not
	Allowed bool
}

// checkOutcomes are the outcome buttons of a check: at night a check
// needs a sign of life ("seen" is none), and a cell with a reset key
// switch is checked at its door (but no response is never held up).
func checkOutcomes(night, needsDoor bool) []checkOutcome {
	var out []checkOutcome
	for _, o := range wing.CheckOutcomes() {
		c := checkOutcome{Outcome: o, Label: outcomeLabel(o), Allowed: true}
		switch {
		case o == wing.NoResponse:
		case night && !o.IsSignOfLife():
			c.Allowed, c.Hint = false, "not at night: no sign of life"
		case needsDoor:
			c.Allowed, c.Hint = false, "turn the key at the door first"
		}
		if o == wing.NoResponse {
			c.Label = "No response"
		}
		out = append(out, c)
	}
	return out
}

// cellStatus is what a cell's page shows live: when its check is due, the
// presence at its door waiting for the outcome, and the outcome buttons.
type cellStatus struct {
	Cell, Name   string
	OnPlan       bool
	At           time.Time // due
	Overdue      bool
	Conversation bool
	Presence     *presence
	Night        bool
	HasReset     bool
	NeedsDoor    bool // at night, with no presence: only no response may be recorded at the panel
	Choices      []checkOutcome
	Last         *wing.Check
	Note         string // typed before a refusal
}

func (v view) cellStatus(cell string) cellStatus {
	d, _ := v.layout.Door(cell)
	st := cellStatus{Cell: cell, Name: doorName(d.Name, cell), Night: v.night()}
	if due, ok := v.state.NextDue(cell); ok {
		st.OnPlan, st.At, st.Overdue, st.Conversation = true, due.At, due.At.Before(v.now), due.Conversation
	}
	if p, ok := v.state.PendingPresence(cell, v.now); ok {
		st.Presence = &presence{Cell: cell, Name: st.Name, At: sinceOf(p.At, v.now), When: clockSeconds(p.At)}
	}
	if call, ok := v.layout.CellCall(cell); ok && call.Reset != nil {
		st.HasReset = true
	}
	st.NeedsDoor = st.Night && st.HasReset && st.Presence == nil
	st.Choices = checkOutcomes(st.Night, st.NeedsDoor)
	if c, ok := v.state.LastCheck(cell); ok {
		st.Last = &c
	}
	return st
}

// cellGroup is a landing's cells, for choosing any cell to check.
type cellGroup struct {
	Landing string
	Cells   []cellTile
}

type cellTile struct {
	Cell, Name string
	OnPlan     bool
	Overdue    bool
	Presence   bool
}

func (v view) cellGroups() []cellGroup {
	var out []cellGroup
	for _, l := range v.layout.Landings {
		g := cellGroup{Landing: l}
		for _, d := range v.layout.Cells(l) {
			t := cellTile{Cell: d.ID, Name: doorName(d.Name, d.ID)}
			if due, ok := v.state.NextDue(d.ID); ok {
				t.OnPlan, t.Overdue = true, due.At.Before(v.now)
			}
			_, t.Presence = v.state.PendingPresence(d.ID, v.now)
			g.Cells = append(g.Cells, t)
		}
		if len(g.Cells) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// noteTags are the structured note's phrases an officer ticks rather
// than types.
var noteTags = []string{"breathing seen", "in bed", "awake", "view obscured", "wants to talk"}

// checkDone says what the last check recorded, for the page after it.
type checkDone struct {
	Check      wing.Check
	Name       string
	NoResponse bool
}

type checksPage struct {
	Header    header
	Presences []presence
	Night     bool
	Due       []dueRow
	Cells     []cellGroup
	Done      *checkDone
	Problem   string
}

// doneCheck finds the check a redirect names (?check=WING/SEQ&cell=ID).
func (v view) doneCheck(q url.Values) *checkDone {
	id, err := event.ParseID(q.Get("check"))
	if err != nil {
		return nil
	}
	cell := q.Get("cell")
	for _, c := range v.state.Observations[cell].Checks {
		if c.ID == id {
			d, _ := v.layout.Door(cell)
			return &checkDone{Check: c, Name: doorName(d.Name, cell), NoResponse: c.Outcome == wing.NoResponse}
		}
	}
	return nil
}

func (s *Server) shiftHeader(v view) header {
	h := s.header(v)
	h.Live = liveEvents // the frame; the shift's own stream follows the page's parts
	return h
}

func (s *Server) checksPageOf(v view) checksPage {
	return checksPage{Header: s.shiftHeader(v), Presences: v.presences(), Night: v.night(), Due: v.dueRows(), Cells: v.cellGroups()}
}

// checksScreen is GET /checks.
func (s *Server) checksScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	p := s.checksPageOf(v)
	p.Done = v.doneCheck(r.URL.Query())
	s.render(w, r, http.StatusOK, checksView(p))
}

// planChoices are the plan form's choices, so that a supervisor taps
// rather than types.
var (
	perHourChoices       = []float64{0, 0.5, 1, 2, 3, 4, 5, 6, 8, 10, 12}
	conversationChoices  = []int{0, 1, 2, 3, 4, 5, 6, 8, 10, 12, 24}
	maxGapChoicesMinutes = []int{5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440}
)

type cellPage struct {
	Header     header
	Status     cellStatus
	Plan       *wing.PlanRecord
	History    []shift.CheckItem
	HistoryErr string
	Supervises bool
	Problem    string
	Done       string
}

func (s *Server) cellPageOf(r *http.Request, v view, cell string) cellPage {
	p := cellPage{Header: s.shiftHeader(v), Status: v.cellStatus(cell), Plan: v.state.Observations[cell].Plan,
		Supervises: visitOf(r.Context()).supervises()}
	ctx, cancel := contextFor(r)
	defer cancel()
	hist, err := s.wing.CheckHistory(ctx, cell, 20)
	if err != nil {
		s.logError(r.Context(), "check history", err, "cell", cell)
		p.HistoryErr = "The cell's check history could not be read. Reload the page to try again."
	}
	p.History = hist
	return p
}

// cellOf reads the {cell} path segment: one of the wing's cells.
func (s *Server) cellOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	cell := r.PathValue("cell")
	if d, ok := s.wing.Layout().Door(cell); ok && isCell(d.Kind) {
		return cell, true
	}
	s.refuse(w, r, http.StatusNotFound, "No such cell", "This wing has no cell "+strconv.Quote(cell)+". Choose the cell on the Checks page.")
	return "", false
}

// cellScreen is GET /checks/{cell}.
func (s *Server) cellScreen(w http.ResponseWriter, r *http.Request) {
	cell, ok := s.cellOf(w, r)
	if !ok {
		return
	}
	p := s.cellPageOf(r, s.view(), cell)
	p.Done = planDone(r.URL.Query().Get("done"))
	s.render(w, r, http.StatusOK, cellView(p))
}

func planDone(done string) string {
	switch done {
	case "plan-set":
		return "The observation plan is set. The first check is due at the time shown, drawn at random within the plan."
	case "plan-ended":
		return "The cell is off its observation plan."
	}
	return ""
}

// checkNoteOf is the note of a check form: the ticked phrases, then what
// was typed.
func checkNoteOf(form url.Values) string {
	var parts []string
	for _, t := range form["tag"] {
		for _, known := range noteTags {
			if t == known {
				parts = append(parts, t)
			}
		}
	}
	if typed := strings.TrimSpace(form.Get("note")); typed != "" {
		parts = append(parts, typed)
	}
	return strings.Join(parts, "; ")
}

// checkAction is POST /checks/{cell} (behind needs): the outcome tapped,
// with the note; at_door=yes when the screen offered it as a check at
// the door. On success it shows the Checks page with what was recorded.
func (s *Server) checkAction(w http.ResponseWriter, r *http.Request) {
	cell, ok := s.cellOf(w, r)
	if !ok {
		return
	}
	officer, _ := s.actor(r)
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	note := checkNoteOf(form)
	problem := ""
	outcome, err := wing.ParseCheckOutcome(form.Get("outcome"))
	if err != nil {
		problem = "Not recorded: choose the outcome by its button."
	} else if err := checkNote(note); err != nil {
		problem = "Not recorded: " + err.Error() + "."
	}
	if problem == "" {
		ctx, cancel := contextFor(r)
		defer cancel()
		var c wing.Check
		c, err = s.wing.RecordCheck(ctx, officer, wing.CheckEntry{Cell: cell, Outcome: outcome, Note: note, AtDoor: form.Get("at_door") == "yes"})
		if err == nil {
			http.Redirect(w, r, "/checks?"+url.Values{"cell": {cell}, "check": {c.ID.String()}}.Encode(), http.StatusSeeOther)
			return
		}
		var status int
		status, problem = shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "record check", err, "cell", cell)
		}
		if c.ID != (event.ID{}) { // recorded, but its alarm was not
			problem = "The check is recorded, but its alarm could not be raised: raise the alarm by hand now (radio or staff alarm)."
		}
		p := s.cellPageOf(r, s.view(), cell)
		p.Problem, p.Status.Note = problem, form.Get("note")
		s.render(w, r, status, cellView(p))
		return
	}
	p := s.cellPageOf(r, s.view(), cell)
	p.Problem, p.Status.Note = problem, form.Get("note")
	s.render(w, r, http.StatusBadRequest, cellView(p))
}

// parsePlan reads a plan form: observations an hour by day and at night,
// conversations a day, and the longest gap in minutes.
func parsePlan(get func(string) string) (wing.Plan, error) {
	var p wing.Plan
	var err error
	num := func(name string) float64 {
		if err != nil {
			return 0
		}
		var f float64
		f, err = strconv.ParseFloat(strings.TrimSpace(get(name)), 64)
		if err != nil {
			err = &Refusal{Kind: ErrBadInput, Sentence: name + ": " + strconv.Quote(get(name)) + " is not a number"}
		}
		return f
	}
	p.DayPerHour, p.NightPerHour = num("day_per_hour"), num("night_per_hour")
	p.ConversationsPerDay = int(num("conversations_per_day"))
	p.MaxGap = time.Duration(num("max_gap_minutes") * float64(time.Minute))
	if err != nil {
		return p, err
	}
	if verr := p.Validate(); verr != nil {
		return p, &Refusal{Kind: ErrBadInput, Sentence: strings.TrimPrefix(verr.Error(), wing.ErrBadPlan.Error()+": "), Err: verr}
	}
	return p, nil
}

// planAction is POST /checks/{cell}/plan and /plan/end (behind needs, a
// supervisor).
func (s *Server) planAction(set bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cell, ok := s.cellOf(w, r)
		if !ok {
			return
		}
		by, _ := s.actor(r)
		form, ok := s.readForm(w, r)
		if !ok {
			return
		}
		ctx, cancel := contextFor(r)
		defer cancel()
		var err error
		done := "plan-ended"
		if set {
			done = "plan-set"
			var plan wing.Plan
			if plan, err = parsePlan(form.Get); err == nil {
				err = s.wing.SetPlan(ctx, by, cell, plan, strings.TrimSpace(form.Get("note")))
			}
		} else {
			err = s.wing.EndPlan(ctx, by, cell, strings.TrimSpace(form.Get("reason")))
		}
		if err != nil {
			status, problem := shiftProblem(err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "observation plan", err, "cell", cell)
			}
			p := s.cellPageOf(r, s.view(), cell)
			p.Problem = problem
			s.render(w, r, status, cellView(p))
			return
		}
		http.Redirect(w, r, "/checks/"+url.PathEscape(cell)+"?done="+done, http.StatusSeeOther)
	}
}

// planValue writes a plan's number as the form's option value.
func planValue(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// gapLabel is a longest gap in words.
func gapLabel(minutes int) string {
	switch {
	case minutes < 60:
		return strconv.Itoa(minutes) + " min"
	case minutes%60 == 0:
		return plural(minutes/60, "hour")
	}
	return strconv.Itoa(minutes/60) + " h " + strconv.Itoa(minutes%60) + " min"
}

// planSummary is a plan in words.
func planSummary(p wing.Plan) string {
	return planValue(p.DayPerHour) + " an hour by day, " + planValue(p.NightPerHour) + " at night, " +
		plural(p.ConversationsPerDay, "conversation") + " a day, never more than " + gapLabel(int(p.MaxGap/time.Minute)) + " apart"
}

// dueIn says when a check is due, as of now.
func dueIn(at, now time.Time) since { return since{At: at, Text: formatAge(at.Sub(now))} }
