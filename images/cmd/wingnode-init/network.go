//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"wingnode/images/bootconf"
)

// linkWait bounds the wait for a network interface to appear: drivers may
// still be probing when the init starts.
const linkWait = 10 * time.Second

// configureNetwork brings up the loopback interface (the kernel gives it
// 127.0.0.1/8) and each listed interface with its address and default route.
func configureNetwork(ifaces []bootconf.Interface) error {
	nl, err := dialRoute()
	if err != nil {
		return err
	}
	defer nl.close()
	if err := nl.linkUp(1); err != nil { // lo is always index 1
		return fmt.Errorf("bring up lo: %w", err)
	}
	for _, cfg := range ifaces {
		ifi, err := waitForInterface(cfg.Name, linkWait)
		if err != nil {
			return err
		}
		if err := nl.linkUp(ifi.Index); err != nil {
			return fmt.Errorf("bring up %s: %w", cfg.Name, err)
		}
		if err := nl.addAddress(ifi.Index, cfg.Address.Addr().As4(), cfg.Address.Bits()); err != nil {
			return fmt.Errorf("address %s on %s: %w", cfg.Address, cfg.Name, err)
		}
		if cfg.Gateway.IsValid() {
			if err := nl.addDefaultRoute(ifi.Index, cfg.Gateway.As4()); err != nil {
				return fmt.Errorf("default route via %s on %s: %w", cfg.Gateway, cfg.Name, err)
			}
		}
		fmt.Fprintf(os.Stderr, "wingnode-init: %s is %s, gateway %s\n", cfg.Name, cfg.Address, cfg.Gateway)
	}
	return nil
}

func waitForInterface(name string, wait time.Duration) (*net.Interface, error) {
	deadline := time.Now().Add(wait)
	for {
		ifi, err := net.InterfaceByName(name)
		if err == nil {
			return ifi, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no network interface %s after %v: %w", name, wait, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// routeConn is a rtnetlink socket that sends one request at a time and
// waits for its acknowledgement.
type routeConn struct {
	fd  int
	seq uint32
}

func dialRoute() (*routeConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("netlink bind: %w", err)
	}
	return &routeConn{fd: fd}, nil
}

func (c *routeConn) close() { unix.Close(c.fd) }

var ne = binary.NativeEndian

// linkUp sets IFF_UP on the interface (RTM_NEWLINK with an ifinfomsg).
func (c *routeConn) linkUp(index int) error {
	msg := make([]byte, unix.SizeofIfInfomsg)
	msg[0] = unix.AF_UNSPEC
	ne.PutUint32(msg[4:], uint32(index))
	ne.PutUint32(msg[8:], unix.IFF_UP)  // flags
	ne.PutUint32(msg[12:], unix.IFF_UP) // change mask
	return c.request(unix.RTM_NEWLINK, 0, msg)
}

// addAddress adds an IPv4 address (RTM_NEWADDR with an ifaddrmsg).
func (c *routeConn) addAddress(index int, ip [4]byte, bits int) error {
	msg := make([]byte, unix.SizeofIfAddrmsg)
	msg[0] = unix.AF_INET
	msg[1] = byte(bits)
	msg[3] = unix.RT_SCOPE_UNIVERSE
	ne.PutUint32(msg[4:], uint32(index))
	msg = appendAttr(msg, unix.IFA_LOCAL, ip[:])
	msg = appendAttr(msg, unix.IFA_ADDRESS, ip[:])
	return c.request(unix.RTM_NEWADDR, unix.NLM_F_CREATE|unix.NLM_F_EXCL, msg)
}

// addDefaultRoute adds 0.0.0.0/0 via gw (RTM_NEWROUTE with an rtmsg).
func (c *routeConn) addDefaultRoute(index int, gw [4]byte) error {
	msg := make([]byte, unix.SizeofRtMsg)
	msg[0] = unix.AF_INET
	msg[4] = unix.RT_TABLE_MAIN
	msg[5] = unix.RTPROT_BOOT
	msg[6] = unix.RT_SCOPE_UNIVERSE
	msg[7] = unix.RTN_UNICAST
	msg = appendAttr(msg, unix.RTA_GATEWAY, gw[:])
	oif := make([]byte, 4)
	ne.PutUint32(oif, uint32(index))
	msg = appendAttr(msg, unix.RTA_OIF, oif)
	return c.request(unix.RTM_NEWROUTE, unix.NLM_F_CREATE|unix.NLM_F_EXCL, msg)
}

// appendAttr appends a route attribute (rtattr), padded to 4 bytes.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	var hdr [unix.SizeofRtAttr]byte
	ne.PutUint16(hdr[0:], uint16(unix.SizeofRtAttr+len(data)))
	ne.PutUint16(hdr[2:], typ)
	b = append(append(b, hdr[:]...), data...)
	return append(b, make([]byte, (4-len(b)%4)%4)...)
}

// request sends one message and returns the kernel's answer to it.
func (c *routeConn) request(typ, flags uint16, body []byte) error {
	c.seq++
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	ne.PutUint32(msg[0:], uint32(unix.SizeofNlMsghdr+len(body)))
	ne.PutUint16(msg[4:], typ)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK|flags)
	ne.PutUint32(msg[8:], c.seq)
	msg = append(msg, body...)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("netlink send: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, err := unix.Recvfrom(c.fd, buf, 0)
		if err != nil {
			return fmt.Errorf("netlink receive: %w", err)
		}
		for b := buf[:n]; len(b) >= unix.SizeofNlMsghdr; {
			l := int(ne.Uint32(b[0:]))
			if l < unix.SizeofNlMsghdr || l > len(b) {
				return fmt.Errorf("netlink: malformed answer")
			}
			if ne.Uint16(b[4:]) == unix.NLMSG_ERROR && ne.Uint32(b[8:]) == c.seq && l >= unix.SizeofNlMsghdr+4 {
				if errno := int32(ne.Uint32(b[unix.SizeofNlMsghdr:])); errno != 0 {
					return unix.Errno(-errno)
				}
				return nil
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
}
