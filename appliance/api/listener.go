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
// network for the wing's other screens and API readers.
func ScreensLimits() Limits { return Limits{PerClient: 32, Total: 512, Own: 128} }

// OffboardLimits are the off-board port's, for central systems and site
// IT's tools.
func OffboardLimits() Limits { return Limits{PerClient: 32, Total: 256} }

// SiteLimits are the site port's, where the clients are the site's wings.
func SiteLimits() Limits { return Limits{PerClient: 64, Total: 256} }

// LimitListener wraps ln so that it holds no more connections than lim
// allows: a connection beyond it is closed at once, before the server
// reads a byte of it, so a client that opens connections and leaves them
// idle cannot take a wing's memory.
func LimitListener(ln net.Listener, lim Limits) net.Listener {
	return &limitListener{Listener: ln, lim: lim, clients: map[string]int{}}
}

type limitListener struct {
	net.Listener
	lim Limits

	mu      sync.Mutex
	open    int // from the network
	own     int // from the board, with lim.Own
	clients map[string]int
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			host = c.RemoteAddr().String()
		}
		own := l.lim.Own > 0 && IsOwn(host)
		l.mu.Lock()
		ok := false
		switch {
		case own && l.own < l.lim.Own:
			l.own++
			ok = true
		case !own && l.open < l.lim.Total && l.clients[host] < l.lim.PerClient:
			l.open++
			l.clients[host]++
			ok = true
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l, host: host, own: own}, nil
	}
}

// IsOwn reports whether a client address (host, without port) is the
// board's own: 127.0.0.1 or ::1.
func IsOwn(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

type limitConn struct {
	net.Conn
	l    *limitListener
	host string
	own  bool
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.own {
			c.l.own--
		} else {
			c.l.open--
			if c.l.clients[c.host]--; c.l.clients[c.host] <= 0 {
				delete(c.l.clients, c.host)
			}
		}
		c.l.mu.Unlock()
	})
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
