package api

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits on the connections a server takes (LimitListener).
const (
	MaxConnsPerClient = 128
	MaxConns          = 1024
)

// LimitListener wraps ln so that it holds at most perClient connections
// from one client address and total in all: a connection beyond either is
// closed at once, before the server reads a byte of it, so a client that
// opens connections and leaves them idle cannot take a wing's memory.
func LimitListener(ln net.Listener, perClient, total int) net.Listener {
	return &limitListener{Listener: ln, perClient: perClient, total: total, clients: map[string]int{}}
}

type limitListener struct {
	net.Listener
	perClient, total int

	mu      sync.Mutex
	open    int
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
		l.mu.Lock()
		ok := l.open < l.total && l.clients[host] < l.perClient
		if ok {
			l.open++
			l.clients[host]++
		}
		l.mu.Unlock()
		if !ok {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l, host: host}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	host string
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		c.l.open--
		if c.l.clients[c.host]--; c.l.clients[c.host] <= 0 {
			delete(c.l.clients, c.host)
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
	// WriteTimeout bounds writing an answer, long polls (at most 30 s)
	// included; a live stream extends it for each write.
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes a kept-alive connection left idle.
	IdleTimeout = 60 * time.Second
)

// Server returns an http.Server for h with wingnode's timeouts.
func Server(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout}
}
