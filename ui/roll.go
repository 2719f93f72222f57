package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// The roll on the screen. /roll shows whether the wing's roll is signed
// correct and since when, and each landing with its expected roll (cells
// occupied, empty, prisoners out of the wing and why) and its latest
// count, reconciled: a discrepancy, or cell doors open during the count,
// flagged. An officer counts a landing on /roll/count/{landing} (a blind
// count: the expected number is not on that page), a supervisor sets the
// expected roll on /roll/expected and, as the officer in charge, signs
// the roll once every landing reconciles. The Site screen shows each
// wing's roll (siteRollsView).

// outOfWing is a cell's prisoners out of the wing, and why.
type outOfWing struct {
	Cell   string
	Out    int
	Reason string
}

// landingRoll is a landing on the roll page.
type landingRoll struct {
	Landing   string
	Cells     int
	Occupied  int // cells with someone on the roll
	Empty     int
	Unset     int // cells with no expected roll
	Expected  int
	Out       []outOfWing
	Last      *wing.Count
	LastAge   since
	Stale     bool // counted longer ago than wing.RollWindow
	Changed   bool // the expected roll changed since the count
	OpenNow   []string
	HasRoll   bool
	Reconcile bool // counted lately, agreeing with the expected roll as it is now
}

func (v view) landingRolls() []landingRoll {
	var out []landingRoll
	for _, l := range v.layout.Landings {
		cells := v.layout.Cells(l)
		if len(cells) == 0 {
			continue
		}
		lr := landingRoll{Landing: l, Cells: len(cells)}
		ids := make([]string, len(cells))
		for i, d := range cells {
			ids[i] = d.ID
			r, ok := v.state.Roll[d.ID]
			switch {
			case !ok:
				lr.Unset++
			case r.Occupants == 0:
				lr.Empty++
			default:
				lr.Occupied++
			}
			if ok && r.Out > 0 {
				lr.Out = append(lr.Out, outOfWing{Cell: d.ID, Out: r.Out, Reason: r.Reason})
			}
			if door, ok := v.state.Doors[d.ID]; ok && door.Open {
				lr.OpenNow = append(lr.OpenNow, d.ID)
			}
		}
		lr.Expected, _ = v.state.ExpectedOn(ids)
		lr.HasRoll = lr.Unset < len(cells)
		if c, ok := v.state.LastCount(v.layout.ID, l); ok {
			lr.Last, lr.LastAge = &c, sinceOf(c.At, v.now)
			lr.Stale = v.now.Sub(c.At) > wing.RollWindow
			lr.Changed = c.Expected != lr.Expected
			lr.Reconcile = !lr.Stale && !lr.Changed && c.Reconciled()
		}
		out = append(out, lr)
	}
	return out
}

// rollStatus is whether the wing's roll is correct, and what stops it
// being signed now.
type rollStatus struct {
	Correct  bool
	Signed   *wing.RollSign // the latest signed roll not struck
	Since    since
	Problems []string
	CanSign  bool
}

func (v view) rollStatus() rollStatus {
	var st rollStatus
	if r, ok := v.state.SignedRoll(v.layout.ID); ok {
		st.Signed, st.Since = &r, sinceOf(r.At, v.now)
	}
	_, st.Correct = v.state.RollCorrect(v.layout.ID)
	any := false
	for _, l := range v.landingRolls() {
		if !l.HasRoll {
			continue
		}
		any = true
		switch {
		case l.Last == nil || l.Stale:
			st.Problems = append(st.Problems, "landing "+l.Landing+" is not counted within the last hour")
		case l.Changed:
			st.Problems = append(st.Problems, "landing "+l.Landing+"'s expected roll changed since its count: count it again")
		case !l.Last.Reconciled():
			st.Problems = append(st.Problems, "landing "+l.Landing+" counted "+strconv.Itoa(l.Last.Counted)+" of "+strconv.Itoa(l.Last.Expected))
		}
	}
	if !any {
		st.Problems = append(st.Problems, "no expected roll is set: a supervisor sets it first")
	}
	st.CanSign = len(st.Problems) == 0
	return st
}

// siteRoll is a wing of the site and its roll, on the Site screen.
type siteRoll struct {
	Wing     string
	Local    bool
	Correct  bool
	Signed   bool // signed, but a landing has been counted wrong since
	At       string
	By       string
	Counted  int
	Expected int
}

// siteRolls lists every wing of the site with whether its roll is
// correct and since when: this wing first.
func (v view) siteRolls() []siteRoll {
	wings := []string{v.layout.ID}
	for _, w := range v.site.Wings {
		if !slices.Contains(wings, w.Wing) && w.Wing != "" {
			wings = append(wings, w.Wing)
		}
	}
	slices.Sort(wings[1:])
	var out []siteRoll
	for _, w := range wings {
		r := siteRoll{Wing: w, Local: w == v.layout.ID}
		if sign, ok := v.state.RollCorrect(w); ok {
			r.Correct, r.At, r.By, r.Counted, r.Expected = true, clockTimeNear(sign.At, v.now), sign.By, sign.Counted, sign.Expected
		} else if sign, ok := v.state.SignedRoll(w); ok {
			r.Signed, r.At, r.By = true, clockTimeNear(sign.At, v.now), sign.By
		}
		out = append(out, r)
	}
	return out
}

type rollPage struct {
	Header   header
	Status   rollStatus
	Landings []landingRoll
	Done     *countDone
	Signed   bool
	Problem  string
}

// countDone is what the last count recorded, for the page after it.
type countDone struct {
	Count wing.Count
}

func (s *Server) rollPageOf(v view) rollPage {
	return rollPage{Header: s.shiftHeader(v), Status: v.rollStatus(), Landings: v.landingRolls()}
}

// rollScreen is GET /roll.
func (s *Server) rollScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	p := s.rollPageOf(v)
	q := r.URL.Query()
	if id, err := event.ParseID(q.Get("count")); err == nil {
		for _, c := range v.state.Counts[wing.LandingID(v.layout.ID, q.Get("landing"))] {
			if c.ID == id {
				p.Done = &countDone{Count: c}
			}
		}
	}
	p.Signed = q.Get("signed") == "yes"
	s.render(w, r, http.StatusOK, rollView(p))
}

// landingOf reads the {landing} path segment: a landing of the wing with
// cells.
func (s *Server) landingOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	l := r.PathValue("landing")
	if len(s.wing.Layout().Cells(l)) > 0 && l != "" {
		return l, true
	}
	s.refuse(w, r, http.StatusNotFound, "No such landing", "This wing has no landing "+strconv.Quote(l)+" with cells. Choose the landing on the Roll page.")
	return "", false
}

type countPage struct {
	Header  header
	Landing string
	OpenNow []string
	Counted string
	Problem string
}

// countScreen is GET /roll/count/{landing}: a blind count.
func (s *Server) countScreen(w http.ResponseWriter, r *http.Request) {
	l, ok := s.landingOf(w, r)
	if !ok {
		return
	}
	v := s.view()
	s.render(w, r, http.StatusOK, countView(s.countPageOf(v, l)))
}

func (s *Server) countPageOf(v view, l string) countPage {
	p := countPage{Header: s.shiftHeader(v), Landing: l}
	for _, lr := range v.landingRolls() {
		if lr.Landing == l {
			p.OpenNow = lr.OpenNow
		}
	}
	return p
}

// countAction is POST /roll/count/{landing} (behind needs).
func (s *Server) countAction(w http.ResponseWriter, r *http.Request) {
	l, ok := s.landingOf(w, r)
	if !ok {
		return
	}
	by, _ := s.actor(r)
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	typed := strings.TrimSpace(form.Get("counted"))
	n, err := strconv.Atoi(typed)
	status, problem := http.StatusBadRequest, ""
	switch {
	case err != nil || n < 0:
		problem = "Not recorded: type the number of prisoners you counted on the landing, as a whole number."
	default:
		ctx, cancel := contextFor(r)
		defer cancel()
		var c wing.Count
		c, err = s.wing.CountLanding(ctx, by, l, n)
		if err == nil {
			http.Redirect(w, r, "/roll?"+url.Values{"landing": {l}, "count": {c.ID.String()}}.Encode(), http.StatusSeeOther)
			return
		}
		status, problem = shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "count landing", err, "landing", l)
		}
		if c.ID != (event.ID{}) {
			problem = "The count is recorded, but its discrepancy alarm could not be raised: tell the officer in charge now."
		}
	}
	p := s.countPageOf(s.view(), l)
	p.Problem, p.Counted = problem, typed
	s.render(w, r, status, countView(p))
}

// signRollAction is POST /roll/sign (behind needs, a supervisor).
func (s *Server) signRollAction(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	ctx, cancel := contextFor(r)
	defer cancel()
	if _, err := s.wing.SignRoll(ctx, by); err != nil {
		status, problem := shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "sign roll", err)
		}
		p := s.rollPageOf(s.view())
		p.Problem = problem
		s.render(w, r, status, rollView(p))
		return
	}
	http.Redirect(w, r, "/roll?signed=yes", http.StatusSeeOther)
}

// outReasons are the reasons a supervisor chooses from for prisoners out
// of the wing.
var outReasons = []string{"court", "hospital", "healthcare", "legal visit", "social visit", "work", "education", "gym", "chaplaincy", "segregation", "other wing", "escort"}

// expectedCell is a cell's row on the expected roll page.
type expectedCell struct {
	Cell, Name string
	Set        bool
	Roll       wing.CellRoll
	By         string
}

type expectedLanding struct {
	Landing string
	Cells   []expectedCell
}

type expectedPage struct {
	Header   header
	Landings []expectedLanding
	Reasons  []string
	Done     bool
	Problem  string
}

func (s *Server) expectedPageOf(v view) expectedPage {
	p := expectedPage{Header: s.shiftHeader(v), Reasons: outReasons}
	for _, l := range v.layout.Landings {
		el := expectedLanding{Landing: l}
		for _, d := range v.layout.Cells(l) {
			r, ok := v.state.Roll[d.ID]
			el.Cells = append(el.Cells, expectedCell{Cell: d.ID, Name: doorName(d.Name, d.ID), Set: ok, Roll: r.CellRoll, By: r.By})
		}
		if len(el.Cells) > 0 {
			p.Landings = append(p.Landings, el)
		}
	}
	return p
}

// expectedScreen is GET /roll/expected (a supervisor).
func (s *Server) expectedScreen(w http.ResponseWriter, r *http.Request) {
	p := s.expectedPageOf(s.view())
	p.Done = r.URL.Query().Get("done") == "yes"
	s.render(w, r, http.StatusOK, expectedView(p))
}

// expectedAction is POST /roll/expected (behind needs, a supervisor):
// each cell of the form, occ.CELL occupants, out.CELL out of the wing,
// why.CELL the reason. Cells left unchanged record nothing.
func (s *Server) expectedAction(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	rolls := map[string]wing.CellRoll{}
	problem := ""
	for _, d := range s.wing.Layout().Cells("") {
		occ := form.Get("occ." + d.ID)
		if occ == "" {
			continue
		}
		var cr wing.CellRoll
		var err1, err2 error
		cr.Occupants, err1 = strconv.Atoi(occ)
		if out := form.Get("out." + d.ID); out != "" {
			cr.Out, err2 = strconv.Atoi(out)
		}
		if err1 != nil || err2 != nil {
			problem = "Not recorded: cell " + d.ID + "'s numbers are not whole numbers."
			break
		}
		if cr.Out > 0 {
			cr.Reason = strings.TrimSpace(form.Get("why." + d.ID))
			if cr.Reason == "" {
				problem = "Not recorded: say why cell " + d.ID + "'s prisoners are out of the wing."
				break
			}
		}
		rolls[d.ID] = cr
	}
	status := http.StatusBadRequest
	if problem == "" {
		ctx, cancel := contextFor(r)
		defer cancel()
		err := s.wing.SetExpectedRoll(ctx, by, rolls)
		if err == nil {
			http.Redirect(w, r, "/roll/expected?done=yes", http.StatusSeeOther)
			return
		}
		status, problem = shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "set expected roll", err)
		}
	}
	p := s.expectedPageOf(s.view())
	p.Problem = problem
	s.render(w, r, status, expectedView(p))
}

// discrepancy writes a count's difference from the expected roll.
func discrepancy(c wing.Count) string {
	d := c.Discrepancy()
	switch {
	case d > 0:
		return strconv.Itoa(d) + " MORE than expected"
	case d < 0:
		return strconv.Itoa(-d) + " SHORT"
	}
	return "agrees"
}

func numbers(n int) []int {
	out := make([]int, n+1)
	for i := range out {
		out[i] = i
	}
	return out
}
