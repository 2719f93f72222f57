package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sort"
)

// Mesh is a Proxy for every ordered pair of named members: traffic from A to
// B goes through Link("A", "B"), so faults can be one-way. Feed Routes(name)
// to the member's dialler (trust.Routes) so it dials its peers through the
// mesh.
type Mesh struct {
	addrs map[string]string
	links map[[2]string]*Proxy
}

// NewMesh starts a proxy for every ordered pair of members. addrs maps each
// member's name to its real listen address. A member's links reach their
// targets from an address of its own (127.0.1.1 for the first member by
// name, 127.0.1.2 for the next, ...), as each wing has its own address on
// a network: a target's limits per client address see one client per
// member, not one for the whole mesh.
func NewMesh(addrs map[string]string) (*Mesh, error) {
	m := &Mesh{addrs: map[string]string{}, links: map[[2]string]*Proxy{}}
	for name, addr := range addrs {
		m.addrs[name] = addr
	}
	for i, from := range m.members() {
		local := net.IPv4(127, 0, 1, byte(1+i))
		for _, to := range m.members() {
			if from == to {
				continue
			}
			p, err := NewFrom(addrs[to], local)
			if err != nil {
				m.Close()
				return nil, fmt.Errorf("faultproxy: mesh link %s→%s: %w", from, to, err)
			}
			m.links[[2]string{from, to}] = p
		}
	}
	return m, nil
}

func (m *Mesh) members() []string {
	names := make([]string, 0, len(m.addrs))
	for n := range m.addrs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Routes is, for member from, the real address of every other member mapped
// to the proxy address that from must dial instead.
func (m *Mesh) Routes(from string) map[string]string {
	out := map[string]string{}
	for k, p := range m.links {
		if k[0] == from {
			out[m.addrs[k[1]]] = p.Addr()
		}
	}
	return out
}

// Link is the proxy carrying traffic from member from to member to (the
// connections that from dials to to). It panics on an unknown pair, which
// is a mistake in the test.
func (m *Mesh) Link(from, to string) *Proxy {
	p, ok := m.links[[2]string{from, to}]
	if !ok {
		panic(fmt.Sprintf("faultproxy: no mesh link %s→%s", from, to))
	}
	return p
}

// Partition blackholes every link, both directions, between members of
// different groups. Links within a group, and links of members named in no
// group, are left as they are.
func (m *Mesh) Partition(groups ...[]string) {
	group := map[string]int{}
	for i, g := range groups {
		for _, name := range g {
			group[name] = i
		}
	}
	for k, p := range m.links {
		gf, okf := group[k[0]]
		gt, okt := group[k[1]]
		if okf && okt && gf != gt {
			p.Blackhole()
		}
	}
}

// Isolate blackholes every link to and from member.
func (m *Mesh) Isolate(member string) {
	for k, p := range m.links {
		if k[0] == member || k[1] == member {
			p.Blackhole()
		}
	}
}

// HealAll heals every link.
func (m *Mesh) HealAll() {
	for _, p := range m.links {
		p.Heal()
	}
}

// Close closes every proxy.
func (m *Mesh) Close() error {
	var errs []error
	for _, p := range m.links {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
