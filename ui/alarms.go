package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// alarmActionKind is an officer's step on an alarm, as named in the URL
// and the API: one word for one thing, on the screen, in the routes and
// in the API.
type alarmActionKind string

const (
	actionAcknowledge   alarmActionKind = "acknowledge"
	actionAttend        alarmActionKind = "attend"
	actionResolve       alarmActionKind = "resolve"
	actionCloseRemotely alarmActionKind = "close-remotely"
)

var errBadAlarmID = errors.New("not an alarm id")

// errNotReceived is what actionProblem is given for an alarm of another
// wing whose raising has not reached this wing yet.
var errNotReceived = errors.New("alarm not received yet")

// alarmID reads the alarm's id from the {wing} and {seq} path segments.
func alarmID(r *http.Request) (event.ID, error) {
	seq, err := strconv.ParseUint(r.PathValue("seq"), 10, 64)
	if err != nil || seq == 0 || r.PathValue("wing") == "" {
		return event.ID{}, fmt.Errorf("%w: %q/%q", errBadAlarmID, r.PathValue("wing"), r.PathValue("seq"))
	}
	return event.ID{Wing: r.PathValue("wing"), Seq: seq}, nil
}

// checkNote refuses a note that breaks the one rule for text.
func checkNote(note string) error { return event.CheckText("note", note) }

// errNoOutcome and errNoReason are what an officer is told when the
// outcome of a resolve, or the reason of a remote close, is missing.
var (
	errNoOutcome = errors.New("no outcome chosen")
	errNoReason  = errors.New("no reason given")
)

// act records the officer's step (the actor is always the signed-in
// officer, Server.actor: a name sent by the browser would be unverified).
// text is the note of a resolve or the reason of a remote close.
func (s *Server) act(ctx context.Context, by roster.Actor, action alarmActionKind, id event.ID, outcome, text string) error {
	var err error
	switch action {
	case actionAcknowledge:
		err = s.wing.Acknowledge(ctx, id, by)
	case actionAttend:
		err = s.wing.Attend(ctx, id, by)
	case actionResolve:
		if outcome == "" {
			return errNoOutcome
		}
		if !slices.Contains(s.wing.Layout().Outcomes, outcome) {
			return fmt.Errorf("%w: %q is not one of the wing's outcomes", errNoOutcome, outcome)
		}
		err = s.wing.Resolve(ctx, id, by, outcome, text)
	case actionCloseRemotely:
		if strings.TrimSpace(text) == "" {
			return errNoReason
		}
		err = s.wing.CloseRemotely(ctx, id, by, text)
	}
	if errors.Is(err, wing.ErrNoSuchAlarm) && s.notReceived(id) {
		return fmt.Errorf("%w: %w", errNotReceived, err)
	}
	return err
}

// notReceived reports whether id may be an alarm of another wing of the
// site that this wing has not received yet: its seq is past the newest
// this wing holds of that wing, or that wing has sent nothing yet.
func (s *Server) notReceived(id event.ID) bool {
	if id.Wing == s.wing.Layout().ID {
		return false // this wing's own events are here once recorded
	}
	if c, ok := s.wing.State().Wings[id.Wing]; ok {
		return id.Seq > c.LastSeq
	}
	return slices.ContainsFunc(s.wing.Site().Wings, func(w WingLink) bool { return w.Wing == id.Wing })
}

// actionProblem turns an error from Wing into a status and a sentence that
// says what to do.
func actionProblem(id event.ID, err error) (int, string) {
	switch {
	case errors.Is(err, errNotReceived):
		return http.StatusConflict, fmt.Sprintf("Alarm %s has not reached this wing yet: wing %s's events are still on their way. Wait a few seconds and try again.", id, id.Wing)
	case errors.Is(err, errNoOutcome):
		return http.StatusBadRequest, fmt.Sprintf("Alarm %s was not resolved: choose what was found (the outcome) from the wing's list.", id)
	case errors.Is(err, errNoReason):
		return http.StatusBadRequest, fmt.Sprintf("Alarm %s was not closed: a remote close is an exception, so give the reason.", id)
	case errors.Is(err, wing.ErrNoSuchAlarm):
		return http.StatusNotFound, fmt.Sprintf("There is no alarm %s on record. Go back to the overview and choose the alarm there.", id)
	case errors.Is(err, wing.ErrNotRaised):
		return http.StatusConflict, fmt.Sprintf("Alarm %s has not been raised on this wing yet: its raising has not arrived. Wait a few seconds and try again.", id)
	case errors.Is(err, wing.ErrAlarmResolved):
		return http.StatusConflict, fmt.Sprintf("Alarm %s has already been resolved, so there is nothing more to do.", id)
	case errors.Is(err, wing.ErrNotAcknowledged):
		return http.StatusConflict, fmt.Sprintf("Alarm %s is not acknowledged yet: acknowledge it first, then resolve it.", id)
	case errors.Is(err, wing.ErrNotAttended):
		return http.StatusConflict, fmt.Sprintf("Cell call %s has not been attended at the cell door: go to the cell and turn its reset key. A supervisor may close it remotely, with a reason.", id)
	case errors.Is(err, wing.ErrAttendAtSource):
		return http.StatusConflict, fmt.Sprintf("Cell call %s is attended at the cell door only: go to the cell and turn its reset key.", id)
	}
	return http.StatusInternalServerError, fmt.Sprintf("The action on alarm %s could not be recorded. Try again; if it keeps failing, follow the wing's manual alarm procedure and report the fault.", id)
}

// alarmAction handles the overview's Acknowledge and Attend forms, and
// the Resolve and Close remotely pages' forms (behind needs): on success
// it goes back to the overview, so it works without script.
func (s *Server) alarmAction(action alarmActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		id, err := alarmID(r)
		if err != nil {
			s.renderMessage(w, r, http.StatusNotFound, "No such alarm",
				"This address does not name an alarm. Go back to the overview and choose the alarm there.")
			return
		}
		form, ok := s.readForm(w, r)
		if !ok {
			return
		}
		var outcome, text string
		switch action {
		case actionResolve:
			outcome, text = form.Get("outcome"), form.Get("note")
			if err := checkNote(text); err != nil {
				s.renderMessage(w, r, http.StatusBadRequest, "Note too long", "Nothing was recorded: "+err.Error()+".")
				return
			}
		case actionCloseRemotely:
			text = strings.TrimSpace(form.Get("reason"))
			if err := event.CheckText("reason", text); err != nil {
				s.renderMessage(w, r, http.StatusBadRequest, "Reason too long", "Nothing was recorded: "+err.Error()+".")
				return
			}
		}
		if err := s.act(r.Context(), officer, action, id, outcome, text); err != nil {
			status, sentence := actionProblem(id, err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "alarm "+string(action), err, "alarm", id)
			}
			s.renderMessage(w, r, status, "Alarm not updated", sentence)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}

// alarmStepPage is the Resolve or the Close remotely page of one alarm:
// the alarm's card, then what the step needs.
type alarmStepPage struct {
	Header   header
	Card     alarmCard
	Outcomes []outcomeChoice
	// Supervises is true when the officer signed in may close it remotely.
	Supervises bool
}

// alarmStepScreen is GET /alarms/{wing}/{seq}/resolve and
// /close-remotely: it asks for the outcome and a note, or for the reason,
// before anything is recorded. It says why instead when the step cannot
// be taken now.
func (s *Server) alarmStepScreen(action alarmActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := alarmID(r)
		if err != nil {
			s.renderMessage(w, r, http.StatusNotFound, "No such alarm",
				"This address does not name an alarm. Go back to the overview and choose the alarm there.")
			return
		}
		v := s.view()
		a, err := v.state.Actionable(id)
		if err == nil && action == actionResolve {
			err = a.CanResolve()
		}
		if err != nil {
			if errors.Is(err, wing.ErrNoSuchAlarm) && s.notReceived(id) {
				err = errNotReceived
			}
			status, sentence := actionProblem(id, err)
			s.renderMessage(w, r, status, "Nothing to do here", sentence)
			return
		}
		h := s.header(v)
		p := alarmStepPage{Header: h, Card: v.card(a), Outcomes: v.outcomes(), Supervises: visitOf(r.Context()).supervises()}
		if action == actionResolve {
			s.render(w, r, http.StatusOK, resolveView(p))
			return
		}
		s.render(w, r, http.StatusOK, closeRemotelyView(p))
	}
}
