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
)

// UnverifiedOfficer is the actor recorded for alarm actions while officers
// cannot sign in yet.
const UnverifiedOfficer = "officer-unverified"

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
	// Officer is the actor recorded for alarm actions until officers sign
	// in; empty means UnverifiedOfficer.
	Officer string
	// Logger receives errors that the user cannot act on; nil means slog.Default().
	Logger *slog.Logger
}

// Server is the wing's web interface, an http.Handler.
type Server struct {
	wing   Wing
	opt    Options
	mux    *http.ServeMux
	origin *http.CrossOriginProtection

	closeOnce sync.Once
	done      chan struct{} // closed by Close: live streams end

	refreshEvery time.Duration // see the constant; tests shorten it
	siteEvery    time.Duration // see the constant; tests shorten it
}

// New returns the web interface of w.
func New(w Wing, opt Options) *Server {
	if opt.Version == "" {
		opt.Version = "dev"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Officer == "" {
		opt.Officer = UnverifiedOfficer
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s := &Server{
		wing:   w,
		opt:    opt,
		mux:    http.NewServeMux(),
		origin: http.NewCrossOriginProtection(),
		done:   make(chan struct{}),

		refreshEvery: refreshEvery,
		siteEvery:    siteEvery,
	}
	s.routes()
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
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/acknowledge", s.alarmAction(actionAcknowledge))
	s.mux.HandleFunc("POST /alarms/{wing}/{seq}/clear", s.alarmAction(actionClear))
	s.mux.HandleFunc("GET /walktest", s.walkTestPage)
	s.mux.HandleFunc("POST /walktest/start", s.walkTestAction(true))
	s.mux.HandleFunc("POST /walktest/end", s.walkTestAction(false))
	s.mux.HandleFunc("GET /site", s.siteScreen)
	s.mux.HandleFunc("POST /site/lockdown/declare", s.lockdownAction(true))
	s.mux.HandleFunc("POST /site/lockdown/end", s.lockdownAction(false))
	s.mux.HandleFunc("GET /live", s.live)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /api/v1/state", s.apiState)
	s.mux.HandleFunc("GET /api/v1/events", s.apiEvents)
	s.mux.HandleFunc("GET /api/v1/events/tail", s.apiTail)
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/acknowledge", s.apiAlarmAction(actionAcknowledge))
	s.mux.HandleFunc("POST /api/v1/alarms/{wing}/{seq}/clear", s.apiAlarmAction(actionClear))
	s.mux.HandleFunc("POST /api/v1/walktest/start", s.apiWalkTest(true))
	s.mux.HandleFunc("POST /api/v1/walktest/end", s.apiWalkTest(false))
	s.mux.HandleFunc("GET /api/v1/site", s.apiSite)
	s.mux.HandleFunc("POST /api/v1/site/lockdown", s.apiLockdown)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		api.WriteError(w, http.StatusNotFound, "There is no such API endpoint: see /api/v1 in docs/openapi.yaml for the ones there are.")
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderMessage(w, r, http.StatusNotFound, "Page not found", "There is no page at this address. Go back to the wing overview.")
	})
}

// ServeHTTP serves the screens, the live stream and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
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
