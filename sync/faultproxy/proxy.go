// Package faultproxy is a TCP proxy that injects network faults between
// wings for the site's fault tests: cut (reset), blackhole (silent drop),
// delay, heal, and a Mesh of proxies for every ordered pair of members.
//
// Each mode models what a peer sees on a real site network: Cut is a pulled
// cable with a switch that answers RST; Blackhole is a silent partition
// where packets vanish and connections hang until they time out; Delay is a
// slow link. Heal resets the connections a blackhole held, as a real
// partition ends with both sides' connections dead and redialled.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	chunkSize   = 32 << 10
	pipeDepth   = 64 // chunks in flight per direction under Delay
	dialTimeout = 5 * time.Second
)

type mode int

const (
	forward mode = iota
	cut
	blackhole
)

// Proxy listens on 127.0.0.1 and forwards every connection to one target,
// with a fault mode that can change at any time. Its methods are safe for
// concurrent use.
type Proxy struct {
	target string
	local  net.IP // the address the proxy dials the target from; nil: any
	ln     net.Listener
	delay  atomic.Int64 // time.Duration

	mu     sync.Mutex
	mode   mode
	closed bool
	links  map[*link]struct{}
	wg     sync.WaitGroup
}

// New listens on 127.0.0.1:0 and forwards every connection to target.
func New(target string) (*Proxy, error) { return NewFrom(target, nil) }

// NewFrom is New whose connections to target come from the address local
// (a loopback address such as 127.0.1.1), so that the target tells the
// proxy's clients apart from those of another proxy, as it would tell
// hosts apart on a network.
func NewFrom(target string, local net.IP) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{target: target, local: local, ln: ln, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the proxy's listen address: dial it instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Cut resets every existing connection (RST to both sides) and refuses new
// ones with a reset, until Heal.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.mode = cut
	links := p.snapshot()
	p.mu.Unlock()
	for _, l := range links {
		l.reset()
	}
}

// Blackhole holds every connection, existing and new, and forwards nothing
// either way: bytes are read and dropped, as packets on a silent partition.
// New connections are accepted but never reach the target. Heal resets them.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = blackhole
	for l := range p.links {
		l.holed.Store(true)
	}
}

// Delay adds d of latency to every chunk in both directions, keeping the
// link's bandwidth. It applies to chunks read from now on; 0 removes it.
func (p *Proxy) Delay(d time.Duration) { p.delay.Store(int64(max(d, 0))) }

// Heal returns to forwarding normally with no delay: new connections go
// through, and the connections a blackhole held are reset so the peers
// redial.
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.mode = forward
	var held []*link
	for l := range p.links {
		if l.holed.Load() {
			held = append(held, l)
		}
	}
	p.mu.Unlock()
	p.delay.Store(0)
	for _, l := range held {
		l.reset()
	}
}

// Close stops listening and resets every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	links := p.snapshot()
	p.mu.Unlock()
	err := p.ln.Close()
	for _, l := range links {
		l.reset()
	}
	p.wg.Wait()
	return err
}

// Conns is the number of connections the proxy holds open.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

func (p *Proxy) snapshot() []*link {
	out := make([]*link, 0, len(p.links))
	for l := range p.links {
		out = append(out, l)
	}
	return out
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.serve(c.(*net.TCPConn))
		}()
	}
}

func (p *Proxy) serve(client *net.TCPConn) {
	l := &link{client: client, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed || p.mode == cut {
		p.mu.Unlock()
		resetConn(client)
		return
	}
	l.holed.Store(p.mode == blackhole)
	p.links[l] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()

	if l.holed.Load() {
		// A connection opened into a blackhole never reaches the target.
		drain(client)
		l.reset()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	go func() {
		select {
		case <-l.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	var d net.Dialer
	if p.local != nil {
		d.LocalAddr = &net.TCPAddr{IP: p.local}
	}
	sc, err := d.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil {
		l.reset()
		return
	}
	if !l.setServer(sc.(*net.TCPConn)) {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pump(l, l.client, l.server) }()
	go func() { defer wg.Done(); p.pump(l, l.server, l.client) }()
	wg.Wait()
	l.close()
}

type chunk struct {
	data []byte
	due  time.Time
	err  error // set on the last chunk: io.EOF for a clean half-close
}

// pump copies src to dst, chunk by chunk, through the current fault.
func (p *Proxy) pump(l *link, src, dst *net.TCPConn) {
	ch := make(chan chunk, pipeDepth)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, chunkSize)
			n, err := src.Read(buf)
			c := chunk{data: buf[:n], due: time.Now().Add(time.Duration(p.delay.Load()))}
			if err != nil {
				c.err = err
			}
			select {
			case ch <- c:
			case <-l.done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		if l.holed.Load() {
			if c.err != nil {
				return // the other side's end is lost in the blackhole too
			}
			continue
		}
		if wait := time.Until(c.due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-l.done:
				t.Stop()
				return
			}
			if l.holed.Load() {
				continue
			}
		}
		if len(c.data) > 0 {
			if _, err := dst.Write(c.data); err != nil {
				l.reset()
				return
			}
		}
		if c.err != nil {
			if errors.Is(c.err, io.EOF) {
				_ = dst.CloseWrite()
			} else {
				l.reset() // a reset on one side resets the other
			}
			return
		}
	}
}

// link is one proxied connection.
type link struct {
	client *net.TCPConn
	holed  atomic.Bool
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	server *net.TCPConn
	ended  bool
}

func (l *link) setServer(s *net.TCPConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		resetConn(s)
		return false
	}
	l.server = s
	return true
}

// reset ends the link with RST on both sides.
func (l *link) reset() { l.end(resetConn) }

// close ends the link normally, after both directions finished.
func (l *link) close() { l.end(func(c *net.TCPConn) { c.Close() }) }

func (l *link) end(how func(*net.TCPConn)) {
	l.once.Do(func() {
		l.mu.Lock()
		l.ended = true
		s := l.server
		l.mu.Unlock()
		close(l.done)
		how(l.client)
		if s != nil {
			how(s)
		}
	})
}

// resetConn closes c with an RST instead of a FIN.
func resetConn(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

// drain reads and drops everything until the connection ends.
func drain(c net.Conn) {
	buf := make([]byte, chunkSize)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
