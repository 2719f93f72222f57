package api

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound the connections a server holds (LimitListener).
type Limits struct {
	// PerClient is the most connections from one client address.
	PerClient int
	// Total is the most connections from every client address together,
	// but the board's own when Own is set.
	Total int
	// Own, if set, is the most connections from the board itself
	// (127.0.0.1 or ::1), counted apart: the kiosk's screens, which clients
	// on the network cannot crowd out. Every other address, the rest of
	// 127.0.0.0/8 included, is a client on the network.
	Own int
}

// ScreensLimits are the screens port's: the kiosk apart, and room on the
// network for the wing's other screens and API readers. Each connection
// held costs the appliance about 20 KB (its goroutine's stack and its
// buffers): under the soak's flood of idle clients, 512 of them were half
// of all the memory the appliance had for its work, and its garbage
// collector ran three times as often for it.
func ScreensLimits() Limits { return Limits{PerClient: 16, Total: 128, Own: 128} }

// OffboardLimits are the off-board port's, for central systems and site
// IT's tools.
func OffboardLimits() Limits { return Limits{PerClient: 32, Total: 256} }

// SiteLimits are the site port's, where the clients are the site's wings.
// A wing cut off holds connections its peers gave up on (their close never
// arrives) until they time out: in a partition of a busy site a peer's
// count reached about 60, so each has room for twice that.
func SiteLimits() Limits { return Limits{PerClient: 128, Total: 512} }

// StreamLimits are the screens port's live streams (a page holds one or
// two): the kiosk's apart, few per screen on the network, and few in all,
// as each holds a subscription to the wing.
func StreamLimits() Limits { return Limits{PerClient: 4, Total: 64, Own: 16} }

// Gate counts what clients hold (connections, streams) against Limits.
type Gate struct {
	lim Limits

	mu      sync.Mutex
	open    int // from the network
	own     int // from the board, with lim.Own
	clients map[string]int
}

// NewGate returns a gate that admits no more than lim allows.
func NewGate(lim Limits) *Gate { return &Gate{lim: lim, clients: map[string]int{}} }

// Enter admits one more from the client at host (an address without
// port), and returns the func that lets it go (call it once); ok is
// false, and nothing is held, when lim allows no more.
func (g *Gate) Enter(host string) (leave func(), ok bool) {
	own := g.lim.Own > 0 && IsOwn(host)
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case own && g.own < g.lim.Own:
		g.own++
	case !own && g.open < g.lim.Total && g.clients[host] < g.lim.PerClient:
		g.open++
		g.clients[host]++
	default:
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(func() { g.leave(host, own) }) }, true
}

func (g *Gate) leave(host string, own bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if own {
		g.own--
		return
	}
	g.open--
	if g.clients[host]--; g.clients[host] <= 0 {
		delete(g.clients, host)
	}
}

// LimitListener wraps ln so that it holds no more connections than lim
// allows: a connection beyond it is closed at once, before the server
// reads a byte of it, so a client that opens connections and leaves them
// idle cannot take a wing's memory.
func LimitListener(ln net.Listener, lim Limits) net.Listener {
	return &limitListener{Listener: ln, gate: NewGate(lim)}
}

type limitListener struct {
	net.Listener
	gate *Gate
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		leave, ok := l.gate.Enter(Host(c.RemoteAddr().String()))
		if !ok {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, leave: leave}, nil
	}
}

// Host is the host of a client address (host:port), or the address
// itself when it has no port.
func Host(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}

// IsOwn reports whether a client address (host, without port) is the
// board's own: 127.0.0.1 or ::1.
func IsOwn(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

type limitConn struct {
	net.Conn
	leave func()
}

func (c *limitConn) Close() error {
	c.leave()
	return c.Conn.Close()
}

// The timeouts of every wingnode HTTP server (Server).
const (
	ReadHeaderTimeout = 5 * time.Second
	// ReadTimeout bounds reading a whole request, body included: a body
	// sent a byte a second is cut off. A handler that takes a large upload
	// extends it (http.ResponseController.SetReadDeadline).
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds writing an answer; a long poll extends it by its
	// wait, and a live stream for each write.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes a kept-alive connection left idle.
	IdleTimeout = 60 * time.Second
)

// Server returns an http.Server for h with wingnode's timeouts.
func Server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}
}
