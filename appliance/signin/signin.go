package signin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
)

// Store is where the room records (*store.Store).
type Store interface {
	// Append records a draft and returns once it is on disk.
	Append(ctx context.Context, d event.Draft) (event.Record, error)
}

// Config configures a sign-in room. Store and Roster are needed.
type Config struct {
	// Store records sign-ins, sign-outs, refusals and lock-outs.
	Store Store
	// Roster returns the roster the wing holds, with the PIN hashes; nil
	// or empty while it holds none.
	Roster func() []roster.Entry
	// Site is the wing's site membership, for roster changes; nil, or a
	// func returning nil, while the wing has none.
	Site func() Site
	// Clock times lock-outs; default the real clock.
	Clock clockwork.Clock
	// Log receives operational messages (never a PIN or a hash); default
	// slog.Default().
	Log *slog.Logger
	// MaxFailures is how many wrong PINs in a row lock an officer out;
	// default 5. FirstLockout is the first lock-out's length, doubled at
	// each further wrong PIN up to MaxLockout; defaults 30 s and 15 min.
	MaxFailures  int
	FirstLockout time.Duration
	MaxLockout   time.Duration
}

// forgetAfter is how long after an officer's last wrong PIN (and the end
// of any lock-out) the room forgets the officer's wrong PINs.
const forgetAfter = time.Hour

// The reasons a session ends, in officer.signed_out's "reason".
const (
	ReasonIdle      = "idle"       // no touch for the wing's idle time
	ReasonSwitch    = "switch"     // a quick switch of officer
	ReasonSignedOut = "signed-out" // the officer signed out
	ReasonRemoved   = "removed"    // the officer left the roster
)

// UnknownOfficer is the subject of a refused sign-in whose number is not
// on the roster: what was typed is not recorded.
const UnknownOfficer = "unknown"

// ErrRefused is returned by SignIn when the officer number and PIN do not
// match: a wrong PIN, a number not on the roster, or an officer without a
// PIN. It does not say which, so the screen tells a guesser nothing.
var ErrRefused = errors.New("signin: that officer number and PIN do not match")

// LockedOutError is returned by SignIn while an officer is locked out
// after too many wrong PINs.
type LockedOutError struct {
	Officer string
	Until   time.Time
}

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("signin: officer %s is locked out after too many wrong PINs until %s", e.Officer, e.Until.Format(time.RFC3339))
}

// Room is a wing's sign-in room. Its methods are safe to call at once.
type Room struct {
	cfg Config
	// verify lets one argon2id verification run at a time: each takes
	// tens of megabytes and tens of milliseconds, and a flood of guesses
	// must neither exhaust the board nor guess faster.
	verify chan struct{}
	// dummy is a hash that is checked when the number is not on the
	// roster, so that a refusal takes as long whether it is or not.
	dummy     string
	dummyOnce sync.Once

	mu       sync.Mutex
	failures map[string]*failures // by officer on the roster
}

// failures is an officer's run of wrong PINs.
type failures struct {
	count    int
	lockouts int       // lock-outs in this run
	until    time.Time // end of the current lock-out
	last     time.Time // the latest wrong PIN
}

// New returns a sign-in room.
func New(cfg Config) *Room {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Site == nil {
		cfg.Site = func() Site { return nil }
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 5
	}
	if cfg.FirstLockout <= 0 {
		cfg.FirstLockout = 30 * time.Second
	}
	if cfg.MaxLockout <= 0 {
		cfg.MaxLockout = 15 * time.Minute
	}
	return &Room{cfg: cfg, verify: make(chan struct{}, 1), failures: map[string]*failures{}}
}

// officer returns the roster's entry for id.
func (r *Room) officer(id string) (roster.Entry, bool) {
	if r.cfg.Roster == nil {
		return roster.Entry{}, false
	}
	for _, e := range r.cfg.Roster() {
		if e.ID == id {
			return e, true
		}
	}
	return roster.Entry{}, false
}

// lockedUntil is the end of the officer's lock-out, zero when there is none.
func (r *Room) lockedUntil(id string) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.failures[id]
	if f == nil {
		return time.Time{}
	}
	now := r.cfg.Clock.Now()
	if now.Before(f.until) {
		return f.until
	}
	if now.Sub(f.last) > forgetAfter && now.Sub(f.until) > forgetAfter {
		delete(r.failures, id)
	}
	return time.Time{}
}

// SignIn checks the officer number id and pin against the roster the wing
// holds and records the outcome. It returns the officer as an Actor (with
// the role the roster gives), ErrRefused when the number and PIN do not
// match, a *LockedOutError while the officer is locked out, or an error
// when the sign-in could not be recorded (then nobody is signed in).
func (r *Room) SignIn(ctx context.Context, id, pin string) (roster.Actor, error) {
	if !roster.ValidID(id) {
		r.refused(ctx, UnknownOfficer, map[string]string{"reason": "unknown-officer"})
		return roster.Actor{}, ErrRefused
	}
	if until := r.lockedUntil(id); !until.IsZero() {
		// Not recorded, not verified: the lock-out is, once.
		return roster.Actor{}, &LockedOutError{Officer: id, Until: until}
	}
	select {
	case r.verify <- struct{}{}:
	case <-ctx.Done():
		return roster.Actor{}, fmt.Errorf("signin: waited too long to check the PIN; try again: %w", ctx.Err())
	}
	// Another attempt may have locked the officer out while this one waited.
	if until := r.lockedUntil(id); !until.IsZero() {
		<-r.verify
		return roster.Actor{}, &LockedOutError{Officer: id, Until: until}
	}
	e, known := r.officer(id)
	var ok bool
	var err error
	if known && e.PINHash != "" {
		ok, err = roster.VerifyPIN(e.PINHash, pin)
	} else {
		roster.VerifyPIN(r.dummyHash(), pin)
	}
	<-r.verify
	switch {
	case !known:
		r.refused(ctx, UnknownOfficer, map[string]string{"reason": "unknown-officer"})
		return roster.Actor{}, ErrRefused
	case e.PINHash == "":
		r.refused(ctx, id, map[string]string{"reason": "no-pin"})
		return roster.Actor{}, ErrRefused
	case err != nil:
		// Hashes are checked when the site agrees them; this is a damaged
		// roster, which site IT mends by setting the PIN again.
		r.cfg.Log.Error("the roster's PIN hash of an officer cannot be read; set the officer's PIN again", "officer", id)
		r.refused(ctx, id, map[string]string{"reason": "damaged-pin"})
		return roster.Actor{}, ErrRefused
	case !ok:
		return roster.Actor{}, r.wrongPIN(ctx, id)
	}
	r.mu.Lock()
	delete(r.failures, id)
	r.mu.Unlock()
	a := e.Actor()
	if _, err := r.cfg.Store.Append(ctx, event.Draft{Kind: event.OfficerSignedIn, Subject: a.ID, Actor: a.ID,
		Data: map[string]string{"role": string(a.Role)}}); err != nil {
		return roster.Actor{}, fmt.Errorf("signin: the sign-in could not be recorded, so officer %s is not signed in: %w", a.ID, err)
	}
	return a, nil
}

// wrongPIN counts a wrong PIN and locks the officer out at the limit.
func (r *Room) wrongPIN(ctx context.Context, id string) error {
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	f := r.failures[id]
	if f == nil {
		f = &failures{}
		r.failures[id] = f
	}
	f.count++
	f.last = now
	count := f.count
	var until time.Time
	if count >= r.cfg.MaxFailures {
		d := r.cfg.FirstLockout
		for range f.lockouts {
			d = min(2*d, r.cfg.MaxLockout)
		}
		f.lockouts++
		f.until = now.Add(d)
		until = f.until
	}
	r.mu.Unlock()
	r.refused(ctx, id, map[string]string{"reason": "wrong-pin", "failures": strconv.Itoa(count)})
	if until.IsZero() {
		return ErrRefused
	}
	r.cfg.Log.Warn("officer locked out after wrong PINs", "officer", id, "failures", count, "until", until)
	r.record(ctx, event.Draft{Kind: event.OfficerLockedOut, Subject: id, Actor: event.SystemActor,
		Data: map[string]string{"failures": strconv.Itoa(count), "until": until.UTC().Format(time.RFC3339)}})
	return &LockedOutError{Officer: id, Until: until}
}

// refused records a refused sign-in.
func (r *Room) refused(ctx context.Context, subject string, data map[string]string) {
	r.record(ctx, event.Draft{Kind: event.OfficerSignInFailed, Subject: subject, Actor: event.SystemActor, Data: data})
}

// record records d; a refusal stands whether or not it could be recorded.
func (r *Room) record(ctx context.Context, d event.Draft) {
	if _, err := r.cfg.Store.Append(ctx, d); err != nil {
		r.cfg.Log.Error("signin: could not record", "kind", d.Kind, "officer", d.Subject, "err", err)
	}
}

// dummyHash is a hash of no one's PIN, made once.
func (r *Room) dummyHash() string {
	r.dummyOnce.Do(func() {
		r.dummy, _ = roster.HashPIN("00000000")
	})
	return r.dummy
}

// SignOut records that officer a's session ended, for reason (one of the
// Reason constants).
func (r *Room) SignOut(ctx context.Context, a roster.Actor, reason string) error {
	switch reason {
	case ReasonIdle, ReasonSwitch, ReasonSignedOut, ReasonRemoved:
	default:
		return fmt.Errorf("signin: %q is not a reason to sign out (idle, switch, signed-out or removed)", reason)
	}
	if !roster.ValidID(a.ID) {
		return fmt.Errorf("signin: sign out: %.70q is not an officer number", a.ID)
	}
	if _, err := r.cfg.Store.Append(ctx, event.Draft{Kind: event.OfficerSignedOut, Subject: a.ID, Actor: a.ID,
		Data: map[string]string{"reason": reason}}); err != nil {
		return fmt.Errorf("signin: the sign-out of officer %s could not be recorded: %w", a.ID, err)
	}
	return nil
}
