package ui

import (
	"fmt"
	"net/http"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/wing"
)

// The wing's regime (unlock, lock-up, night) is in the header of every
// page: a door opened at night raises an alarm, so everyone at the screen
// must know which it is. It follows the wing's schedule; a supervisor may
// set it until the schedule's next change (/regime).

// regimeChip is the regime in the header.
type regimeChip struct {
	Regime wing.Regime
	By     string // the supervisor who set it, when it was set by hand
	Since  string // when it began (time of day), when known
}

// regimeLabel is a regime's word in the header.
func regimeLabel(r wing.Regime) string {
	switch r {
	case wing.Unlock:
		return "UNLOCKED"
	case wing.LockUp:
		return "LOCK-UP"
	case wing.Night:
		return "NIGHT"
	}
	return string(r)
}

// regimeButton is a regime's name on the button that sets it.
func regimeButton(r wing.Regime) string {
	switch r {
	case wing.Unlock:
		return "Unlock"
	case wing.LockUp:
		return "Lock up"
	case wing.Night:
		return "Night"
	}
	return string(r)
}

// regimeChip is the wing's regime now: the schedule's, or a supervisor's
// since the schedule's last change.
func (v view) regimeChip() regimeChip {
	c := regimeChip{Regime: v.state.RegimeAt(v.layout.ID, v.layout.Schedule, v.now)}
	if set, ok := v.state.Regimes[v.layout.ID]; ok && set.Regime == c.Regime && !set.Since.After(v.now) && manualInForce(v, set) {
		c.By, c.Since = set.By, clockTimeNear(set.Since, v.now)
	}
	return c
}

// manualInForce reports whether a supervisor's setting still holds: no
// scheduled change has come since.
func manualInForce(v view, set wing.RegimeSet) bool {
	for _, sc := range v.layout.Schedule {
		midnight := time.Date(v.now.Year(), v.now.Month(), v.now.Day(), 0, 0, 0, 0, v.now.Location())
		for _, day := range []int{0, -1} {
			at := midnight.AddDate(0, 0, day).Add(sc.At)
			if at.After(set.Since) && !at.After(v.now) {
				return false
			}
		}
	}
	return true
}

// scheduleRow is one of the wing's daily regime changes.
type scheduleRow struct {
	At     string // "19:45"
	Regime wing.Regime
}

type regimePage struct {
	Header   header
	Current  regimeChip
	Schedule []scheduleRow
	Regimes  []wing.Regime
	Problem  string
}

func (v view) schedule() []scheduleRow {
	var out []scheduleRow
	for _, sc := range v.layout.Schedule.Sorted() {
		out = append(out, scheduleRow{At: fmt.Sprintf("%02d:%02d", int(sc.At/time.Hour), int(sc.At/time.Minute)%60), Regime: sc.Regime})
	}
	return out
}

// regimeScreen is GET /regime: the regime, the schedule, and for a
// supervisor the buttons that set it.
func (s *Server) regimeScreen(w http.ResponseWriter, r *http.Request) {
	v := s.view()
	s.render(w, r, http.StatusOK, regimeView(regimePage{Header: s.header(v), Current: v.regimeChip(), Schedule: v.schedule(), Regimes: wing.Regimes()}))
}

// regimeAction is POST /regime (behind needs): a supervisor sets the
// regime; the screen goes back to the regime page.
func (s *Server) regimeAction(w http.ResponseWriter, r *http.Request) {
	officer, _ := s.actor(r)
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	regime, err := wing.ParseRegime(form.Get("regime"))
	if err != nil {
		s.renderMessage(w, r, http.StatusBadRequest, "Regime not set", "Nothing was recorded: "+err.Error()+". Choose one of the buttons on the regime page.")
		return
	}
	if err := s.wing.SetRegime(r.Context(), officer, regime); err != nil {
		s.logError(r.Context(), "set regime", err)
		s.renderMessage(w, r, http.StatusInternalServerError, "Regime not set", "The regime could not be recorded, so the wing stays as it was. Try again; if it keeps failing, report it.")
		return
	}
	http.Redirect(w, r, "/regime", http.StatusSeeOther)
}

type (
	apiRegimeRequest struct {
		Regime string `json:"regime"`
	}
	apiRegimeResult struct {
		Regime          wing.Regime `json:"regime"`
		Officer         string      `json:"officer"`
		OfficerVerified bool        `json:"officer_verified"`
	}
	apiRegime struct {
		Regime wing.Regime `json:"regime"`
		// SetBy is the supervisor who set it, while a setting by hand
		// holds; absent when it is the schedule's.
		SetBy string    `json:"set_by,omitempty"`
		Since time.Time `json:"since,omitzero"`
	}
)

// apiSetRegime is POST /api/v1/regime (behind needs).
func (s *Server) apiSetRegime(w http.ResponseWriter, r *http.Request) {
	officer, _ := s.actor(r)
	var req apiRegimeRequest
	if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxActionBody}); err != nil {
		api.RefuseBody(w, err, "Send {\"regime\": \"unlock\"}, \"lockup\" or \"night\".")
		return
	}
	regime, err := wing.ParseRegime(req.Regime)
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, "regime: "+err.Error()+".")
		return
	}
	if err := s.wing.SetRegime(r.Context(), officer, regime); err != nil {
		s.logError(r.Context(), "api set regime", err)
		api.WriteError(w, http.StatusInternalServerError, "The regime could not be recorded, so the wing stays as it was. Try again.")
		return
	}
	api.WriteJSON(w, http.StatusOK, apiRegimeResult{Regime: regime, Officer: officer.ID, OfficerVerified: true})
}

// apiRegimeOf is the regime in GET /api/v1/state.
func (v view) apiRegimeOf() apiRegime {
	out := apiRegime{Regime: v.state.RegimeAt(v.layout.ID, v.layout.Schedule, v.now)}
	if set, ok := v.state.Regimes[v.layout.ID]; ok && set.Regime == out.Regime && manualInForce(v, set) && !set.Since.After(v.now) {
		out.SetBy, out.Since = set.By, set.Since
	}
	return out
}
