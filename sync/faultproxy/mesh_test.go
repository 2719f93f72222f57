package faultproxy

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// namedServer answers every connection with its name, then echoes.
func namedServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, name)
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// reach dials real address addr as member from would (through the mesh) and
// reports the name that answered, or "" if nothing answered in time.
func reach(t *testing.T, m *Mesh, from, addr string) string {
	t.Helper()
	to, ok := m.Routes(from)[addr]
	if !ok {
		t.Fatalf("no route from %s to %s", from, addr)
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", to)
	if err != nil {
		return ""
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		return ""
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return string(b)
}

func TestMesh(t *testing.T) {
	addrs := map[string]string{}
	for _, n := range []string{"A", "B", "C"} {
		addrs[n] = namedServer(t, n)
	}
	m, err := NewMesh(addrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })

	routes := m.Routes("A")
	if len(routes) != 2 || routes[addrs["B"]] != m.Link("A", "B").Addr() || routes[addrs["C"]] != m.Link("A", "C").Addr() {
		t.Fatalf("routes of A: %v", routes)
	}
	if _, self := routes[addrs["A"]]; self {
		t.Fatal("A routes to itself")
	}
	all := func(want map[[2]string]bool) {
		t.Helper()
		for _, from := range []string{"A", "B", "C"} {
			for _, to := range []string{"A", "B", "C"} {
				if from == to {
					continue
				}
				got := reach(t, m, from, addrs[to]) == to
				if got != want[[2]string{from, to}] {
					t.Errorf("%s→%s reachable=%v, want %v", from, to, got, !got)
				}
			}
		}
	}
	full := map[[2]string]bool{}
	for _, from := range []string{"A", "B", "C"} {
		for _, to := range []string{"A", "B", "C"} {
			full[[2]string{from, to}] = from != to
		}
	}
	all(full)

	// One-way fault on a single link.
	m.Link("A", "B").Cut()
	oneWay := clone(full)
	oneWay[[2]string{"A", "B"}] = false
	all(oneWay)
	m.HealAll()
	all(full)

	m.Partition([]string{"A"}, []string{"B", "C"})
	all(map[[2]string]bool{{"B", "C"}: true, {"C", "B"}: true})
	m.HealAll()
	all(full)

	m.Isolate("C")
	all(map[[2]string]bool{{"A", "B"}: true, {"B", "A"}: true})
	m.HealAll()
	all(full)
}

func clone(m map[[2]string]bool) map[[2]string]bool {
	out := map[[2]string]bool{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestMeshMembersComeFromAddressesOfTheirOwn: a target sees each member's
// links from that member's own loopback address, as it would see hosts on
// a network (its limits per client address count each member apart).
func TestMeshMembersComeFromAddressesOfTheirOwn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	from := make(chan string, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			from <- host
			c.Close()
		}
	}()
	m, err := NewMesh(map[string]string{"A": "127.0.0.1:1", "B": "127.0.0.1:2", "C": ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for member, want := range map[string]string{"A": "127.0.1.1", "B": "127.0.1.2"} {
		c, err := net.Dial("tcp", m.Routes(member)[ln.Addr().String()])
		if err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-from:
			if got != want {
				t.Errorf("%s's link reached C from %s, want %s", member, got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s's link never reached C", member)
		}
		c.Close()
	}
}
