package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/roster"
)

// officers is the fake wing's roster and what its sign-in room did. Its
// sign-ins are not events: the real room records them (appliance/signin),
// so a test's count of the fake's records sees only what the screens did.
type officers struct {
	roster   []fakeOfficer
	log      []string             // "in 1001", "out 1001 idle", ...
	locked   map[string]time.Time // officers locked out until
	changErr error                // returned by the roster changes
}

type fakeOfficer struct {
	roster.Actor
	pin string
}

// The fake's roster: the test supervisor, an officer, a supervisor and site IT.
var testRoster = []fakeOfficer{
	{roster.Actor{ID: testOfficer, Role: roster.Supervisor}, "2468"},
	{roster.Actor{ID: "1001", Role: roster.Officer}, "1111"},
	{roster.Actor{ID: "2001", Role: roster.Supervisor}, "2222"},
	{roster.Actor{ID: "9001", Role: roster.SiteIT}, "9999"},
}

func (f *fakeWing) rosterLocked() []fakeOfficer {
	if f.officers.roster == nil {
		f.officers.roster = slices.Clone(testRoster)
	}
	return f.officers.roster
}

func (f *fakeWing) SignIn(_ context.Context, id, pin string) (roster.Actor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if until, ok := f.officers.locked[id]; ok {
		return roster.Actor{}, &LockedOutError{Officer: id, Until: until}
	}
	for _, o := range f.rosterLocked() {
		if o.ID == id && o.pin == pin {
			f.officers.log = append(f.officers.log, "in "+id)
			return o.Actor, nil
		}
	}
	f.officers.log = append(f.officers.log, "refused")
	return roster.Actor{}, fmt.Errorf("fake: %w", ErrSignInRefused)
}

func (f *fakeWing) SignOut(_ context.Context, a roster.Actor, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.officers.log = append(f.officers.log, "out "+a.ID+" "+reason)
	return nil
}

func (f *fakeWing) Roster() []roster.Actor {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []roster.Actor
	for _, o := range f.rosterLocked() {
		out = append(out, o.Actor)
	}
	return out
}

// rosterWithPINs is the fake's roster as it stands, PINs included.
func (f *fakeWing) rosterWithPINs() []fakeOfficer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.rosterLocked())
}

// signIns is what the fake's sign-in room did, in order.
func (f *fakeWing) signIns() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.officers.log)
}

// change applies a roster change unless the test set an error.
func (f *fakeWing) change(do func(r []fakeOfficer) []fakeOfficer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.officers.changErr != nil {
		return f.officers.changErr
	}
	f.officers.roster = do(f.rosterLocked())
	return nil
}

func (f *fakeWing) AddOfficer(_ context.Context, by roster.Actor, id string, role roster.Role, pin string) error {
	if !roster.ValidID(id) || strings.Contains(pin, " ") {
		return fmt.Errorf("%.70q is not an officer number", id)
	}
	return f.change(func(r []fakeOfficer) []fakeOfficer {
		return append(r, fakeOfficer{roster.Actor{ID: id, Role: role}, pin})
	})
}

func (f *fakeWing) RemoveOfficer(_ context.Context, by roster.Actor, id string) error {
	return f.change(func(r []fakeOfficer) []fakeOfficer {
		return slices.DeleteFunc(r, func(o fakeOfficer) bool { return o.ID == id })
	})
}

func (f *fakeWing) ResetPIN(_ context.Context, by roster.Actor, id, pin string) error {
	return f.change(func(r []fakeOfficer) []fakeOfficer {
		for i := range r {
			if r[i].ID == id {
				r[i].pin = pin
			}
		}
		return r
	})
}

func (f *fakeWing) SetRole(_ context.Context, by roster.Actor, id string, role roster.Role) error {
	return f.change(func(r []fakeOfficer) []fakeOfficer {
		for i := range r {
			if r[i].ID == id {
				r[i].Role = role
			}
		}
		return r
	})
}
