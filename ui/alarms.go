package ui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// alarmActionKind is an officer's step on an alarm, as named in the URL.
type alarmActionKind string

const (
	actionAcknowledge alarmActionKind = "acknowledge"
	actionClear       alarmActionKind = "clear"
)

// maxActionBody bounds the form or JSON body of an alarm action.
const maxActionBody = 8 << 10

var errBadAlarmID = errors.New("not an alarm id")

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

// act records the officer's step (the actor is always the signed-in
// officer, Server.actor: a name sent by the browser would be unverified). Resolving takes the outcome chosen, or
// the wing's first outcome when none was.
func (s *Server) act(ctx context.Context, by roster.Actor, action alarmActionKind, id event.ID, outcome, note string) error {
	if action == actionAcknowledge {
		return s.wing.Acknowledge(ctx, id, by)
	}
	if outcome == "" && len(s.wing.Layout().Outcomes) > 0 {
		outcome = s.wing.Layout().Outcomes[0]
	}
	return s.wing.Resolve(ctx, id, by, outcome, note)
}

// actionProblem turns an error from Wing into a status and a sentence that
// says what to do.
func actionProblem(id event.ID, err error) (int, string) {
	switch {
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

// alarmAction handles the overview's Acknowledge and Resolve forms (behind
// needs): on success it redirects to the overview, so it works without
// script.
func (s *Server) alarmAction(action alarmActionKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		officer, _ := s.actor(r)
		id, err := alarmID(r)
		if err != nil {
			s.renderMessage(w, r, http.StatusNotFound, "No such alarm",
				"This address does not name an alarm. Go back to the overview and choose the alarm there.")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxActionBody)
		note := r.PostFormValue("note")
		if err := checkNote(note); err != nil {
			s.renderMessage(w, r, http.StatusBadRequest, "Note too long", "Nothing was recorded: "+err.Error()+".")
			return
		}
		if err := s.act(r.Context(), officer, action, id, r.PostFormValue("outcome"), note); err != nil {
			status, text := actionProblem(id, err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "alarm "+string(action), err, "alarm", id)
			}
			s.renderMessage(w, r, status, "Alarm not updated", text)
			return
		}
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}
