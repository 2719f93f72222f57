package faultproxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// echoServer echoes every connection and counts what reaches it.
type echoServer struct {
	ln       net.Listener
	accepted atomic.Int64
	received atomic.Int64
	mu       sync.Mutex
	conns    []net.Conn
}

func newEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					e.received.Add(int64(n))
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						if errors.Is(err, io.EOF) {
							c.(*net.TCPConn).CloseWrite()
						}
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		e.mu.Lock()
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
	})
	return e
}

func (e *echoServer) addr() string { return e.ln.Addr().String() }

func newProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads it back within 10 s.
func roundTrip(c net.Conn, msg []byte) error {
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	errc := make(chan error, 1)
	go func() { _, err := c.Write(msg); errc <- err }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if err := <-errc; err != nil {
		return err
	}
	if !bytes.Equal(got, msg) {
		return errors.New("echo differs")
	}
	return nil
}

// silent reports that nothing arrives on c for a while: the assertion of a
// blackhole. The window is short; a forwarded byte on loopback takes far
// less.
func silent(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	defer c.SetReadDeadline(time.Time{})
	n, err := c.Read(make([]byte, 1))
	var ne net.Error
	if n > 0 || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("expected silence, got %d bytes, %v", n, err)
	}
}

// broken reports that c ends (reset or EOF) rather than timing out.
func broken(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte("x"))
	for {
		_, err := c.Read(make([]byte, 64))
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open: %v", err)
		}
		return
	}
}

func TestForward(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.addr())
	c := dial(t, p.Addr())
	msg := make([]byte, 1<<20)
	rand.Read(msg)
	if err := roundTrip(c, msg); err != nil {
		t.Fatal(err)
	}
	// A half-close travels through: the server sees EOF and ends its side.
	c.(*net.TCPConn).CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("after half-close: %v", err)
	}
}

func TestCut(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.addr())
	c := dial(t, p.Addr())
	if err := roundTrip(c, []byte("before")); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if err == nil || errors.Is(err, io.EOF) || isTimeout(err) {
		t.Fatalf("existing connection after Cut: want a reset, got %v", err)
	}
	// New connections are refused (reset before any byte is forwarded).
	// The reset can reach the dialler before connect returns, or after.
	accepted := e.accepted.Load()
	if c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
		t.Cleanup(func() { c.Close() })
		broken(t, c)
	} else if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("dial during Cut: want a reset, got %v", err)
	}
	if e.accepted.Load() != accepted {
		t.Fatal("a connection made during Cut reached the target")
	}
	p.Heal()
	if err := roundTrip(dial(t, p.Addr()), []byte("after")); err != nil {
		t.Fatalf("after Heal: %v", err)
	}
}

func TestBlackhole(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.addr())
	old := dial(t, p.Addr())
	if err := roundTrip(old, []byte("before")); err != nil {
		t.Fatal(err)
	}
	p.Blackhole()
	received, accepted := e.received.Load(), e.accepted.Load()
	if _, err := old.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	silent(t, old)
	// A new connection is held: accepted, but the target never sees it.
	held := dial(t, p.Addr())
	if _, err := held.Write([]byte("lost too")); err != nil {
		t.Fatal(err)
	}
	silent(t, held)
	if e.received.Load() != received || e.accepted.Load() != accepted {
		t.Fatalf("target saw traffic through a blackhole: %d bytes, %d conns",
			e.received.Load()-received, e.accepted.Load()-accepted)
	}
	if n := p.Conns(); n != 2 {
		t.Fatalf("proxy holds %d connections, want 2", n)
	}

	p.Heal()
	broken(t, old)
	broken(t, held)
	if err := roundTrip(dial(t, p.Addr()), []byte("after")); err != nil {
		t.Fatalf("after Heal: %v", err)
	}
}

func TestDelay(t *testing.T) {
	e := newEcho(t)
	p := newProxy(t, e.addr())
	c := dial(t, p.Addr())
	if err := roundTrip(c, []byte("warm")); err != nil {
		t.Fatal(err)
	}
	const d = 150 * time.Millisecond
	p.Delay(d)
	start := time.Now()
	if err := roundTrip(c, []byte("slow")); err != nil {
		t.Fatal(err)
	}
	// Both directions are delayed: a lower bound only, never an upper one.
	if rt := time.Since(start); rt < 2*d {
		t.Fatalf("round trip %v under a %v delay each way", rt, d)
	}
	// Order and content survive many chunks in flight.
	msg := make([]byte, 512<<10)
	rand.Read(msg)
	if err := roundTrip(c, msg); err != nil {
		t.Fatal(err)
	}
	p.Heal()
	if err := roundTrip(c, []byte("healed")); err != nil {
		t.Fatalf("a delayed connection survives Heal: %v", err)
	}
}

func TestClose(t *testing.T) {
	e := newEcho(t)
	p, err := New(e.addr())
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if err := roundTrip(c, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	broken(t, c)
	if c2, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second); err == nil {
		broken(t, c2)
		c2.Close()
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
