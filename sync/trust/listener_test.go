package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// A process holding a certificate from another CA can neither reach raft nor
// call a handler guarded by PeerWing; a site wing will not talk to it as a
// server either.
func TestOtherCARefused(t *testing.T) {
	s := newSite(t)
	a := serve(t, s.identity(t, "A"), nil, nil)
	b := serve(t, s.identity(t, "B"), nil, nil)

	rogueSite := newSite(t) // same site name, different CA
	rogue := serve(t, rogueSite.identity(t, "R"), nil, nil)

	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := a.sl.Raft().Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	// Rogue → A raft: refused during the handshake.
	rc, err := rogue.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second)
	if err == nil {
		if !refusedByPeer(t, rc) {
			t.Fatal("A answered a raft connection from another CA")
		}
		rc.Close()
	}
	// B → A raft works, and is the first thing A's raft side accepts: the
	// rogue connection never reached it.
	bc, err := b.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	select {
	case c := <-accepted:
		tc := c.(*siteConn).Conn
		if got, _ := wingOf(tc.ConnectionState().PeerCertificates[0], testSite); got != "B" {
			t.Fatalf("A accepted a raft connection from %q", got)
		}
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("A did not accept B's raft connection")
	}

	// B → rogue raft: B refuses the rogue server.
	if c, err := b.sl.Raft().Dial(raft.ServerAddress(rogue.addr), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("B dialled raft to a server of another CA")
	}

	// Rogue → A site API: the handshake fails.
	if _, _, err := whoami(rogue.id.HTTPClient(nil), a.addr); err == nil {
		t.Fatal("rogue called a guarded handler")
	}
	// No certificate at all: TLS lets it in (to enrol), PeerWing does not.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	if wing, code, err := whoami(anon, a.addr); err != nil || code != http.StatusForbidden {
		t.Fatalf("anonymous call: %q %d %v", wing, code, err)
	}
	// And a plain request without TLS state at all.
	if _, err := PeerWing(&http.Request{}); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("PeerWing without TLS: %v", err)
	}
	// A site certificate on a connection that no site listener checked:
	// the check belongs to the connection, not to the certificate.
	unchecked := &http.Request{TLS: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{b.id.Certificate()}}}
	if _, err := PeerWing(unchecked); !errors.Is(err, ErrNoPeer) {
		t.Fatalf("PeerWing on a connection no site listener accepted: %v", err)
	}
}

func TestRevokedRefused(t *testing.T) {
	s := newSite(t)
	a := serve(t, s.identity(t, "A"), nil, nil)
	bID := s.identity(t, "B")
	b := serve(t, bID, nil, nil)

	// Before revocation: B reaches A over HTTP (kept alive) and over raft.
	client := bID.HTTPClient(nil)
	if wing, code, err := whoami(client, a.addr); err != nil || code != 200 || wing != "B" {
		t.Fatalf("before revocation: %q %d %v", wing, code, err)
	}
	raftConn, err := b.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raftConn.Close()
	inbound, err := a.sl.Raft().Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer inbound.Close()

	revokeB := func(serial *big.Int) bool { return serial.Cmp(bID.Serial()) == 0 }
	a.id.SetRevoked(revokeB)

	// The kept-alive HTTP connection is refused per request by PeerWing.
	reused := false
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "https://"+a.addr+"/site/v1/whoami", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !reused || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("revoked wing on a kept-alive connection: reused=%v status %d", reused, resp.StatusCode)
	}
	// A new connection fails the handshake.
	client.CloseIdleConnections()
	if _, _, err := whoami(client, a.addr); err == nil {
		t.Fatal("revoked wing completed a new HTTP connection")
	}
	// New raft connections fail both ways.
	if c, err := b.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second); err == nil {
		if !refusedByPeer(t, c) {
			t.Fatal("A answered raft from a revoked wing")
		}
		c.Close()
	}
	if c, err := a.sl.Raft().Dial(raft.ServerAddress(b.addr), 5*time.Second); err == nil {
		c.Close()
		t.Fatal("A dialled raft to a revoked wing")
	}
	// The raft connection made before the revocation is closed on request.
	if n := a.sl.CloseRevoked(); n != 1 {
		t.Fatalf("CloseRevoked closed %d connections, want 1", n)
	}
	_ = raftConn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := raftConn.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("B's old raft connection still open: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestRoutes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b := make([]byte, 16)
			n, _ := c.Read(b)
			got <- string(b[:n])
			c.Close()
		}
	}()
	dial := Routes(map[string]string{"wing-b.invalid:7000": ln.Addr().String()})
	for _, tc := range []struct{ addr, msg string }{
		{"wing-b.invalid:7000", "routed"},
		{ln.Addr().String(), "direct"},
	} {
		c, err := dial(context.Background(), "tcp", tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		io.WriteString(c, tc.msg)
		if m := <-got; m != tc.msg {
			t.Fatalf("listener got %q, want %q", m, tc.msg)
		}
		c.Close()
	}

	// The raft layer and the HTTP client dial through their DialFunc.
	s := newSite(t)
	a := serve(t, s.identity(t, "A"), nil, nil)
	routes := Routes(map[string]string{"wing-a.invalid:7000": a.addr})
	b := serve(t, s.identity(t, "B"), nil, routes)
	c, err := b.sl.Raft().Dial("wing-a.invalid:7000", 5*time.Second)
	if err != nil {
		t.Fatalf("raft through a route: %v", err)
	}
	c.Close()
	if wing, code, err := whoami(b.id.HTTPClient(routes), "wing-a.invalid:7000"); err != nil || code != 200 || wing != "B" {
		t.Fatalf("HTTP through a route: %q %d %v", wing, code, err)
	}
}

// Three real raft nodes elect a leader and replicate over the StreamLayer.
func TestRaftOverSiteListener(t *testing.T) {
	s := newSite(t)
	names := []string{"A", "B", "C"}
	var servers []raft.Server
	var wings []*wingServer
	for _, n := range names {
		w := serve(t, s.identity(t, n), nil, nil)
		wings = append(wings, w)
		servers = append(servers, raft.Server{ID: raft.ServerID(n), Address: raft.ServerAddress(w.addr)})
	}
	var nodes []*raft.Raft
	var fsms []*countFSM
	for i, w := range wings {
		conf := raft.DefaultConfig()
		conf.LocalID = raft.ServerID(names[i])
		conf.HeartbeatTimeout = 300 * time.Millisecond
		conf.ElectionTimeout = 300 * time.Millisecond
		conf.LeaderLeaseTimeout = 150 * time.Millisecond
		conf.CommitTimeout = 10 * time.Millisecond
		conf.LogOutput = io.Discard
		trans := raft.NewNetworkTransport(w.sl.Raft(), 3, 5*time.Second, io.Discard)
		store := raft.NewInmemStore()
		fsm := &countFSM{}
		r, err := raft.NewRaft(conf, fsm, store, store, raft.NewInmemSnapshotStore(), trans)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			r.Shutdown().Error()
			trans.Close()
		})
		nodes = append(nodes, r)
		fsms = append(fsms, fsm)
	}
	if err := nodes[0].BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil {
		t.Fatal(err)
	}
	var leader *raft.Raft
	deadline := time.Now().Add(20 * time.Second)
	for leader == nil {
		if time.Now().After(deadline) {
			t.Fatal("no leader elected over the site listener")
		}
		for _, r := range nodes {
			if r.State() == raft.Leader {
				leader = r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range 3 {
		if err := leader.Apply(fmt.Appendf(nil, "entry %d", i), 5*time.Second).Error(); err != nil {
			t.Fatal(err)
		}
	}
	for i, f := range fsms {
		for f.count() < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("wing %s applied %d of 3 entries", names[i], f.count())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

type countFSM struct {
	mu sync.Mutex
	n  int
}

func (f *countFSM) Apply(*raft.Log) any { f.mu.Lock(); f.n++; f.mu.Unlock(); return nil }
func (f *countFSM) count() int          { f.mu.Lock(); defer f.mu.Unlock(); return f.n }
func (f *countFSM) Snapshot() (raft.FSMSnapshot, error) {
	return nil, errors.New("no snapshots in this test")
}
func (f *countFSM) Restore(io.ReadCloser) error { return errors.New("no snapshots in this test") }

// Closing the SiteListener ends both sides' Accept.
func TestSiteListenerClose(t *testing.T) {
	s := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl := Listen(ln, s.identity(t, "A"), nil)
	errs := make(chan error, 2)
	go func() { _, err := sl.Raft().Accept(); errs <- err }()
	go func() { _, err := sl.http.Accept(); errs <- err }()
	if err := sl.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errs; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	}
}

// TestRaftOnlyFromMembers: with SetMembers, a wing holding a valid site
// certificate that the site has not taken in cannot reach raft; a member
// can, and HTTP stays open to both (a wing joins through it).
func TestRaftOnlyFromMembers(t *testing.T) {
	s := newSite(t)
	a := serve(t, s.identity(t, "A"), nil, nil)
	bID, cID := s.identity(t, "B"), s.identity(t, "C")
	b, c := serve(t, bID, nil, nil), serve(t, cID, nil, nil)
	a.sl.SetMembers(func(wing string) bool { return wing == "A" || wing == "B" })

	conn, err := b.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	inbound, err := a.sl.Raft().Accept()
	if err != nil {
		t.Fatal(err)
	}
	inbound.Close()
	if conn, err := c.sl.Raft().Dial(raft.ServerAddress(a.addr), 5*time.Second); err == nil {
		if !refusedByPeer(t, conn) {
			t.Fatal("A took raft from wing C, which is not a member")
		}
		conn.Close()
	}
	if wing, code, err := whoami(cID.HTTPClient(nil), a.addr); err != nil || code != 200 || wing != "C" {
		t.Fatalf("HTTP from a wing not yet a member: %q %d %v", wing, code, err)
	}
}
