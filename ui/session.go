package ui

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wingnode/appliance/api"
	"wingnode/appliance/roster"
)

// Sessions: who is signed in at which browser. They are this wing's own
// and live in memory (appliance/signin/DESIGN.md says why): a restart
// signs everyone out.
//
// Every browser carries one cookie, sessionCookie, holding a random id.
// While an officer is signed in at the browser the id names a session
// here; otherwise it names nothing and the browser is signed out. The
// CSRF token of the browser's forms and of its script's calls is an HMAC
// of that id under a key made at start: bound to the browser's cookie, so
// a page elsewhere can neither read nor make it, and changed whenever the
// id is (at every sign-in and sign-out).

// sessionCookie names the cookie that carries a browser's id.
const sessionCookie = "wingnode_session"

// csrfField and csrfHeader carry the CSRF token in a form and in a call
// from the page's script.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// touchEvery is how often, at most, the page's script tells the server
// that the screen is being touched (POST /session/touch).
const touchEvery = 30 * time.Second

// maxSessions bounds the signed-in sessions of a wing; when one more
// officer signs in, the session touched longest ago ends as if idle.
const maxSessions = 256

// sweepEvery is how often idle sessions are ended.
const sweepEvery = time.Second

// session is one officer signed in at one browser.
type session struct {
	actor   roster.Actor
	touched time.Time // the latest touch of the screen the server knows of
}

// sessions are the signed-in sessions of this wing, by browser id.
type sessions struct {
	key  []byte // for CSRF tokens
	idle time.Duration
	now  func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{key: []byte(rand.Text()), idle: idle, now: now, byID: map[string]*session{}}
}

// newID is a new browser id: 26 random base32 characters (130 bits).
func newID() string { return rand.Text() }

// token is the CSRF token of the browser with id.
func (ss *sessions) token(id string) string {
	m := hmac.New(sha256.New, ss.key)
	m.Write([]byte("csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// lookup returns the officer signed in at the browser with id, and how
// long the session has left untouched, unless it has gone idle.
func (ss *sessions) lookup(id string) (roster.Actor, time.Duration, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	if !ok {
		return roster.Actor{}, 0, false
	}
	left := ss.idle - ss.now().Sub(s.touched)
	if left <= 0 {
		return roster.Actor{}, 0, false
	}
	return s.actor, left, true
}

// start signs a in at a browser with a new id, and returns the id and the
// session that made way for it, if any.
func (ss *sessions) start(a roster.Actor) (id string, evicted *roster.Actor) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= maxSessions {
		var oldest string
		for k, s := range ss.byID {
			if oldest == "" || s.touched.Before(ss.byID[oldest].touched) {
				oldest = k
			}
		}
		evicted = &ss.byID[oldest].actor
		delete(ss.byID, oldest)
	}
	id = newID()
	ss.byID[id] = &session{actor: a, touched: ss.now()}
	return id, evicted
}

// end ends the session at the browser with id, if there is one.
func (ss *sessions) end(id string) (roster.Actor, bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	delete(ss.byID, id)
	if !ok {
		return roster.Actor{}, false
	}
	return s.actor, true
}

// touch notes that the screen of the browser with id was touched ago.
func (ss *sessions) touch(id string, ago time.Duration) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[id]
	now := ss.now()
	if !ok || now.Sub(s.touched) >= ss.idle {
		return false
	}
	if t := now.Add(-min(max(ago, 0), touchEvery)); t.After(s.touched) {
		s.touched = t
	}
	return true
}

// update gives each session's officer the role the roster gives now, and
// ends the sessions of officers no longer on it, returning them.
func (ss *sessions) update(officers []roster.Actor) (removed []roster.Actor) {
	role := make(map[string]roster.Role, len(officers))
	for _, a := range officers {
		role[a.ID] = a.Role
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for id, s := range ss.byID {
		r, ok := role[s.actor.ID]
		if !ok {
			removed = append(removed, s.actor)
			delete(ss.byID, id)
			continue
		}
		s.actor.Role = r
	}
	return removed
}

// expire ends the sessions idle for ss.idle and returns their officers.
func (ss *sessions) expire() []roster.Actor {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []roster.Actor
	now := ss.now()
	for id, s := range ss.byID {
		if now.Sub(s.touched) >= ss.idle {
			out = append(out, s.actor)
			delete(ss.byID, id)
		}
	}
	return out
}

// visit is who is at the screen for one request: the browser's id, its
// CSRF token, where the request comes from, and the officer signed in.
type visit struct {
	id       string
	token    string
	onBoard  bool   // from this machine: the kiosk
	path     string // the page asked for, to come back to after signing in
	idle     time.Duration
	left     time.Duration // of idle, before the session ends untouched
	actor    roster.Actor
	signedIn bool
}

// supervises reports whether a supervisor or site IT is signed in.
func (v visit) supervises() bool { return v.signedIn && v.actor.Role.Allows(roster.Supervisor) }

type visitKey struct{}

// visitOf returns the request's visit; the zero visit outside ServeHTTP.
func visitOf(ctx context.Context) visit {
	v, _ := ctx.Value(visitKey{}).(visit)
	return v
}

// csrfToken is the CSRF token of the request's browser, for its forms.
func csrfToken(ctx context.Context) string { return visitOf(ctx).token }

// actor returns the officer signed in at the request's browser, with the
// role the roster gives now. Every mutating handler acts for it.
func (s *Server) actor(r *http.Request) (roster.Actor, bool) {
	v := visitOf(r.Context())
	return v.actor, v.signedIn
}

// visit reads the request's browser id, giving the browser one when it
// has none.
func (s *Server) visit(w http.ResponseWriter, r *http.Request) visit {
	v := visit{onBoard: fromLoopback(r.RemoteAddr), path: r.URL.RequestURI(), idle: s.sessions.idle}
	if c, err := r.Cookie(sessionCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		v.id = c.Value
	} else {
		v.id = newID()
		setBrowserID(w, v.id)
	}
	v.token = s.sessions.token(v.id)
	if a, left, ok := s.sessions.lookup(v.id); ok {
		// The role is the roster's now; an officer who left it is signed
		// out (and the sweep records it).
		officers := s.wing.Roster()
		if i := slices.IndexFunc(officers, func(o roster.Actor) bool { return o.ID == a.ID }); i >= 0 {
			v.actor, v.signedIn, v.left = officers[i], true, left
		}
	}
	return v
}

// setBrowserID gives the browser its id, replacing any set earlier in the
// same answer: never readable by script, never sent with a request
// another site starts.
func setBrowserID(w http.ResponseWriter, id string) {
	w.Header().Del("Set-Cookie") // the wing sets no other cookie
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// fromLoopback reports whether a request's remote address is this machine.
func fromLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostAllowed reports whether the request's Host names this wing: a
// configured name or address, or loopback.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return true
	}
	return host != "" && slices.Contains(s.opt.Hosts, host)
}

// isAPI reports whether the request is for the JSON API.
func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// openToAll reports whether a browser off the board may reach path
// signed out: the health check, the sign-in pad and what it is made of.
func openToAll(path string) bool {
	return path == "/healthz" || path == "/signin" || path == "/api/v1/signin" || strings.HasPrefix(path, "/static/")
}

// refuseHost answers a request for a host the wing does not answer to.
// It carries nothing of the wing: with DNS rebinding, another site's page
// could read it.
func refuseHost(w http.ResponseWriter, r *http.Request) {
	const text = "This wing does not answer to the name %q. Open the wing's screens at the address site IT gave (one of the wing record's hosts in the wing's configuration), or on the wing's own screen."
	msg := strings.Replace(text, "%q", strconv.Quote(r.Host), 1)
	if isAPI(r) {
		api.WriteError(w, http.StatusMisdirectedRequest, msg)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMisdirectedRequest)
	w.Write([]byte(msg + "\n"))
}

// signInNeeded answers a request that needs a signed-in officer: the
// sign-in pad on pages (coming back to next), a sentence in the API.
func (s *Server) signInNeeded(w http.ResponseWriter, r *http.Request, sentence, next string) {
	if isAPI(r) || r.URL.Path == "/live" || r.URL.Path == "/session/touch" {
		api.WriteError(w, http.StatusUnauthorized, sentence)
		return
	}
	s.renderSignIn(w, r, http.StatusUnauthorized, signInForm{Problem: sentence, Next: next})
}

// comeBack is the page to return to after signing in for r: the page the
// request came from, when it is this wing's, or the overview.
func comeBack(r *http.Request) string {
	if r.Method == http.MethodGet {
		return safeNext(r.URL.RequestURI())
	}
	if u, err := url.Parse(r.Referer()); err == nil && u.Host == r.Host {
		return safeNext(u.RequestURI())
	}
	return "/"
}

// safeNext is next when it is a path on this wing, and the overview
// otherwise: a sign-in never sends the browser elsewhere.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") ||
		strings.HasPrefix(next, "/signin") {
		return "/"
	}
	return next
}

// checkCSRF reports whether the request carries its browser's CSRF token,
// in the X-CSRF-Token header or, for the screens, the form's csrf field
// (read by parseForm: a form it refuses carries no token).
func (s *Server) checkCSRF(w http.ResponseWriter, r *http.Request) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" && !isAPI(r) {
		if form, err := parseForm(w, r); err == nil {
			got = form.Get(csrfField)
		}
	}
	want := visitOf(r.Context()).token
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// refuse answers a refused request with a status and a sentence: a page
// or, for the API, JSON.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, title, sentence string) {
	if isAPI(r) || r.URL.Path == "/session/touch" {
		api.WriteError(w, status, sentence)
		return
	}
	s.renderMessage(w, r, status, title, sentence)
}

// crossOrigin refuses a request that another site's page started.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) bool {
	if err := s.origin.Check(r); err != nil {
		if isAPI(r) {
			api.WriteError(w, http.StatusForbidden, "This request came from another site's page, so it was refused. Call the API from a program, or act from the wing's screen.")
			return true
		}
		s.renderMessage(w, r, http.StatusForbidden, "Action refused",
			"This request came from another site, so it was refused. Act from the wing's screen itself.")
		return true
	}
	return false
}

// needs guards a route that changes something: the request must come from
// this wing's own pages (not another site's), for a signed-in officer
// whose role allows role, with its browser's CSRF token, and a screen's
// form must be read whole (readForm). Every refusal is answered before the
// handler runs, so it records nothing.
func (s *Server) needs(role roster.Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.crossOrigin(w, r) {
			return
		}
		actor, ok := s.actor(r)
		if !ok {
			s.signInNeeded(w, r, "Sign in first: acting on the wing needs a signed-in officer. Nothing was recorded.", comeBack(r))
			return
		}
		if !isAPI(r) {
			if _, ok := s.readForm(w, r); !ok {
				return
			}
		}
		if !s.checkCSRF(w, r) {
			s.refuse(w, r, http.StatusForbidden, "Action refused",
				"This request did not carry the screen's security token, so it was refused and nothing was recorded. Reload the page and try again.")
			return
		}
		if !actor.Role.Allows(role) {
			s.refuse(w, r, http.StatusForbidden, "Not allowed",
				"This needs a "+roleName(role)+": officer "+actor.ID+" is signed in as "+roleName(actor.Role)+". Nothing was recorded. Ask a "+roleName(role)+" to sign in.")
			return
		}
		s.sessions.touch(visitOf(r.Context()).id, 0)
		h(w, r)
	}
}

// roleName is a role in words.
func roleName(r roster.Role) string {
	switch r {
	case roster.Officer:
		return "officer"
	case roster.Supervisor:
		return "supervisor"
	case roster.SiteIT:
		return "site IT officer"
	}
	return string(r)
}

// sessionTouch is POST /session/touch: the page's script says the screen
// was touched ago=MILLISECONDS before, so the session stays alive while an
// officer works. 204 while signed in, 401 once signed out.
func (s *Server) sessionTouch(w http.ResponseWriter, r *http.Request) {
	if s.crossOrigin(w, r) {
		return
	}
	if !s.checkCSRF(w, r) {
		api.WriteError(w, http.StatusForbidden, "The screen's security token is missing or wrong: reload the page.")
		return
	}
	ms, _ := strconv.ParseInt(r.URL.Query().Get("ago"), 10, 64)
	if !s.sessions.touch(visitOf(r.Context()).id, time.Duration(ms)*time.Millisecond) {
		api.WriteError(w, http.StatusUnauthorized, "No officer is signed in at this screen.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// sweep ends idle sessions until the server closes, and records each.
func (s *Server) sweep() {
	t := time.NewTicker(s.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.endIdle()
		}
	}
}

// endIdle ends the sessions gone idle and records their sign-outs, and
// ends those of officers who left the roster.
func (s *Server) endIdle() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, a := range s.sessions.expire() {
		s.signedOut(ctx, a, SignOutIdle)
	}
	for _, a := range s.sessions.update(s.wing.Roster()) {
		s.signedOut(ctx, a, SignOutRemoved)
	}
}

// signedOut records that a's session ended.
func (s *Server) signedOut(ctx context.Context, a roster.Actor, reason string) {
	if err := s.wing.SignOut(ctx, a, reason); err != nil {
		s.logError(ctx, "record sign-out", err, "officer", a.ID, "reason", reason)
	}
}
