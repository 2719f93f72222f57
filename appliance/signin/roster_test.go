package signin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/sync/site"
)

// fakeSite agrees every command at once, as a one-wing site would, or
// refuses all while isolated. The real site's commands are tested in
// sync/site and, end to end, in the appliance's tests.
type fakeSite struct {
	r        *room
	isolated bool
	changed  chan struct{}
}

func (f *fakeSite) Propose(_ context.Context, c site.Command) error {
	if f.isolated {
		return site.ErrNoSite
	}
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	i := slices.IndexFunc(f.r.roster, func(e roster.Entry) bool { return e.ID == c.Officer.ID })
	switch {
	case c.Op == site.OpOfficerSet && i < 0:
		f.r.roster = append(f.r.roster, *c.Officer)
	case c.Op == site.OpOfficerSet:
		f.r.roster[i].Role = c.Officer.Role
		if c.Officer.PINHash != "" {
			f.r.roster[i].PINHash = c.Officer.PINHash
		}
	case c.Op == site.OpOfficerRemove:
		f.r.roster = slices.Delete(f.r.roster, i, i+1)
	case c.Op == site.OpOfficerPIN:
		f.r.roster[i].PINHash = c.Officer.PINHash
	default:
		return fmt.Errorf("fake site: %s", c.Op)
	}
	return nil
}

func (f *fakeSite) Roster() []roster.Entry { return f.r.Room.cfg.Roster() }

func (f *fakeSite) Changed() <-chan struct{} { return f.changed }

func withSite(r *room) *fakeSite {
	f := &fakeSite{r: r, changed: make(chan struct{})}
	r.Room.cfg.Site = func() Site { return f }
	return f
}

var (
	officer    = roster.Actor{ID: "1001", Role: roster.Officer}
	supervisor = roster.Actor{ID: "2001", Role: roster.Supervisor}
	siteIT     = roster.Actor{ID: "9001", Role: roster.SiteIT}
)

func TestRosterChanges(t *testing.T) {
	r := newRoom(t)
	withSite(r)
	ctx := t.Context()

	require.NoError(t, r.AddOfficer(ctx, supervisor, "1003", roster.Officer, "4821"))
	a, err := r.SignIn(ctx, "1003", "4821")
	require.NoError(t, err)
	assert.Equal(t, roster.Actor{ID: "1003", Role: roster.Officer}, a)
	require.NoError(t, r.ResetPIN(ctx, supervisor, "1003", "5932"))
	_, err = r.SignIn(ctx, "1003", "4821")
	assert.ErrorIs(t, err, ErrRefused, "the old PIN no longer works")
	_, err = r.SignIn(ctx, "1003", "5932")
	require.NoError(t, err)
	require.NoError(t, r.SetRole(ctx, siteIT, "1003", roster.Supervisor))
	a, err = r.SignIn(ctx, "1003", "5932")
	require.NoError(t, err)
	assert.Equal(t, roster.Supervisor, a.Role, "a role change keeps the PIN")
	require.NoError(t, r.RemoveOfficer(ctx, supervisor, "1003"))
	_, err = r.SignIn(ctx, "1003", "5932")
	assert.ErrorIs(t, err, ErrRefused)

	evs := r.events(t, event.RosterChanged)
	require.Len(t, evs, 4)
	for i, want := range []map[string]string{
		{"officer": "1003", "role": "officer", "change": "added"},
		{"officer": "1003", "role": "officer", "change": "pin-reset"},
		{"officer": "1003", "role": "supervisor", "change": "role-changed"},
		{"officer": "1003", "role": "supervisor", "change": "removed"},
	} {
		assert.Equal(t, want, evs[i].Data)
		assert.Equal(t, "1003", evs[i].Subject)
	}
	assert.Equal(t, "2001", evs[0].Actor)
	assert.Equal(t, "9001", evs[2].Actor)
}

func TestRosterChangeRefusals(t *testing.T) {
	r := newRoom(t)
	f := withSite(r)
	ctx := t.Context()
	before := r.Room.cfg.Roster()
	for name, c := range map[string]struct {
		do   func() error
		says string
		not  bool // refused as not allowed
	}{
		"an officer adds":             {func() error { return r.AddOfficer(ctx, officer, "1003", roster.Officer, "4821") }, "only a supervisor", true},
		"a supervisor adds site IT":   {func() error { return r.AddOfficer(ctx, supervisor, "1003", roster.SiteIT, "4821") }, "up to their own", true},
		"add someone on the roster":   {func() error { return r.AddOfficer(ctx, supervisor, "1001", roster.Officer, "4821") }, "already on the roster", false},
		"add a name":                  {func() error { return r.AddOfficer(ctx, supervisor, "John Smith", roster.Officer, "4821") }, "not an officer number", false},
		"add with a short PIN":        {func() error { return r.AddOfficer(ctx, supervisor, "1003", roster.Officer, "48") }, "4 to 12 digits", false},
		"add an unknown role":         {func() error { return r.AddOfficer(ctx, siteIT, "1003", "governor", "4821") }, "not a role", false},
		"an officer removes":          {func() error { return r.RemoveOfficer(ctx, officer, "1002") }, "only a supervisor", true},
		"a supervisor removes siteit": {func() error { return r.RemoveOfficer(ctx, supervisor, "9001") }, "cannot remove a siteit", true},
		"remove oneself":              {func() error { return r.RemoveOfficer(ctx, supervisor, "2001") }, "cannot remove themselves", true},
		"remove someone not there":    {func() error { return r.RemoveOfficer(ctx, supervisor, "7777") }, "not on the roster", false},
		"an officer resets a PIN":     {func() error { return r.ResetPIN(ctx, officer, "1002", "4821") }, "only a supervisor", true},
		"a supervisor resets siteit":  {func() error { return r.ResetPIN(ctx, supervisor, "9001", "4821") }, "cannot reset the PIN of a siteit", true},
		"reset to a bad PIN":          {func() error { return r.ResetPIN(ctx, supervisor, "1001", "12ab") }, "digits only", false},
		"a supervisor changes a role": {func() error { return r.SetRole(ctx, supervisor, "1001", roster.Supervisor) }, "only site IT", true},
		"change to an unknown role":   {func() error { return r.SetRole(ctx, siteIT, "1001", "governor") }, "not a role", false},
	} {
		err := c.do()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), c.says, name)
		assert.Equal(t, c.not, errors.Is(err, ErrNotAllowed), name)
		assert.Equal(t, before, r.Room.cfg.Roster(), "%s: nothing changed", name)
	}
	assert.Empty(t, r.events(t, event.RosterChanged), "nothing recorded")

	f.isolated = true
	err := r.ResetPIN(ctx, supervisor, "1001", "4821")
	assert.ErrorIs(t, err, ErrNoSite)
	assert.ErrorIs(t, err, site.ErrNoSite)
	r.Room.cfg.Site = func() Site { return nil }
	assert.ErrorIs(t, r.AddOfficer(ctx, supervisor, "1003", roster.Officer, "4821"), ErrNoSite)
	assert.Empty(t, r.events(t, event.RosterChanged), "nothing recorded while the site cannot agree")
	_, err = r.SignIn(ctx, "1001", "1111")
	assert.NoError(t, err, "an isolated wing signs in against the roster it holds")
}
