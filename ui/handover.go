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

// The handover on the screen. /handover is the draft of the shift (from
// the wing's latest handover, or the start of its day, to now) with its
// response figures, alarms and their response times, door anomalies,
// checks done, late, missed and flagged, counts and rolls, walk tests,
// faults still open, open items with their owners and corrections; the
// outgoing officer adds notes and signs it, and the wing's latest
// handovers below are signed as read by the incoming officer. A struck
// handover stays, struck through, with who struck it and why. Printed, it
// is an A4 record (print.css).

type handoverPage struct {
	Header   header
	Draft    shift.Draft
	DraftErr string
	Clipped  bool
	Latest   []handoverRow
	Notes    string
	Done     string
	Problem  string
	Changed  bool // the draft changed while it was reviewed
}

// handoverRow is a handover signed on this wing, struck through once a
// correction struck it.
type handoverRow struct {
	wing.Handover
	Struck *wing.Correction
	Reads  []readRow
	Mine   bool // signed by the officer at the screen
	Read   bool // read by the officer at the screen
}

type readRow struct {
	wing.Reading
	Struck *wing.Correction
}

func (v view) handoverRows(officer string) []handoverRow {
	var out []handoverRow
	for _, h := range v.state.Handovers[v.layout.ID] {
		if !h.Signed {
			continue
		}
		r := handoverRow{Handover: h, Mine: h.By == officer}
		if c, ok := v.state.Struck[h.ID]; ok {
			r.Struck = &c
		}
		for _, rd := range h.Reads {
			row := readRow{Reading: rd}
			if c, ok := v.state.Struck[rd.ID]; ok {
				row.Struck = &c
			} else if rd.By == officer {
				r.Read = true
			}
			r.Reads = append(r.Reads, row)
		}
		out = append(out, r)
	}
	return out
}

// handoverPageOf drafts the shift from..to for the officer at the screen.
func (s *Server) handoverPageOf(r *http.Request, v view, from, to time.Time) handoverPage {
	officer, _ := s.actor(r)
	p := handoverPage{Header: s.shiftHeader(v), Latest: v.handoverRows(officer.ID)}
	ctx, cancel := contextFor(r)
	defer cancel()
	d, err := s.wing.HandoverDraft(ctx, from, to)
	if err != nil {
		s.logError(r.Context(), "handover draft", err)
		p.DraftErr = "The handover could not be drafted: " + refusalSentence(err) + ". Reload the page to try again."
	}
	p.Draft = d
	return p
}

// handoverScreen is GET /handover: the shift as it stands.
func (s *Server) handoverScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	from, to, clipped := v.shiftRange()
	p := s.handoverPageOf(r, v, from, to)
	p.Clipped = clipped
	switch r.URL.Query().Get("done") {
	case "signed":
		p.Done = "The handover is signed. The incoming officer signs it as read below."
	case "read":
		p.Done = "You signed the handover as read."
	}
	s.render(w, r, http.StatusOK, handoverView(p))
}

// checkNotes is the rule for a handover's notes: the rule for text
// (event.CheckText) line by line, so that lines may break, and at most
// wing.MaxHandoverNotes bytes.
func checkNotes(notes string) error {
	if err := event.CheckLines("notes", notes, wing.MaxHandoverNotes); err != nil {
		return &Refusal{Kind: ErrBadInput, Sentence: strings.TrimPrefix(err.Error(), event.ErrText.Error()+": "), Err: err}
	}
	return nil
}

// cleanNotes makes a textarea's line breaks plain newlines.
func cleanNotes(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
}

// signHandover drafts the shift again and signs it if it is the draft the
// officer reviewed (the digest they send); a changed draft is not signed:
// it is shown again, changed, to be reviewed.
func (s *Server) signHandover(r *http.Request, from, to time.Time, digest, notes string) (event.ID, shift.Draft, error) {
	by, _ := s.actor(r)
	ctx, cancel := contextFor(r)
	defer cancel()
	d, err := s.wing.HandoverDraft(ctx, from, to)
	if err != nil {
		return event.ID{}, d, err
	}
	if d.Digest != digest {
		return event.ID{}, d, errDraftChanged
	}
	id, err := s.wing.SignHandover(ctx, by, wing.HandoverEntry{From: d.From, To: d.To, Digest: d.Digest, OpenItems: len(d.OpenItems), Notes: notes})
	return id, d, err
}

// errDraftChanged: the shift's draft is not the one the officer reviewed.
var errDraftChanged = &Refusal{Kind: ErrBadInput, Sentence: "the shift's draft changed while you reviewed it (something happened, or an item was dealt with): look over it again, then sign"}

// signHandoverAction is POST /handover/sign (behind needs).
func (s *Server) signHandoverAction(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	notes := cleanNotes(form.Get("notes"))
	from, ferr := time.Parse(time.RFC3339, form.Get("from"))
	to, terr := time.Parse(time.RFC3339, form.Get("to"))
	v := s.view()
	if ferr != nil || terr != nil {
		from, to, _ = v.shiftRange()
		p := s.handoverPageOf(r, v, from, to)
		p.Problem, p.Notes = "Not signed: the form did not say which shift. Look over the draft and sign again.", notes
		s.render(w, r, http.StatusBadRequest, handoverView(p))
		return
	}
	if err := checkNotes(notes); err != nil {
		p := s.handoverPageOf(r, v, from, to)
		p.Problem, p.Notes = "Not signed: "+refusalSentence(err)+".", notes
		s.render(w, r, http.StatusBadRequest, handoverView(p))
		return
	}
	_, d, err := s.signHandover(r, from, to, form.Get("digest"), notes)
	if err != nil {
		status, problem := shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "sign handover", err)
		}
		p := s.handoverPageOf(r, s.view(), from, to)
		p.Problem, p.Notes = strings.Replace(problem, "Not recorded", "Not signed", 1), notes
		if err == errDraftChanged {
			p.Draft, p.Changed = d, true
		}
		s.render(w, r, status, handoverView(p))
		return
	}
	http.Redirect(w, r, "/handover?done=signed", http.StatusSeeOther)
}

// readHandoverAction is POST /handovers/{wing}/{seq}/read (behind needs).
func (s *Server) readHandoverAction(w http.ResponseWriter, r *http.Request) {
	id, err := recordID(r)
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, "No such handover", "This address does not name a handover. Go back to the Handover page and choose it there.")
		return
	}
	by, _ := s.actor(r)
	ctx, cancel := contextFor(r)
	defer cancel()
	if err := s.wing.ReadHandover(ctx, by, id); err != nil {
		status, problem := shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "read handover", err, "handover", id)
		}
		v := s.view()
		from, to, _ := v.shiftRange()
		p := s.handoverPageOf(r, v, from, to)
		p.Problem = problem
		s.render(w, r, status, handoverView(p))
		return
	}
	http.Redirect(w, r, "/handover?done=read", http.StatusSeeOther)
}

// correctPage confirms striking a record, with the reason.
type correctPage struct {
	Header  header
	ID      event.ID
	Record  event.Event
	Back    string
	Problem string
	Reasons []string
}

// correctReasons are the reasons offered for striking a record.
var correctReasons = []string{"recorded in error", "wrong cell or landing", "wrong outcome or number", "entered twice", "signed too early"}

// correctScreen is GET /records/{wing}/{seq}/correct: what is struck,
// and why.
func (s *Server) correctScreen(w http.ResponseWriter, r *http.Request) {
	id, err := recordID(r)
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, "No such record", "This address does not name a record.")
		return
	}
	p := correctPage{Header: s.shiftHeader(s.view()), ID: id, Back: safeNext(r.URL.Query().Get("back")), Reasons: correctReasons}
	if rec, ok := s.recordOf(r, id); ok {
		p.Record = rec
	} else {
		s.refuse(w, r, http.StatusNotFound, "No such record", "There is no record "+id.String()+" on this wing.")
		return
	}
	s.render(w, r, http.StatusOK, correctView(p))
}

// recordOf finds a record of this wing by its id, among the kinds a
// correction may strike.
func (s *Server) recordOf(r *http.Request, id event.ID) (event.Event, bool) {
	q := event.Query{Wing: id.Wing, Kinds: []event.Kind{event.ObservationChecked, event.RollCounted, event.RollSigned, event.HandoverSigned, event.HandoverRead}, Limit: 1000}
	for range 20 {
		page, err := s.wing.Query(r.Context(), q)
		if err != nil {
			return event.Event{}, false
		}
		for _, rec := range page.Records {
			if rec.Event.ID() == id {
				return rec.Event, true
			}
			if rec.Event.Seq < id.Seq && rec.Event.Wing == id.Wing {
				return event.Event{}, false // newest first: it would have come
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	return event.Event{}, false
}

// correctAction is POST /records/{wing}/{seq}/correct (behind needs).
func (s *Server) correctAction(w http.ResponseWriter, r *http.Request) {
	id, err := recordID(r)
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, "No such record", "This address does not name a record.")
		return
	}
	by, _ := s.actor(r)
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	back := safeNext(form.Get("back"))
	reason := strings.TrimSpace(form.Get("reason"))
	if more := strings.TrimSpace(form.Get("detail")); more != "" {
		reason = strings.TrimSpace(reason + ": " + more)
	}
	ctx, cancel := contextFor(r)
	defer cancel()
	if err = checkNote(reason); err == nil {
		err = s.wing.Correct(ctx, by, id, reason)
	}
	if err != nil {
		status, problem := shiftProblem(err)
		if status == http.StatusInternalServerError {
			s.logError(r.Context(), "correct record", err, "record", id)
		}
		p := correctPage{Header: s.shiftHeader(s.view()), ID: id, Back: back, Problem: problem, Reasons: correctReasons}
		p.Record, _ = s.recordOf(r, id)
		s.render(w, r, status, correctView(p))
		return
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+url.Values{"struck": {id.String()}}.Encode(), http.StatusSeeOther)
}

// recordSummary is a record in words, for the correction page.
func recordSummary(e event.Event) string {
	switch e.Kind {
	case event.ObservationChecked:
		c := wing.CheckFromEvent(e)
		return "Check of " + c.Cell + " at " + dateTime(c.At) + " by " + c.By + ": " + outcomeLabel(c.Outcome) + ", " + howLabel(c)
	case event.RollCounted:
		c := wing.CountFromEvent(e)
		return "Count of landing " + c.Landing + " at " + dateTime(c.At) + " by " + c.By + ": " + itoa(c.Counted) + " of " + itoa(c.Expected)
	case event.RollSigned:
		return "Roll signed at " + dateTime(e.Wall) + " by " + e.Actor
	case event.HandoverSigned:
		return "Handover signed at " + dateTime(e.Wall) + " by " + e.Actor
	case event.HandoverRead:
		return "Handover read at " + dateTime(e.Wall) + " by " + e.Actor
	}
	return eventLabel(e.Kind) + " at " + dateTime(e.Wall) + " by " + e.Actor
}

func itoa(n int) string { return strconv.Itoa(n) }

// openLabel names an open item's kind.
func openLabel(what string) string {
	switch what {
	case shift.OpenAlarm:
		return "Alarm"
	case shift.OpenFault:
		return "Fault"
	case shift.OpenOverdueCheck:
		return "Overdue check"
	case shift.OpenOutOfWing:
		return "Out of the wing"
	}
	return what
}

// ownerLabel names an open item's owner.
func ownerLabel(owner string) string {
	if owner == shift.OwnerInCharge {
		return "officer in charge"
	}
	return owner
}

// outcomeWords is an alarm's outcome in words.
func outcomeWords(o string) string {
	switch o {
	case wing.OutcomeCheckRecorded:
		return "check recorded"
	case wing.OutcomePlanEnded:
		return "plan ended"
	}
	return config.OutcomeLabel(o)
}

// stepWhere says where an alarm was attended.
func stepWhere(st *shift.Step) string {
	if st == nil {
		return ""
	}
	if st.How == wing.AttendedAtReset {
		return "at the cell door"
	}
	return st.Where
}

// nOf writes a count with its noun, one or many.
func nOf(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
