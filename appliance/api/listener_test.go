package api

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimitListener: past the limit per client, or past the total, a
// connection is closed at once; the board's own address has room of its
// own, which the network cannot take; one closed makes room for another.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := LimitListener(raw, Limits{PerClient: 2, Total: 3, Own: 2})
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", raw.Addr().String())
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	served := func(what string) net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal(what)
			return nil
		}
	}
	refused := func(c net.Conn, what string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		require.ErrorIs(t, err, io.EOF, what)
	}
	dial("127.0.0.2")
	dial("127.0.0.2")
	first := served("the first connection from a client is served")
	served("the second connection from a client is served")
	refused(dial("127.0.0.2"), "the third connection from one address is closed")
	dial("127.0.0.3")
	served("another client's connection is served")
	refused(dial("127.0.0.4"), "a connection past the total is closed")
	dial("127.0.0.1")
	dial("127.0.0.1")
	served("the board's own connection is served with the network's full")
	served("and a second")
	refused(dial("127.0.0.1"), "a connection past the board's own limit is closed")
	require.NoError(t, first.Close())
	dial("127.0.0.4")
	served("a closed connection did not make room for another")
}

// TestServerTimeouts, on a Server with its timeouts scaled down: a body
// trickled in is cut off, an idle kept-alive connection is closed, and a
// stream that clears its read deadline (as the live stream does) outlives
// the read timeout.
func TestServerTimeouts(t *testing.T) {
	srv := Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stream" {
			rc := http.NewResponseController(w)
			rc.SetReadDeadline(time.Time{})
			w.WriteHeader(http.StatusOK)
			rc.Flush()
			time.Sleep(600 * time.Millisecond) // longer than the read timeout
			io.WriteString(w, "still here\n")
			return
		}
		io.Copy(io.Discard, r.Body)
	}))
	require.NotZero(t, srv.ReadTimeout)
	require.NotZero(t, srv.WriteTimeout)
	require.NotZero(t, srv.IdleTimeout)
	srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout = 100*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go srv.Serve(ln)
	defer srv.Close()

	slow, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer slow.Close()
	_, err = io.WriteString(slow, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	require.NoError(t, err)
	cut := false
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		if _, err := slow.Write([]byte("x")); err != nil {
			cut = true
			break
		}
	}
	require.True(t, cut, "a body sent a byte at a time is cut off")

	idle, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer idle.Close()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = idle.Read(make([]byte, 1))
	require.ErrorIs(t, err, io.EOF, "a connection that sends nothing is closed")

	resp, err := http.Get("http://" + ln.Addr().String() + "/stream")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, "still here\n", string(body))
}
