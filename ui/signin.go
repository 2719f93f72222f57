package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/roster"
)

// Officers is what the screens need of the wing's sign-in room and of the
// roster it checks against (part of Wing).
type Officers interface {
	// SignIn checks an officer number and PIN against the roster the wing
	// holds, records the outcome, and returns the officer with the role
	// the roster gives. It returns an error wrapping ErrSignInRefused when
	// the number and PIN do not match (whatever the reason), a
	// *LockedOutError while the officer is locked out after wrong PINs,
	// and any other error when the sign-in could not be recorded. No
	// error's text carries the PIN.
	SignIn(ctx context.Context, id, pin string) (roster.Actor, error)
	// SignOut records that a's session at a screen ended, for reason:
	// SignOutIdle, SignOutSwitch, SignOutSignedOut or SignOutRemoved.
	SignOut(ctx context.Context, a roster.Actor, reason string) error
	// Roster is the officers on the roster the wing holds, without their
	// PIN hashes. Every request of a signed-in officer calls it, so it
	// must answer from memory.
	Roster() []roster.Actor
	// AddOfficer, RemoveOfficer, ResetPIN and SetRole change the site's
	// roster for officer by, agreed through the site; each is recorded.
	// They return an error wrapping ErrNotAllowed when by may not make
	// the change, and ErrSiteUnreachable when the wing cannot reach
	// enough of the site to agree it; the text of any other error is shown
	// to the officer. Once one returns nil, Roster shows the change.
	AddOfficer(ctx context.Context, by roster.Actor, id string, role roster.Role, pin string) error
	RemoveOfficer(ctx context.Context, by roster.Actor, id string) error
	ResetPIN(ctx context.Context, by roster.Actor, id, pin string) error
	SetRole(ctx context.Context, by roster.Actor, id string, role roster.Role) error
}

// The reasons a session ends, as Officers.SignOut records them.
const (
	SignOutIdle      = "idle"
	SignOutSwitch    = "switch"
	SignOutSignedOut = "signed-out"
	SignOutRemoved   = "removed"
)

// ErrSignInRefused is wrapped by Officers.SignIn's error when the officer
// number and PIN do not match.
var ErrSignInRefused = errors.New("ui: the officer number and PIN do not match")

// ErrNotAllowed is wrapped by the error of a roster change the officer
// asking may not make.
var ErrNotAllowed = errors.New("ui: not allowed for this officer")

// LockedOutError is Officers.SignIn's error while the officer is locked
// out after too many wrong PINs.
type LockedOutError struct {
	Officer string
	Until   time.Time
}

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("ui: officer %s is locked out until %s", e.Officer, e.Until.Format(time.RFC3339))
}

// signInTimeout bounds a sign-in: one PIN check waits for the others.
const signInTimeout = 10 * time.Second

// signInForm is the sign-in pad's fields and what went wrong.
type signInForm struct {
	Officer string // as typed, shown again after a refusal; never the PIN
	Next    string // the page to go to once signed in
	Problem string
}

// signInPage is the sign-in pad. On the board it has the frame of every
// page (banners, alarms); off the board, signed out, it shows nothing of
// the wing.
type signInPage struct {
	Full     bool
	Header   header
	WingName string
	Form     signInForm
}

// renderSignIn writes the sign-in pad with status.
func (s *Server) renderSignIn(w http.ResponseWriter, r *http.Request, status int, f signInForm) {
	p := signInPage{Form: f, WingName: cmp.Or(s.wing.Layout().Name, s.wing.Layout().ID)}
	if v := visitOf(r.Context()); v.onBoard || v.signedIn {
		p.Full = true
		p.Header = s.header(s.view())
		p.Header.Live = liveFrame
	}
	s.render(w, r, status, signInView(p))
}

// signInPad is GET /signin: the pad.
func (s *Server) signInPad(w http.ResponseWriter, r *http.Request) {
	s.renderSignIn(w, r, http.StatusOK, signInForm{Next: safeNext(r.URL.Query().Get("next"))})
}

// officerAndPIN reads the officer number and PIN as typed, bounded.
func officerAndPIN(officer, pin string) (string, string, bool) {
	officer = strings.TrimSpace(officer)
	if len(officer) > roster.MaxID || len(pin) > 4*roster.MaxPIN {
		return "", "", false
	}
	return officer, pin, true
}

// signIn checks the officer and PIN and, when they match, signs the
// officer in at this browser under a new id (a quick switch when another
// officer was signed in here). It returns the new id, or the status and
// sentence of the refusal.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, officer, pin string) (id string, status int, sentence string) {
	ctx, cancel := context.WithTimeout(r.Context(), signInTimeout)
	defer cancel()
	a, err := s.wing.SignIn(ctx, officer, pin)
	var locked *LockedOutError
	switch {
	case errors.Is(err, ErrSignInRefused):
		return "", http.StatusUnauthorized, "That officer number and PIN do not match. Check both and try again."
	case errors.As(err, &locked):
		return "", http.StatusTooManyRequests, fmt.Sprintf("Too many wrong PINs for officer %s: signing in as %s is locked until %s. Another officer can sign in meanwhile; a supervisor can reset the PIN.",
			locked.Officer, locked.Officer, locked.Until.In(time.Local).Format("15:04:05"))
	case err != nil:
		s.logError(r.Context(), "sign in", err)
		return "", http.StatusServiceUnavailable, "The sign-in could not be recorded, so nobody is signed in. Try again; if it keeps failing, report it and follow the wing's manual procedure."
	}
	v := visitOf(r.Context())
	if before, ok := s.sessions.end(v.id); ok {
		s.signedOut(r.Context(), before, SignOutSwitch)
	}
	id, evicted := s.sessions.start(a)
	if evicted != nil {
		s.signedOut(r.Context(), *evicted, SignOutIdle)
	}
	setBrowserID(w, id)
	return id, 0, ""
}

// signInAction is POST /signin, the pad's form.
func (s *Server) signInAction(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if !s.checkCSRF(w, r) {
		s.renderSignIn(w, r, http.StatusForbidden, signInForm{Next: "/", Problem: "This sign-in did not carry the screen's security token. Nobody was signed in: try again on this page."})
		return
	}
	next := safeNext(form.Get("next"))
	officer, pin, ok := officerAndPIN(form.Get("officer"), form.Get("pin"))
	if !ok {
		s.renderSignIn(w, r, http.StatusBadRequest, signInForm{Next: next, Problem: "That is too long for an officer number or a PIN. Check both and try again."})
		return
	}
	if _, status, sentence := s.signIn(w, r, officer, pin); status != 0 {
		s.renderSignIn(w, r, status, signInForm{Officer: officer, Next: next, Problem: sentence})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signOutAction is POST /signout: reason=switch ends the session and shows
// the pad for the next officer; otherwise the officer signs out and the
// screen shows the overview.
func (s *Server) signOutAction(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	if !s.checkCSRF(w, r) {
		s.refuse(w, r, http.StatusForbidden, "Sign-out refused",
			"This request did not carry the screen's security token. Reload the page and sign out again.")
		return
	}
	reason, to := SignOutSignedOut, "/"
	if form.Get("reason") == SignOutSwitch {
		reason, to = SignOutSwitch, "/signin"
	}
	s.endSession(w, r, reason)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// endSession ends the session at the request's browser, if any, records
// it, and gives the browser a new id.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request, reason string) {
	if a, ok := s.sessions.end(visitOf(r.Context()).id); ok {
		s.signedOut(r.Context(), a, reason)
	}
	setBrowserID(w, newID())
}

type (
	apiSignInRequest struct {
		Officer string `json:"officer"`
		PIN     string `json:"pin"`
	}
	apiSignInResult struct {
		Officer   roster.Actor `json:"officer"`
		CSRFToken string       `json:"csrf_token"`
		IdleS     int64        `json:"idle_s"`
	}
)

// apiSignIn is POST /api/v1/signin: a program signs an officer in and gets
// the session cookie, and the token to send in X-CSRF-Token with each
// change. Only a JSON body is taken, which no other site's form can send.
func (s *Server) apiSignIn(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		api.WriteError(w, http.StatusUnsupportedMediaType, "Send {\"officer\": \"...\", \"pin\": \"...\"} as application/json.")
		return
	}
	var req apiSignInRequest
	if err := api.ReadJSON(w, r, &req, api.Body{Limit: maxActionBody}); err != nil {
		api.RefuseBody(w, err, "Send {\"officer\": \"...\", \"pin\": \"...\"}; nobody was signed in.")
		return
	}
	officer, pin, ok := officerAndPIN(req.Officer, req.PIN)
	if !ok {
		api.WriteError(w, http.StatusBadRequest, "officer, pin: too long for an officer number or a PIN.")
		return
	}
	id, status, sentence := s.signIn(w, r, officer, pin)
	if status != 0 {
		api.WriteError(w, status, sentence)
		return
	}
	a, _, _ := s.sessions.lookup(id)
	api.WriteJSON(w, http.StatusOK, apiSignInResult{Officer: a, CSRFToken: s.sessions.token(id), IdleS: int64(s.sessions.idle / time.Second)})
}

// apiSignOut is POST /api/v1/signout.
func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	if !s.checkCSRF(w, r) {
		api.WriteError(w, http.StatusForbidden, "Send the csrf_token of the sign-in in the X-CSRF-Token header.")
		return
	}
	s.endSession(w, r, SignOutSignedOut)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
