package site

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// testOutbox is wing A's outbox over a store holding n of its events, and
// a reader of other wings' outboxes through plain HTTP.
func testOutbox(t *testing.T, n int) (*testWing, *outbox) {
	t.Helper()
	w := newWing(t, "A", n)
	o := &outbox{wing: "A", store: w.st, recorded: newSignal(), stop: make(chan struct{}), clock: clockwork.NewRealClock(),
		get: func(ctx context.Context, u, _ string) ([]byte, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.Replace(u, "https://", "http://", 1), nil)
			if err != nil {
				return nil, err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			return io.ReadAll(resp.Body)
		}}
	return w, o
}

func TestOutboxServesTheWingsOwnEventsAfterASeq(t *testing.T) {
	w, o := testOutbox(t, 5)
	srv := httptest.NewServer(o)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	got, err := o.read(t.Context(), "B", addr, 2)
	require.NoError(t, err)
	assert.Equal(t, w.events[2:], got, "another wing's outbox, over the site API")
	got, err = o.read(t.Context(), "A", "", 2)
	require.NoError(t, err)
	assert.Equal(t, w.events[2:], got, "the leader's own, from its store")

	clock := clockwork.NewFakeClock()
	o.clock = clock
	done := make(chan []event.Event)
	go func() {
		got, err := o.local(t.Context(), 5, time.Minute)
		assert.NoError(t, err)
		done <- got
	}()
	require.NoError(t, clock.BlockUntilContext(t.Context(), 1))
	select {
	case <-done:
		t.Fatal("answered before its wait was up, with nothing after the head")
	case <-time.After(20 * time.Millisecond):
	}
	clock.Advance(time.Minute)
	assert.Empty(t, <-done, "nothing after the head, once the wait is up")

	for _, q := range []string{"", "?after=x", "?after=1&wait=1m", "?after=1&wait=soon"} {
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/site/v1/outbox"+q, nil))
		assert.Equal(t, http.StatusBadRequest, rec.Code, q)
	}
}

func TestOutboxAnswersOnceTheWingRecords(t *testing.T) {
	w, o := testOutbox(t, 1)
	done := make(chan []event.Event)
	go func() {
		got, err := o.local(t.Context(), 1, 10*time.Second)
		assert.NoError(t, err)
		done <- got
	}()
	time.Sleep(20 * time.Millisecond)
	r, err := w.st.Append(t.Context(), event.Draft{Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor})
	require.NoError(t, err)
	o.recorded.fire()
	select {
	case got := <-done:
		assert.Equal(t, []event.Event{r.Event}, got)
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting read did not wake when the wing recorded")
	}
}
