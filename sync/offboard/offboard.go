// Package offboard is a wing's authenticated off-board port: HTTPS with
// the wing's certificate from the site CA, for central systems and site
// IT. A client presents a client certificate issued by site IT (`wingnode
// site client-cert`) or a bearer token (`wingnode site client-token`); the
// site agrees through raft which clients exist, their roles and their
// credentials (a certificate serial, or the SHA-256 of a token), so every
// wing knows them and a revocation reaches every wing. Central clients
// read only; each client has a rate limit; refusals are 401, 403 or 429
// with a sentence that says what to do.
package offboard

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"wingnode/appliance/api"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// Member is the wing's membership as the port needs it (*member.Member).
type Member interface {
	// Identity is the wing's site identity: the server certificate, and
	// the CA client certificates must come from.
	Identity() *trust.Identity
	// Clients are the site's agreed off-board clients.
	Clients() map[string]site.ClientRecord
}

// Route is one endpoint of the port.
type Route struct {
	// Pattern is the http.ServeMux pattern.
	Pattern string
	Handler http.Handler
	// Roles may call it; none means the handler authenticates requests
	// itself (site IT's firmware endpoint, with site IT's token), and the
	// port only limits their rate.
	Roles []string
	// Writes marks an endpoint whose non-GET methods change something:
	// central clients, being read-only, may not call those.
	Writes bool
}

// Config configures the port.
type Config struct {
	// Member returns the wing's membership, nil before it has one.
	Member func() Member
	Routes []Route
	// Rate is how many requests a second each client may make on average,
	// and Burst how many at once; default 20 and 40.
	Rate  float64
	Burst int
	// Log receives refusals (never a credential); default slog.Default().
	Log *slog.Logger
}

// Client is who made a request.
type Client struct {
	Name string
	Role string
	// By is how it proved it: "certificate" or "token".
	By string
}

type clientKey struct{}

// ClientOf returns the client of a request the port let through; false
// for a route that authenticates itself.
func ClientOf(r *http.Request) (Client, bool) {
	c, ok := r.Context().Value(clientKey{}).(Client)
	return c, ok
}

// Server is the off-board port.
type Server struct {
	cfg    Config
	mux    *http.ServeMux
	routes map[string]Route
	limits *limiter
}

// New makes the port's server.
func New(cfg Config) *Server {
	if cfg.Rate <= 0 {
		cfg.Rate = 20
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 40
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), routes: map[string]Route{}, limits: newLimiter(cfg.Rate, cfg.Burst)}
	for _, r := range cfg.Routes {
		s.mux.Handle(r.Pattern, r.Handler)
		s.routes[r.Pattern] = r
	}
	return s
}

// TLSConfig is the port's TLS configuration: the wing's certificate, and
// a client certificate asked for but not required (a token will do);
// the handler checks it, so that a refusal comes with a sentence.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		ClientAuth: tls.RequestClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			m := s.member()
			if m == nil {
				return nil, errors.New("offboard: this wing has not joined its site yet")
			}
			c := m.Identity().ServerCertificate()
			return &c, nil
		},
	}
}

func (s *Server) member() Member {
	if s.cfg.Member == nil {
		return nil
	}
	return s.cfg.Member()
}

// Serve serves the port on ln (a plain TCP listener) until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// wingnode's timeouts: a TLS handshake too must be done within the
	// header timeout.
	srv := api.Server(s)
	srv.TLSConfig, srv.ErrorLog = s.TLSConfig(), slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelDebug)
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	select {
	case err := <-done:
		return fmt.Errorf("offboard: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	return nil
}

// ServeHTTP authenticates the request, checks its role and rate, and
// passes it on.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := s.mux.Handler(r)
	route, ok := s.routes[pattern]
	if !ok {
		api.WriteError(w, http.StatusNotFound, fmt.Sprintf("%s is not served on the off-board port: see docs/openapi.yaml", r.URL.Path))
		return
	}
	if len(route.Roles) == 0 {
		if !s.allow(w, "address "+api.Client(r)) {
			return
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	m := s.member()
	if m == nil {
		w.Header().Set("Retry-After", "2")
		api.WriteError(w, http.StatusServiceUnavailable, "this wing has not joined its site yet: try again in a few seconds, or ask another wing")
		return
	}
	c, status, why := s.authenticate(m, r)
	if status != 0 {
		if !s.allow(w, "address "+api.Client(r)) {
			return
		}
		s.cfg.Log.Warn("off-board port: request refused", "status", status, "from", r.RemoteAddr, "path", r.URL.Path, "why", why)
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="wingnode off-board port"`)
		}
		api.WriteError(w, status, why)
		return
	}
	if !s.allow(w, "client "+c.Name) {
		return
	}
	if !slices.Contains(route.Roles, c.Role) {
		api.WriteError(w, http.StatusForbidden, fmt.Sprintf("client %s has the role %s, and %s needs %s: ask site IT for a client of that role", c.Name, c.Role, r.URL.Path, strings.Join(route.Roles, " or ")))
		return
	}
	if c.Role == site.RoleCentral && route.Writes && r.Method != http.MethodGet && r.Method != http.MethodHead {
		api.WriteError(w, http.StatusForbidden, fmt.Sprintf("client %s is a central client, which reads only: %s %s needs a site IT client", c.Name, r.Method, r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
}

// authenticate finds the request's client, or the status and sentence of
// a refusal.
func (s *Server) authenticate(m Member, r *http.Request) (Client, int, string) {
	clients := m.Clients()
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		leaf := r.TLS.PeerCertificates[0]
		name, err := trust.VerifyClientCertificate(m.Identity().CA(), leaf)
		if err != nil {
			return Client{}, http.StatusUnauthorized, fmt.Sprintf("the client certificate is not one this site issued (%v): ask site IT for one ('wingnode site client-cert')", err)
		}
		rec, ok := clients[name]
		switch {
		case !ok:
			return Client{}, http.StatusForbidden, fmt.Sprintf("client %s is not registered with the site: site IT registers it when issuing its certificate ('wingnode site client-cert')", name)
		case rec.Revoked:
			return Client{}, http.StatusForbidden, fmt.Sprintf("client %s was revoked: ask site IT for a new credential", name)
		case rec.Serial != leaf.SerialNumber.String():
			return Client{}, http.StatusForbidden, fmt.Sprintf("this certificate of client %s was replaced or revoked: use the newest one site IT issued", name)
		}
		return Client{Name: name, Role: rec.Role, By: "certificate"}, 0, ""
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return Client{}, http.StatusUnauthorized, "this port needs credentials: present a client certificate from site IT ('wingnode site client-cert'), or send 'Authorization: Bearer TOKEN' with a token from 'wingnode site client-token'"
	}
	sum := sha256.Sum256([]byte(token))
	hash := []byte(hex.EncodeToString(sum[:]))
	for name, rec := range clients {
		if rec.TokenHash == "" || subtle.ConstantTimeCompare(hash, []byte(rec.TokenHash)) != 1 {
			continue
		}
		if rec.Revoked {
			return Client{}, http.StatusUnauthorized, fmt.Sprintf("the token of client %s was revoked: ask site IT for a new one", name)
		}
		return Client{Name: name, Role: rec.Role, By: "token"}, 0, ""
	}
	return Client{}, http.StatusUnauthorized, "the bearer token is not one this site issued, or it was replaced: ask site IT for a token ('wingnode site client-token')"
}

// allow takes one request from key's allowance, or answers 429.
func (s *Server) allow(w http.ResponseWriter, key string) bool {
	wait := s.limits.take(key, time.Now())
	if wait == 0 {
		return true
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	api.WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("%s made more than %g requests a second (%d at once): slow down, and try again after Retry-After seconds", key, s.cfg.Rate, s.cfg.Burst))
	return false
}

// limiter is a token bucket per key. It forgets the fullest buckets
// when it holds too many keys, so that a flood of addresses cannot grow it.
type limiter struct {
	rate    float64
	burst   float64
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

const maxBuckets = 4096

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), buckets: map[string]*bucket{}}
}

// take takes a token and returns 0, or how long until one is there.
func (l *limiter) take(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			for k, v := range l.buckets {
				if v.tokens+now.Sub(v.at).Seconds()*l.rate >= l.burst {
					delete(l.buckets, k)
				}
			}
			for k := range l.buckets {
				if len(l.buckets) < maxBuckets {
					break
				}
				delete(l.buckets, k)
			}
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}
