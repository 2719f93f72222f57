package ui

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"wingnode/appliance/roster"
)

// rosterTimeout bounds a roster change: the site must agree it.
const rosterTimeout = 10 * time.Second

// officersPage is the roster as a supervisor manages it: add an officer,
// remove one, reset a PIN; site IT also changes roles.
type officersPage struct {
	Header   header
	By       roster.Actor
	Officers []roster.Actor
	Roles    []roster.Role // the roles By may give a new officer
	Done     string        // what the last change did, in words
	Problem  string
	Isolated bool
}

// changesRoles reports whether the page offers role changes (site IT's).
func (p officersPage) changesRoles() bool { return p.By.Role == roster.SiteIT }

// manages reports whether By may remove o or reset o's PIN.
func (p officersPage) manages(o roster.Actor) bool { return p.By.Role.Allows(o.Role) }

// officersPageFor is the officers page for the signed-in officer by.
func (s *Server) officersPageFor(by roster.Actor) officersPage {
	v := s.view()
	h := s.header(v)
	h.Live = liveFrame
	p := officersPage{Header: h, By: by, Officers: s.wing.Roster(), Isolated: v.site.Isolated}
	for _, r := range roster.Roles() {
		if by.Role.Allows(r) {
			p.Roles = append(p.Roles, r)
		}
	}
	return p
}

// signedInAs guards a page that only an officer of role may read: it
// shows the sign-in pad, or says who may.
func (s *Server) signedInAs(role roster.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		actor, ok := s.actor(r)
		if !ok {
			s.signInNeeded(w, r, "Sign in as a "+roleName(role)+" to see this page.", comeBack(r))
			return
		}
		if !actor.Role.Allows(role) {
			s.refuse(w, r, http.StatusForbidden, "Not allowed", "This page is for a "+roleName(role)+": officer "+actor.ID+" is signed in as "+roleName(actor.Role)+".")
			return
		}
		h(w, r)
	}
}

// officersScreen is GET /officers.
func (s *Server) officersScreen(w http.ResponseWriter, r *http.Request) {
	by, _ := s.actor(r)
	p := s.officersPageFor(by)
	p.Done = doneSentence(r.URL.Query().Get("done"), r.URL.Query().Get("officer"))
	s.render(w, r, http.StatusOK, officersView(p))
}

// doneSentence says what a roster change did, for the page after it.
func doneSentence(done, officer string) string {
	if !roster.ValidID(officer) {
		return ""
	}
	switch done {
	case "added":
		return "Officer " + officer + " was added to the site's roster. They sign in with the PIN you gave."
	case "removed":
		return "Officer " + officer + " was removed from the site's roster."
	case "pin-reset":
		return "Officer " + officer + "'s PIN was reset. Give them the new PIN in person."
	case "role-changed":
		return "Officer " + officer + "'s role was changed."
	}
	return ""
}

// officerChange is one roster change from the officers page's forms.
func (s *Server) officerChange(what string, change func(ctx context.Context, by roster.Actor, officer string, form url.Values) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		by, _ := s.actor(r)
		form, ok := s.readForm(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), rosterTimeout)
		defer cancel()
		err := change(ctx, by, r.PathValue("officer"), form)
		if err != nil {
			status, sentence := rosterProblem(err)
			if status == http.StatusInternalServerError {
				s.logError(r.Context(), "roster "+what, err)
			}
			p := s.officersPageFor(by)
			p.Problem = sentence
			s.render(w, r, status, officersView(p))
			return
		}
		officer := r.PathValue("officer")
		if officer == "" {
			officer = strings.TrimSpace(form.Get("officer"))
		}
		http.Redirect(w, r, "/officers?"+url.Values{"done": {what}, "officer": {officer}}.Encode(), http.StatusSeeOther)
	}
}

// rosterProblem turns a roster change's error into a status and a
// sentence: nothing changed.
func rosterProblem(err error) (int, string) {
	switch {
	case errors.Is(err, ErrNotAllowed):
		return http.StatusForbidden, "Not done: " + reasonOf(err) + "."
	case errors.Is(err, ErrSiteUnreachable):
		return http.StatusServiceUnavailable, "Not done: this wing cannot reach enough of the site to agree a change to the roster. Officers still sign in against the roster this wing holds; try again when the site link is back."
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "Not done: the site did not agree the change in time. Look at the roster below before trying again."
	}
	return http.StatusBadRequest, "Not done: " + reasonOf(err) + "."
}

// reasonOf is an error's text as a sentence for the officer: without the
// sentinel it wraps.
func reasonOf(err error) string {
	return strings.TrimSuffix(strings.TrimPrefix(err.Error(), ErrNotAllowed.Error()+": "), ".")
}

func (s *Server) addOfficer(ctx context.Context, by roster.Actor, _ string, form url.Values) error {
	return s.wing.AddOfficer(ctx, by, strings.TrimSpace(form.Get("officer")), roster.Role(form.Get("role")), form.Get("pin"))
}

func (s *Server) removeOfficer(ctx context.Context, by roster.Actor, officer string, _ url.Values) error {
	return s.wing.RemoveOfficer(ctx, by, officer)
}

func (s *Server) resetPIN(ctx context.Context, by roster.Actor, officer string, form url.Values) error {
	return s.wing.ResetPIN(ctx, by, officer, form.Get("pin"))
}

func (s *Server) setRole(ctx context.Context, by roster.Actor, officer string, form url.Values) error {
	return s.wing.SetRole(ctx, by, officer, roster.Role(form.Get("role")))
}
