package site

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/roster"
)

// officers is a roster of officers without PINs.
func officers(ids ...string) Roster {
	out := Roster{}
	for _, id := range ids {
		out = append(out, roster.Entry{ID: id, Role: roster.Officer})
	}
	r, err := replaceRoster(nil, out)
	if err != nil {
		panic(err)
	}
	return r
}

func hashOf(t *testing.T, pin string) string {
	t.Helper()
	h, err := roster.HashPIN(pin)
	require.NoError(t, err)
	return h
}

// TestRosterCommands applies every roster command through the FSM, on a
// real store, with the refusals a peer's bad command gets.
func TestRosterCommands(t *testing.T) {
	w := newWing(t, "A", 1)
	h1001, h2001, hNew := hashOf(t, "1111"), hashOf(t, "2222"), hashOf(t, "3333")
	var lb logBuilder
	apply := func(c Command) error {
		t.Helper()
		lb.command(c)
		r := w.f.ApplyBatch(lb.logs[len(lb.logs)-1:])[0].(ApplyResult)
		return r.Err
	}
	held := func() Roster { return w.f.snapshot().Agreed.Roster }
	sup := roster.Entry{ID: "2001", Role: roster.Supervisor, PINHash: h2001}

	require.NoError(t, apply(Command{Op: OpOfficerSet, Officer: &roster.Entry{ID: "1001", Role: roster.Officer, PINHash: h1001}}))
	require.NoError(t, apply(Command{Op: OpOfficerSet, Officer: &sup}))
	assert.Equal(t, Roster{{ID: "1001", Role: roster.Officer, PINHash: h1001}, sup}, held())

	// A role change without a hash keeps the PIN.
	require.NoError(t, apply(Command{Op: OpOfficerSet, Officer: &roster.Entry{ID: "1001", Role: roster.Supervisor}}))
	assert.Equal(t, roster.Entry{ID: "1001", Role: roster.Supervisor, PINHash: h1001}, held()[0])
	require.NoError(t, apply(Command{Op: OpOfficerPIN, Officer: &roster.Entry{ID: "1001", PINHash: hNew}}))
	assert.Equal(t, hNew, held()[0].PINHash)

	// Replacing the roster keeps the hashes of those who stay.
	require.NoError(t, apply(Command{Op: OpRoster, Roster: Roster{{ID: "3001", Role: roster.SiteIT}, {ID: "1001", Role: roster.Officer}}}))
	assert.Equal(t, Roster{{ID: "1001", Role: roster.Officer, PINHash: hNew}, {ID: "3001", Role: roster.SiteIT}}, held(), "2001 left; 1001 kept the PIN; sorted by number")

	require.NoError(t, apply(Command{Op: OpOfficerRemove, Officer: &roster.Entry{ID: "3001"}}))
	assert.Equal(t, Roster{{ID: "1001", Role: roster.Officer, PINHash: hNew}}, held())

	before := held()
	for name, c := range map[string]Command{
		"set: bad number":          {Op: OpOfficerSet, Officer: &roster.Entry{ID: "John Smith", Role: roster.Officer}},
		"set: unknown role":        {Op: OpOfficerSet, Officer: &roster.Entry{ID: "1002", Role: "governor"}},
		"set: malformed hash":      {Op: OpOfficerSet, Officer: &roster.Entry{ID: "1002", Role: roster.Officer, PINHash: "1234"}},
		"set: no officer":          {Op: OpOfficerSet},
		"pin: not on the roster":   {Op: OpOfficerPIN, Officer: &roster.Entry{ID: "1002", PINHash: hNew}},
		"pin: no hash":             {Op: OpOfficerPIN, Officer: &roster.Entry{ID: "1001"}},
		"pin: malformed hash":      {Op: OpOfficerPIN, Officer: &roster.Entry{ID: "1001", PINHash: "$argon2id$v=19$m=1,t=1,p=1$x$y"}},
		"remove: not on roster":    {Op: OpOfficerRemove, Officer: &roster.Entry{ID: "1002"}},
		"replace: duplicate":       {Op: OpRoster, Roster: Roster{{ID: "1002", Role: roster.Officer}, {ID: "1002", Role: roster.Supervisor}}},
		"replace: unknown role":    {Op: OpRoster, Roster: Roster{{ID: "1002", Role: "admin"}}},
		"replace: bad number":      {Op: OpRoster, Roster: Roster{{ID: "a b", Role: roster.Officer}}},
		"replace: carries a hash":  {Op: OpRoster, Roster: Roster{{ID: "1002", Role: roster.Officer, PINHash: hNew}}},
		"replace: too many":        {Op: OpRoster, Roster: make(Roster, maxRoster+1)},
		"pin: bad number":          {Op: OpOfficerPIN, Officer: &roster.Entry{ID: "", PINHash: hNew}},
		"remove: officer not sent": {Op: OpOfficerRemove},
	} {
		err := apply(c)
		assert.ErrorIs(t, err, errRosterCommand, name)
		if c.Officer != nil && c.Officer.PINHash != "" {
			assert.NotContains(t, err.Error(), c.Officer.PINHash, "%s: no hash in the error", name)
		}
		assert.Equal(t, before, held(), "%s: nothing changed", name)
	}

	// The status carries the officers, never a hash; the snapshot keeps them.
	st, err := json.Marshal(w.f.snapshot().Agreed.status())
	require.NoError(t, err)
	assert.Contains(t, string(st), `"roster":[{"id":"1001","role":"officer"}]`)
	assert.NotContains(t, string(st), "argon2id")
	var snap fsmState
	require.NoError(t, json.Unmarshal(persist(t, w.f), &snap))
	assert.Equal(t, hNew, snap.Agreed.Roster[0].PINHash)

	// A restart reads the roster back from the store with its hashes.
	w.reopen(t)
	assert.Equal(t, before, held())
}

// TestRosterReadsTheEarlierForm: the state and commands of earlier builds
// held the roster as a list of officer numbers.
func TestRosterReadsTheEarlierForm(t *testing.T) {
	var st fsmState
	require.NoError(t, json.Unmarshal([]byte(`{"applied":3,"agreed":{"wings":{},"roster":["OFF-1022","OFF-1021"]}}`), &st))
	assert.Equal(t, Roster{{ID: "OFF-1022", Role: roster.Officer}, {ID: "OFF-1021", Role: roster.Officer}}, st.Agreed.Roster)
	c, err := decodeCommand([]byte(`{"op":"roster","roster":["OFF-1"]}`))
	require.NoError(t, err)
	assert.Equal(t, Roster{{ID: "OFF-1", Role: roster.Officer}}, c.Roster)
	_, err = decodeCommand([]byte(`{"op":"roster","roster":[7]}`))
	assert.ErrorIs(t, err, errBadEntry)
}
