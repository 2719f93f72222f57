package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// handshakeTimeout bounds the TLS handshake of an accepted connection, so a
// silent peer cannot hold a goroutine.
const handshakeTimeout = 5 * time.Second

// DialFunc dials a network address, like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Routes returns a DialFunc that dials routes[addr] instead of addr when
// present, else addr. Fault tests use it to send A→B traffic through a
// proxy. The map is copied.
func Routes(routes map[string]string) DialFunc {
	routes = maps.Clone(routes)
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if to, ok := routes[addr]; ok {
			addr = to
		}
		return d.DialContext(ctx, network, addr)
	}
}

// SiteListener splits one TCP listener into raft and HTTP by ALPN, after a
// TLS 1.3 handshake that verifies any client certificate against the site CA
// and the revocation check. Raft requires a client certificate; HTTP (see
// Serve) does not, so a new wing can enrol (handlers other than enrolment
// call PeerWing).
type SiteListener struct {
	ln   net.Listener
	id   *Identity
	dial DialFunc

	raft *subListener
	http *subListener

	mu      sync.Mutex
	closed  bool
	conns   map[*siteConn]struct{} // open raft connections, both directions
	members func(wing string) bool // SetMembers; nil takes any wing of the site
	wg      sync.WaitGroup
}

// SetMembers makes the raft side accept only the wings member says are
// members of the site: a valid, unrevoked certificate of the site is not
// enough for a wing the site has not taken in (or has let go). HTTP is
// left alone: a wing joins through it.
func (s *SiteListener) SetMembers(member func(wing string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members = member
}

// member reports whether the peer of a raft connection is a member.
func (s *SiteListener) member(leaf *x509.Certificate) bool {
	s.mu.Lock()
	member := s.members
	s.mu.Unlock()
	if member == nil {
		return true
	}
	wing, err := wingOf(leaf, s.id.site)
	return err == nil && member(wing)
}

// Listen serves the site port on ln for identity id. dial is used by the
// raft layer's Dial (nil dials directly). Close the SiteListener to stop.
func Listen(ln net.Listener, id *Identity, dial DialFunc) *SiteListener {
	if dial == nil {
		dial = Routes(nil)
	}
	s := &SiteListener{
		ln:    ln,
		id:    id,
		dial:  dial,
		raft:  newSubListener(ln.Addr()),
		http:  newSubListener(ln.Addr()),
		conns: map[*siteConn]struct{}{},
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *SiteListener) serverConfig() *tls.Config {
	return &tls.Config{
		MinVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{s.id.tlsCert},
		NextProtos:             []string{ProtoRaft, ProtoHTTP},
		ClientAuth:             tls.RequestClientCert, // verified below, by the site CA
		SessionTicketsDisabled: true,                  // every connection is checked in full
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				if cs.NegotiatedProtocol == ProtoRaft {
					return errors.New("trust: raft needs a site certificate")
				}
				return nil // HTTP without a certificate: enrolment only
			}
			if _, err := s.id.verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth); err != nil {
				return fmt.Errorf("trust: site peer refused: %w", err)
			}
			return nil
		},
	}
}

func (s *SiteListener) acceptLoop() {
	defer s.wg.Done()
	cfg := s.serverConfig()
	var backoff time.Duration
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			s.raft.fail(err)
			s.http.fail(err)
			return
		}
		backoff = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handshake(raw, cfg)
		}()
	}
}

func (s *SiteListener) handshake(raw net.Conn, cfg *tls.Config) {
	c := tls.Server(raw, cfg)
	_ = raw.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := c.Handshake(); err != nil {
		raw.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	cs := c.ConnectionState()
	switch cs.NegotiatedProtocol {
	case ProtoRaft:
		if !s.member(cs.PeerCertificates[0]) {
			c.Close()
			return
		}
		sc, ok := s.track(c, cs.PeerCertificates[0].SerialNumber)
		if !ok || !s.raft.deliver(sc) {
			sc.Close()
		}
	case ProtoHTTP, "":
		if !s.http.deliver(c) {
			c.Close()
		}
	default:
		c.Close()
	}
}

// track records an open raft connection for CloseRevoked.
func (s *SiteListener) track(c *tls.Conn, serial *big.Int) (*siteConn, bool) {
	sc := &siteConn{Conn: c, serial: serial, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sc, false
	}
	s.conns[sc] = struct{}{}
	return sc, true
}

// Raft is the raft StreamLayer: Accept yields only mutual-TLS connections
// that negotiated ALPN "wingnode-raft/1" with a valid, unrevoked site
// certificate; Dial dials through the SiteListener's DialFunc with this
// wing's certificate and verifies the server the same way. Its Close stops
// only the raft side (raft's NetworkTransport closes it on shutdown).
func (s *SiteListener) Raft() raft.StreamLayer { return raftLayer{s} }

// Serve serves the site HTTP API with srv on the SiteListener's HTTP side:
// connections that negotiated http/1.1 or no ALPN. They are *tls.Conn, so
// srv fills Request.TLS; a client certificate is optional here (see
// PeerWing). Serve sets srv.ConnContext, keeping any it had, so that each
// connection carries the check it passed; it returns when srv is shut down
// or the SiteListener closed, like http.Server.Serve.
func (s *SiteListener) Serve(srv *http.Server) error {
	next := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if next != nil {
			ctx = next(ctx, c)
		}
		return context.WithValue(ctx, checkedBy{}, s.id)
	}
	return srv.Serve(s.http)
}

// Close stops accepting, closes both sides and every open raft connection.
// It does not close HTTP connections already handed out; the http.Server
// that serves them does.
func (s *SiteListener) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*siteConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.raft.Close()
	s.http.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// CloseRevoked closes every open raft connection, accepted or dialled, whose
// peer is now revoked. Call it after applying a decommission: connections
// made before the revocation are otherwise left open. It returns how many it
// closed.
func (s *SiteListener) CloseRevoked() int {
	s.mu.Lock()
	var bad []*siteConn
	for c := range s.conns {
		if s.id.isRevoked(c.serial) {
			bad = append(bad, c)
		}
	}
	s.mu.Unlock()
	for _, c := range bad {
		c.Close()
	}
	return len(bad)
}

// siteConn is a tracked raft connection.
type siteConn struct {
	*tls.Conn
	serial *big.Int
	s      *SiteListener
	once   sync.Once
}

func (c *siteConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}

type raftLayer struct{ s *SiteListener }

func (l raftLayer) Accept() (net.Conn, error) { return l.s.raft.Accept() }
func (l raftLayer) Close() error              { return l.s.raft.Close() }
func (l raftLayer) Addr() net.Addr            { return l.s.raft.Addr() }

func (l raftLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := l.s.id.dialTLS(ctx, l.s.dial, string(address), ProtoRaft)
	if err != nil {
		return nil, fmt.Errorf("trust: raft dial %s: %w", address, err)
	}
	sc, ok := l.s.track(c, c.ConnectionState().PeerCertificates[0].SerialNumber)
	if !ok {
		sc.Close()
		return nil, fmt.Errorf("trust: raft dial %s: %w", address, net.ErrClosed)
	}
	return sc, nil
}

// subListener is one ALPN side of the site port.
type subListener struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error
}

func newSubListener(addr net.Addr) *subListener {
	return &subListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands c to Accept; false when the side is closed.
func (l *subListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		return nil, l.err
	}
}

func (l *subListener) fail(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		if errors.Is(err, net.ErrClosed) {
			l.err = net.ErrClosed
		} else {
			l.err = fmt.Errorf("trust: site listener: %w", err)
		}
		l.mu.Unlock()
		close(l.done)
	})
}

func (l *subListener) Close() error {
	l.fail(net.ErrClosed)
	return nil
}

func (l *subListener) Addr() net.Addr { return l.addr }
