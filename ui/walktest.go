package ui

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
)

// The walk test durations offered on the screen, in minutes, and the
// limits of any duration asked for (the appliance's own limits).
var walkTestChoices = []int{15, 30, 60}

const (
	defaultWalkTestMinutes = 30
)

// walkBanner is the strip every page shows while a walk test runs on
// this wing or on another wing of the site.
type walkBanner struct {
	Running bool
	By      string
	Until   string // HH:MM, the appliance's local time
	Scope   string // what it covers, in words: "the whole wing", "landing 2", "12 points"
	Others  []otherWalk
}

// otherWalk is another wing's running walk test.
type otherWalk struct {
	Wing  string
	By    string
	Until string
	Scope string
}

func (b walkBanner) same(o walkBanner) bool {
	return b.Running == o.Running && b.By == o.By && b.Until == o.Until && b.Scope == o.Scope && slices.Equal(b.Others, o.Others)
}

// clockTime formats a time of day for the screen, in the appliance's local time.
func clockTime(t time.Time) string { return t.In(time.Local).Format("15:04") }

// walkTest returns this wing's walk test if it is running now.
func (v view) walkTest() (wing.WalkTest, bool) {
	w, ok := v.state.WalkTests[v.layout.ID]
	return w, ok && w.Running(v.now)
}

// walkScope says what a walk test covers.
func walkScope(w wing.WalkTest) string {
	switch {
	case w.Landing != "":
		return "landing " + w.Landing
	case len(w.Points) == 1:
		return "1 point"
	case len(w.Points) > 1:
		return strconv.Itoa(len(w.Points)) + " points"
	}
	return "the whole wing"
}

func (v view) walkBanner() walkBanner {
	var b walkBanner
	if w, ok := v.walkTest(); ok {
		b = walkBanner{Running: true, By: w.By, Until: clockTime(w.Until), Scope: walkScope(w)}
	}
	for _, id := range slices.Sorted(maps.Keys(v.state.WalkTests)) {
		if w := v.state.WalkTests[id]; id != v.layout.ID && w.Running(v.now) {
			b.Others = append(b.Others, otherWalk{Wing: id, By: w.By, Until: clockTime(w.Until), Scope: walkScope(w)})
		}
	}
	return b
}

// input is one input of the wing that a walk test proves: a door's
// position contact, its lock contact, or an alarm point.
type input struct {
	ID      string // door id, door id + "#lock", or alarm point id
	Name    string
	Kind    string // door, lock, or the alarm point's kind
	Landing string // empty when on no landing
}

// kindLabel is the input's kind in words.
func (in input) kindLabel() string {
	switch in.Kind {
	case "door":
		return "Door contact"
	case "lock":
		return "Lock contact"
	}
	return pointKindLabel(in.Kind)
}

// inputGroup is a landing's inputs, or the wing's other inputs.
type inputGroup struct {
	Title   string
	Landing string // empty for the inputs on no landing
	Inputs  []input
}

// inputGroups lists every input landing by landing in configuration
// order, then the inputs on no known landing. Each door is followed by its
// lock contact and its cell's call points, as an officer walks the landing.
func (v view) inputGroups() []inputGroup {
	placed := map[string]bool{}
	take := func(g *inputGroup, in input) {
		if !placed[in.ID] {
			placed[in.ID] = true
			g.Inputs = append(g.Inputs, in)
		}
	}
	point := func(p config.AlarmPoint, landing string) input {
		return input{ID: p.ID, Name: cmp.Or(p.Name, p.ID), Kind: string(p.Kind), Landing: landing}
	}
	fill := func(g *inputGroup, onLanding func(landing string) bool) {
		for _, d := range v.layout.Doors {
			if !onLanding(d.Landing) {
				continue
			}
			name := cmp.Or(d.Name, d.ID)
			take(g, input{ID: d.ID, Name: name, Kind: "door", Landing: d.Landing})
			if d.Lock != nil {
				take(g, input{ID: d.ID + wing.LockSuffix, Name: name, Kind: "lock", Landing: d.Landing})
			}
			for _, p := range v.layout.AlarmPoints {
				if p.Cell == d.ID && p.Cell != "" {
					take(g, point(p, d.Landing))
				}
			}
		}
		for _, p := range v.layout.AlarmPoints {
			if onLanding(p.Landing) {
				take(g, point(p, p.Landing))
			}
		}
	}
	var out []inputGroup
	for _, landing := range v.layout.Landings {
		g := inputGroup{Title: "Landing " + landing, Landing: landing}
		fill(&g, func(l string) bool { return l == landing })
		if len(g.Inputs) > 0 {
			out = append(out, g)
		}
	}
	other := inputGroup{Title: "Other inputs"}
	fill(&other, func(string) bool { return true })
	if len(other.Inputs) > 0 {
		out = append(out, other)
	}
	return out
}

// proofStatus says whether an input has been proven recently enough.
type proofStatus string

// The proof statuses.
const (
	proofOK      proofStatus = "ok"
	proofOverdue proofStatus = "overdue" // last proven longer ago than Layout().ProveEvery
	proofNever   proofStatus = "never"
)

// label is the status in words.
func (p proofStatus) label() string {
	switch p {
	case proofOverdue:
		return "PROOF OVERDUE"
	case proofNever:
		return "never proven"
	}
	return "proven"
}

// proveEvery is how often each input must be proven.
func (v view) proveEvery() time.Duration {
	return cmp.Or(v.layout.ProveEvery, config.DefaultProveEvery)
}

// proof returns when an input was last proven, and whether that is recent enough.
func (v view) proof(id string) (proofStatus, wing.Proof) {
	p, ok := v.state.Proven[id]
	switch {
	case !ok:
		return proofNever, p
	case v.now.Sub(p.At) > v.proveEvery():
		return proofOverdue, p
	}
	return proofOK, p
}

// proofRow is one input on the walk test page.
type proofRow struct {
	ID      string
	Name    string
	Kind    string
	Point   string // the door or alarm point a walk test chooses to cover it
	Status  proofStatus
	Proven  since
	At      string // when it was last proven, as a date and time
	By      string
	Fault   string // the input's fault, when it cannot be read
	Covered bool   // the running walk test covers it
	// Choosing is true while no walk test runs: the row may be ticked
	// for the next one.
	Choosing bool
}

// same reports whether two rows show the same, leaving out the age,
// which the browser counts up.
func (r proofRow) same(o proofRow) bool {
	return r.ID == o.ID && r.Status == o.Status && r.Proven.At.Equal(o.Proven.At) && r.By == o.By &&
		r.Fault == o.Fault && r.Covered == o.Covered && r.Choosing == o.Choosing
}

// proofGroup is a landing's rows.
type proofGroup struct {
	Key     string // "1" for landing 1; "other"
	Title   string
	Landing string // the landing; empty for the wing's other inputs
	Rows    []proofRow
	Sum     proofSummary
	// Covered counts the rows the running walk test covers.
	Covered int
}

func (g proofGroup) sumID() string { return "proof-group-sum-" + g.Key }

// proofGroups is proofs' answer as one value.
type proofGroups struct {
	groups []proofGroup
	sum    proofSummary
}

func (v view) proofGroups() proofGroups {
	g, sum := v.proofs()
	return proofGroups{g, sum}
}

// proofSummary counts the inputs that need proving.
type proofSummary struct {
	Inputs     int
	Overdue    int
	Never      int
	ProveEvery time.Duration
}

// due is how many inputs need proving.
func (p proofSummary) due() int { return p.Overdue + p.Never }

// period writes ProveEvery in words: "30 days", "12 hours".
func (p proofSummary) period() string {
	switch d := p.ProveEvery; {
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	default:
		return d.String()
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func (v view) proofRow(in input, walk wing.WalkTest, walking bool) proofRow {
	status, p := v.proof(in.ID)
	r := proofRow{ID: in.ID, Name: in.Name, Kind: in.kindLabel(), Point: strings.TrimSuffix(in.ID, wing.LockSuffix), Status: status}
	if status != proofNever {
		r.Proven, r.By = sinceOf(p.At, v.now), p.By
		if !r.Proven.At.IsZero() {
			r.At = p.At.In(time.Local).Format("2006-01-02 15:04")
		}
	}
	if f, ok := v.state.Inputs[in.ID]; ok && f.Faulted {
		r.Fault = cmp.Or(f.Fault, "fault")
	}
	r.Covered = walking && walk.Covers(in.ID)
	r.Choosing = !walking
	return r
}

// proofs returns the walk test page's rows and their counts.
func (v view) proofs() ([]proofGroup, proofSummary) {
	sum := proofSummary{ProveEvery: v.proveEvery()}
	walk, walking := v.walkTest()
	var out []proofGroup
	for i, g := range v.inputGroups() {
		pg := proofGroup{Key: strconv.Itoa(i + 1), Title: g.Title, Landing: g.Landing, Sum: proofSummary{ProveEvery: sum.ProveEvery}}
		for _, in := range g.Inputs {
			r := v.proofRow(in, walk, walking)
			pg.Rows = append(pg.Rows, r)
			for _, s := range []*proofSummary{&sum, &pg.Sum} {
				s.Inputs++
				switch r.Status {
				case proofOverdue:
					s.Overdue++
				case proofNever:
					s.Never++
				}
			}
			if r.Covered {
				pg.Covered++
			}
		}
		out = append(out, pg)
	}
	return out, sum
}

// proofSummary counts the inputs that need proving.
func (v view) proofSummary() proofSummary {
	_, sum := v.proofs()
	return sum
}

// walkControls starts or ends the walk test.
type walkControls struct {
	Running  bool
	By       string
	Until    string
	Scope    string
	Choices  []int // minutes
	Default  int
	Landings []string
}

func (v view) walkControls() walkControls {
	c := walkControls{Choices: walkTestChoices, Default: defaultWalkTestMinutes, Landings: v.layout.Landings}
	if w, ok := v.walkTest(); ok {
		c.Running, c.By, c.Until, c.Scope = true, w.By, clockTime(w.Until), walkScope(w)
	}
	return c
}

type walkTestPage struct {
	Header   header
	Controls walkControls
	Summary  proofSummary
	Groups   []proofGroup
}

func (s *Server) walkTestPage(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	h := s.header(v)
	h.Live = liveWalkTest
	groups, sum := v.proofs()
	s.render(w, r, http.StatusOK, walkTestView(walkTestPage{Header: h, Controls: v.walkControls(), Summary: sum, Groups: groups}))
}

// parseMinutes reads a walk test's duration: empty means the default.
func parseMinutes(v string) (time.Duration, error) {
	if v == "" {
		return defaultWalkTestMinutes * time.Minute, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > int(wing.MaxWalkTest/time.Minute) {
		return 0, fmt.Errorf("%q is not a whole number of minutes from 1 to %d", v, int(wing.MaxWalkTest/time.Minute))
	}
	return time.Duration(n) * time.Minute, nil
}

// The walk test form's scope: the whole wing, "landing:NAME", or the
// points ticked.
const (
	scopeWing    = "wing"
	scopeLanding = "landing:"
	scopePoints  = "points"
)

// parseScope reads what a walk test covers from the form.
func parseScope(scope string, points []string, landings []string) (wing.WalkTestPoints, error) {
	switch {
	case scope == "" || scope == scopeWing:
		return wing.WalkTestPoints{}, nil
	case strings.HasPrefix(scope, scopeLanding):
		l := strings.TrimPrefix(scope, scopeLanding)
		if !slices.Contains(landings, l) {
			return wing.WalkTestPoints{}, fmt.Errorf("the wing has no landing %q", l)
		}
		return wing.WalkTestPoints{Landing: l}, nil
	case scope == scopePoints:
		if len(points) == 0 {
			return wing.WalkTestPoints{}, errors.New("no point is ticked: open a landing and tick the doors and alarm points to test")
		}
		return wing.WalkTestPoints{Points: points}, nil
	}
	return wing.WalkTestPoints{}, fmt.Errorf("%q is not a choice of what to test", scope)
}

// walkTestAction handles the walk test page's Start and End forms (behind
// needs): on success it redirects to the walk test page, so it works
// without script.
func (s *Server) walkTestAction(start bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		form, ok := s.readForm(w, r)
		if !ok {
			return
		}
		var err error
		if start {
			d, perr := parseMinutes(form.Get("minutes"))
			if perr != nil {
				s.renderMessage(w, r, http.StatusBadRequest, "Walk test not started",
					"The duration "+perr.Error()+". Choose one from the list on the walk test page.")
				return
			}
			points, perr := parseScope(form.Get("scope"), form["point"], s.wing.Layout().Landings)
			if perr != nil {
				s.renderMessage(w, r, http.StatusBadRequest, "Walk test not started", "Nothing was recorded: "+perr.Error()+".")
				return
			}
			err = s.wing.StartWalkTest(r.Context(), officer, d, points)
		} else {
			err = s.wing.EndWalkTest(r.Context(), officer)
		}
		if err != nil {
			title, text := walkTestProblem(start, err)
			if !errors.Is(err, ErrBadInput) {
				s.logError(r.Context(), walkTestWhat(start), err)
			}
			s.renderMessage(w, r, walkTestStatus(err), title, text)
			return
		}
		http.Redirect(w, r, "/walktest", http.StatusSeeOther)
	}
}

// walkTestWhat names the action for the log.
func walkTestWhat(start bool) string {
	if start {
		return "start walk test"
	}
	return "end walk test"
}

// walkTestStatus is the status of a walk test the appliance refused.
func walkTestStatus(err error) int {
	if errors.Is(err, ErrBadInput) {
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// walkTestProblem is what the officer is told when the appliance could not
// start or end a walk test.
func walkTestProblem(start bool, err error) (title, text string) {
	if start {
		if errors.Is(err, ErrBadInput) {
			return "Walk test not started", "The walk test was not started: " + strings.TrimPrefix(err.Error(), ErrBadInput.Error()+": ") + "."
		}
		return "Walk test not started", "The walk test could not be started, so cell calls still raise alarms. Try again; if it keeps failing, report it."
	}
	return "Walk test not ended", "The walk test could not be ended: cell calls are still recorded as proven and do not raise alarms until it runs out. Try again; if it keeps failing, report it."
}
