package signin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/store"
)

// room is a sign-in room on a real store in a temporary folder, over a
// roster of an officer (1001, PIN 1111), a supervisor (2001, 2222), site
// IT (9001, 9999) and an officer with no PIN yet (1002).
type room struct {
	*Room
	store *store.Store
	clock *clockwork.FakeClock
	log   *bytes.Buffer

	mu     sync.Mutex
	roster []roster.Entry
}

func entry(t *testing.T, id string, role roster.Role, pin string) roster.Entry {
	t.Helper()
	e := roster.Entry{ID: id, Role: role}
	if pin != "" {
		h, err := roster.HashPIN(pin)
		require.NoError(t, err)
		e.PINHash = h
	}
	return e
}

func newRoom(t *testing.T) *room {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	r := &room{store: st, clock: clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)), log: &bytes.Buffer{}}
	r.roster = []roster.Entry{
		entry(t, "1001", roster.Officer, "1111"), entry(t, "1002", roster.Officer, ""),
		entry(t, "2001", roster.Supervisor, "2222"), entry(t, "9001", roster.SiteIT, "9999"),
	}
	r.Room = New(Config{Store: st, Clock: r.clock, Log: slog.New(slog.NewTextHandler(r.log, nil)),
		Roster: func() []roster.Entry {
			r.mu.Lock()
			defer r.mu.Unlock()
			return append([]roster.Entry(nil), r.roster...)
		}})
	return r
}

// events returns the recorded events of the given kinds, oldest first.
func (r *room) events(t *testing.T, kinds ...event.Kind) []event.Event {
	t.Helper()
	page, err := r.store.Query(event.Query{Kinds: kinds, Limit: 1000})
	require.NoError(t, err)
	var out []event.Event
	for i := len(page.Records) - 1; i >= 0; i-- {
		out = append(out, page.Records[i].Event)
	}
	return out
}

func TestSignInAndOut(t *testing.T) {
	r := newRoom(t)
	ctx := t.Context()
	a, err := r.SignIn(ctx, "2001", "2222")
	require.NoError(t, err)
	assert.Equal(t, roster.Actor{ID: "2001", Role: roster.Supervisor}, a)
	for _, reason := range []string{ReasonIdle, ReasonSwitch, ReasonSignedOut, ReasonRemoved} {
		require.NoError(t, r.SignOut(ctx, a, reason))
	}
	assert.Error(t, r.SignOut(ctx, a, "bored"))

	evs := r.events(t, event.OfficerSignedIn, event.OfficerSignedOut)
	require.Len(t, evs, 5)
	assert.Equal(t, event.OfficerSignedIn, evs[0].Kind)
	assert.Equal(t, "2001", evs[0].Subject)
	assert.Equal(t, "2001", evs[0].Actor)
	assert.Equal(t, map[string]string{"role": "supervisor"}, evs[0].Data)
	for i, reason := range []string{"idle", "switch", "signed-out", "removed"} {
		assert.Equal(t, map[string]string{"reason": reason}, evs[i+1].Data)
		assert.Equal(t, "2001", evs[i+1].Actor)
	}
}

func TestSignInRefusals(t *testing.T) {
	r := newRoom(t)
	ctx := t.Context()
	for _, c := range []struct{ id, pin, subject, reason string }{
		{"1001", "1112", "1001", "wrong-pin"},
		{"7777", "1111", UnknownOfficer, "unknown-officer"},
		{"John Smith", "1111", UnknownOfficer, "unknown-officer"},
		{"", "", UnknownOfficer, "unknown-officer"},
		{"1002", "1234", "1002", "no-pin"},
	} {
		_, err := r.SignIn(ctx, c.id, c.pin)
		assert.ErrorIs(t, err, ErrRefused, c.id)
		evs := r.events(t, event.OfficerSignInFailed)
		last := evs[len(evs)-1]
		assert.Equal(t, c.subject, last.Subject, c.id)
		assert.Equal(t, event.SystemActor, last.Actor)
		assert.Equal(t, c.reason, last.Data["reason"], c.id)
	}
	evs := r.events(t, event.OfficerSignInFailed)
	require.Len(t, evs, 5)
	assert.Equal(t, "1", evs[0].Data["failures"])
	for _, e := range evs {
		for _, typed := range []string{"John Smith", "7777", "1112", "1234", "1111"} {
			assert.NotContains(t, e.Subject, typed, "nothing typed is recorded")
			for _, v := range e.Data {
				assert.NotContains(t, v, typed)
			}
		}
	}
	assert.Empty(t, r.events(t, event.OfficerSignedIn))
}

// TestLockOutGrows: five wrong PINs lock the officer out for 30 s; each
// further wrong PIN doubles it, up to 15 minutes; the right PIN after a
// lock-out starts afresh. A lock-out is one officer's: others sign in.
func TestLockOutGrows(t *testing.T) {
	r := newRoom(t)
	ctx := t.Context()
	for i := 1; i <= 4; i++ {
		_, err := r.SignIn(ctx, "1001", "0000")
		require.ErrorIs(t, err, ErrRefused, "wrong PIN %d", i)
	}
	_, err := r.SignIn(ctx, "1001", "0000")
	var locked *LockedOutError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, r.clock.Now().Add(30*time.Second), locked.Until)
	assert.NotContains(t, err.Error(), "0000")

	// While locked out even the right PIN is refused, unverified and unrecorded.
	before := len(r.events(t))
	_, err = r.SignIn(ctx, "1001", "1111")
	require.ErrorAs(t, err, &locked)
	assert.Len(t, r.events(t), before, "refusals during a lock-out are not recorded one by one")
	_, err = r.SignIn(ctx, "2001", "2222")
	require.NoError(t, err, "another officer signs in")

	want := []time.Duration{60 * time.Second, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for _, d := range want {
		r.clock.Advance(locked.Until.Sub(r.clock.Now()))
		_, err = r.SignIn(ctx, "1001", "0000")
		require.ErrorAs(t, err, &locked)
		assert.Equal(t, r.clock.Now().Add(d), locked.Until)
	}
	outs := r.events(t, event.OfficerLockedOut)
	require.Len(t, outs, 7)
	assert.Equal(t, "1001", outs[0].Subject)
	assert.Equal(t, event.SystemActor, outs[0].Actor)
	assert.Equal(t, "5", outs[0].Data["failures"])
	assert.Equal(t, r.clock.Now().Add(15*time.Minute).UTC().Format(time.RFC3339), outs[6].Data["until"])
	assert.Contains(t, r.log.String(), "officer locked out")

	r.clock.Advance(15 * time.Minute)
	_, err = r.SignIn(ctx, "1001", "1111")
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		_, err := r.SignIn(ctx, "1001", "0000")
		require.ErrorIs(t, err, ErrRefused, "after a sign-in, five wrong PINs again before a lock-out (%d)", i)
	}
}

func TestWrongPINsAreForgottenAfterAnHour(t *testing.T) {
	r := newRoom(t)
	for range 4 {
		r.SignIn(t.Context(), "1001", "0000")
	}
	r.clock.Advance(forgetAfter + time.Second)
	_, err := r.SignIn(t.Context(), "1001", "0000")
	assert.ErrorIs(t, err, ErrRefused, "the run of four was forgotten")
}

// TestOneVerificationAtATime: many sign-ins at once verify one after
// another; one whose context ends while it waits gives up.
func TestOneVerificationAtATime(t *testing.T) {
	r := newRoom(t)
	r.verify <- struct{}{} // a verification is running
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := r.SignIn(ctx, "1001", "1111")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	<-r.verify

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := r.SignIn(t.Context(), "2001", "2222")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Len(t, r.events(t, event.OfficerSignedIn), 8)
}

// TestSignInWithoutARoster: a wing that holds no roster signs nobody in.
func TestSignInWithoutARoster(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	defer st.Close()
	_, err = New(Config{Store: st}).SignIn(t.Context(), "1001", "1111")
	assert.ErrorIs(t, err, ErrRefused)
}

// TestSignInThatCannotBeRecorded signs nobody in.
func TestSignInThatCannotBeRecorded(t *testing.T) {
	r := newRoom(t)
	require.NoError(t, r.store.Close())
	_, err := r.SignIn(t.Context(), "1001", "1111")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrRefused))
	assert.Contains(t, err.Error(), "is not signed in")
}
