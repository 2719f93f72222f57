package ui

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/api"
	"wingnode/appliance/config"
	"wingnode/appliance/roster"
)

// contentSecurityPolicy allows only the appliance's own embedded assets: no
// inline script or style, no outside fonts, no framing.
const contentSecurityPolicy = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// Options configures a Server. The zero value works.
type Options struct {
	// Version is shown on the screen and by /healthz; empty shows "dev".
	Version string
	// Now is the clock for durations rendered by the server; nil means time.Now.
	Now func() time.Time
	// SignOutIdle is how long a signed-in officer may leave the screen
	// untouched before being signed out; zero means
	// config.DefaultSignOutIdle.
	SignOutIdle time.Duration
	// Hosts are the names and addresses the screens answer to besides
	// loopback (lower case, no port): a request naming another host is
	// refused.
	Hosts []string
	// ReadCredentials vouches for a request from off the board that
	// carries credentials other than a session (site IT's token): it may
	// read the screens and the API. Nothing acts without a signed-in
	// officer. Nil vouches for none.
	ReadCredentials func(*http.Request) bool
	// Streams bounds the live streams (/live and /live/shift) the
	// screens hold, per client and in all, the kiosk's on the board apart;
	// the zero value means api.StreamLimits.
	Streams api.Limits
	// Logger receives errors that the user cannot act on; nil means slog.Default().
	Logger *slog.Logger
}

// Server is the wing's web interface, an http.Handler.
type Server struct {
	wing     Wing
	opt      Options
	mux      *http.ServeMux
	origin   *http.CrossOriginProtection
	sessions *sessions

	closeOnce sync.Once
	done      chan struct{} // closed by Close: live streams end
	streams   *api.Gate     // admits live streams (Options.Streams)
	liveViews *liveViews    // the view the live streams share

	refreshEvery time.Duration // see the constant; tests shorten it
	siteEvery    time.Duration // see the constant; tests shorten it
	sweepEvery   time.Duration // see the constant; tests shorten it
	streamRetry  time.Duration // see the constant; tests shorten it
}

// New returns the web interface of w.
func New(w Wing, opt Options) *Server {
	if opt.Version == "" {
		opt.Version = "dev"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SignOutIdle <= 0 {
		opt.SignOutIdle = config.DefaultSignOutIdle
	}
	if opt.Streams == (api.Limits{}) {
		opt.Streams = api.StreamLimits()
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Server{
		wing:      w,
		opt:       opt,
		mux:       http.NewServeMux(),
		origin:    http.NewCrossOriginProtection(),
		done:      make(chan struct{}),
		streams:   api.NewGate(opt.Streams),
		liveViews: newLiveViews(),

		sessions: newSessions(opt.SignOutIdle, opt.Now),

		refreshEvery: refreshEvery,
		siteEvery:    siteEvery,
		sweepEvery:   sweepEvery,
		streamRetry:  streamRetry,
	}
	s.routes()
	go s.sweep()
	return s
}

func (s *Server) routes() {
	assets, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded folder is part of the build
	}
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(assets)))
	s.mux.HandleFunc("GET /{$}", s.overview)
	s.mux.HandleFunc("GET /events", s.events)
	s.mux.HandleFunc("GET /plan", s.planScreen)
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/acknowledge", s.needs(roster.Officer, s.alarmAction(actionAcknowledge)))
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/attend", s.needs(roster.Officer, s.alarmAction(actionAttend)))
	s.mux.HandleFunc("GET /alarms/{wing}/{seq}/resolve", s.alarmStepScreen(actionResolve))
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/resolve", s.needs(roster.Officer, s.alarmAction(actionResolve)))
	s.mux.HandleFunc("GET /alarms/{wing}/{seq}/close-remotely", s.alarmStepScreen(actionCloseRemotely))
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/close-remotely", s.needs(roster.Supervisor, s.alarmAction(actionCloseRemotely)))
	s.mux.HandleFunc("GET /regime", s.regimeScreen)
	s.mux.HandleFunc("POST /regime", s.needs(roster.Supervisor, s.regimeAction))
	s.mux.HandleFunc("GET /walktest", s.walkTestPage)
	s.mux.HandleFunc("POST /walktest/start", s.needs(roster.Supervisor, s.walkTestAction(true)))
	s.mux.HandleFunc("POST /walktest/end", s.needs(roster.Supervisor, s.walkTestAction(false)))
	s.mux.HandleFunc("GET /site", s.siteScreen)
	s.mux.HandleFunc("POST /site/lockdown/declare", s.needs(roster.Supervisor, s.lockdownAction(true)))
	s.mux.HandleFunc("POST /site/lockdown/end", s.needs(roster.Supervisor, s.lockdownAction(false)))
	s.mux.HandleFunc("GET /signin", s.signInPad)
	s.mux.HandleFunc("POST /signin", s.signInAction)
	s.mux.HandleFunc("POST /signout", s.signOutAction)
	s.mux.HandleFunc("POST /session/touch", s.sessionTouch)
	s.mux.HandleFunc("GET /officers", s.signedInAs(roster.Supervisor, s.officersScreen))
	s.mux.HandleFunc("POST /officers/add", s.needs(roster.Supervisor, s.officerChange("added", s.addOfficer)))
	s.mux.HandleFunc("POST /officers/{officer}/remove", s.needs(roster.Supervisor, s.officerChange("removed", s.removeOfficer)))
	s.mux.HandleFunc("POST /officers/{officer}/pin", s.needs(roster.Supervisor, s.officerChange("pin-reset", s.resetPIN)))
	s.mux.HandleFunc("POST /officers/{officer}/role", s.needs(roster.SiteIT, s.officerChange("role-changed", s.setRole)))
	s.mux.HandleFunc("GET /live", s.live)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /api/v1/state", s.apiState)
	s.mux.HandleFunc("GET /api/v1/events", s.apiEvents)
	s.mux.HandleFunc("GET /api/v1/events/tail", s.apiTail)
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/acknowledge", s.needs(roster.Officer, s.apiAlarmAction(actionAcknowledge)))
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/attend", s.needs(roster.Officer, s.apiAlarmAction(actionAttend)))
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/resolve", s.needs(roster.Officer, s.apiAlarmAction(actionResolve)))
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/close-remotely", s.needs(roster.Supervisor, s.apiAlarmAction(actionCloseRemotely)))
	s.mux.HandleFunc("POST /api/v1/regime", s.needs(roster.Supervisor, s.apiSetRegime))
	s.mux.HandleFunc("POST /api/v1/walktest/start", s.needs(roster.Supervisor, s.apiWalkTest(true)))
	s.mux.HandleFunc("POST /api/v1/walktest/end", s.needs(roster.Supervisor, s.apiWalkTest(false)))
	s.mux.HandleFunc("GET /api/v1/site", s.apiSite)
	s.mux.HandleFunc("POST /api/v1/site/lockdown", s.needs(roster.Supervisor, s.apiLockdown))
	s.mux.HandleFunc("POST /api/v1/signin", s.apiSignIn)
	s.mux.HandleFunc("POST /api/v1/signout", s.apiSignOut)
	s.shiftRoutes()
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, http.StatusNotFound, "There is no such API endpoint: see /api/v1 in docs/openapi.yaml for the ones there are.")
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address. Go back to the wing overview.")
	})
}

// ServeHTTP serves the screens, the live stream and the API. A request
// must name one of the wing's hosts (or loopback); one from off the board
// needs a signed-in officer (or other credentials) even to read, except
// for the health check and the sign-in pad. The kiosk on the board reads
// everything signed out: alarms are never hidden behind a sign-in. What
// changes anything needs a signed-in officer of the right role (see
// needs).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !s.hostAllowed(r.Host) {
		refuseHost(w, r)
		return
	}
	v := s.visit(w, r)
	r = r.WithContext(context.WithValue(r.Context(), visitKey{}, v))
	if !v.onBoard && !v.signedIn && !openToAll(r.URL.Path) &&
		(s.opt.ReadCredentials == nil || r.Method != http.MethodGet || !s.opt.ReadCredentials(r)) {
		s.signInNeeded(w, r, "Sign in to see the wing from off its own screen.", comeBack(r))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close ends every open live stream, so that http.Server.Shutdown can
// finish. Streams opened after Close end at once. Close is safe to call
// more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}

// render writes a page with the given status.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.logError(r.Context(), "render page", err, "path", r.URL.Path)
	}
}

// renderMessage writes a page that tells the officer what happened and
// what to do.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	s.render(w, r, status, messagePage(s.header(s.view()), title, text))
}

func (s *Server) logError(ctx context.Context, what string, err error, args ...any) {
	s.opt.Logger.ErrorContext(ctx, "ui: "+what, append([]any{"err", err}, args...)...)
}
