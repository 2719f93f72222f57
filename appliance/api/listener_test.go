package api

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLimitListener: past the limit per client a connection is closed at
// once; one closed makes room for another.
func TestLimitListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln := LimitListener(raw, 2, 10)
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
	dial := func() net.Conn {
		c, err := net.Dial("tcp", raw.Addr().String())
		require.NoError(t, err)
		return c
	}
	a, b := dial(), dial()
	first := <-accepted
	<-accepted
	third := dial()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = third.Read(make([]byte, 1))
	require.Error(t, err, "the third connection from one address is closed")
	require.NoError(t, first.Close())
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("a closed connection did not make room for another")
	}
	a.Close()
	b.Close()
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
