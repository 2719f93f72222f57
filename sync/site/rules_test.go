package site

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// logged is the leader's time of appending in the rules tests.
var logged = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// ruledLog is a site of wings A, B and C under the rules, with officer
// 1001, supervisor 2001 and site IT officer 9001 on the roster, and a
// rollout of build 7 whose next wing is C.
func ruledLog() *logBuilder {
	var lb logBuilder
	for _, w := range []string{"A", "B", "C"} {
		lb.command(Command{Op: OpAddWing, From: w, Wing: w, Addr: strings.ToLower(w) + ":7000", Serial: "1"})
	}
	lb.command(Command{Op: OpRules, From: "A", Rules: rulesVersion})
	lb.command(Command{Op: OpRoster, From: "A", By: SiteIT, Roster: Roster{
		{ID: "1001", Role: roster.Officer}, {ID: "2001", Role: roster.Supervisor}, {ID: "9001", Role: roster.SiteIT},
	}})
	lb.command(Command{Op: OpRolloutStart, From: "A", By: SiteIT, Rollout: &firmware.Rollout{
		Build: 7, Display: "7.0", Digest: strings.Repeat("ab", 32), Size: 10, Holder: "A", Order: []string{"C", "B"},
	}})
	for _, l := range lb.logs {
		l.AppendedAt = logged
	}
	return &lb
}

// at gives an entry the leader's time of appending.
func (b *logBuilder) at(c Command, t time.Time) *raft.Log {
	l := b.command(c)
	l.AppendedAt = t
	return l
}

func lockdown(from, by, actor, reason string, since time.Time) Command {
	return Command{Op: OpLockdown, From: from, By: by, Lockdown: &wing.Lockdown{Active: true, Reason: reason, By: actor, Since: since}}
}

// TestCommandsRefusedAtApply: every case the issue found (a forged actor,
// an actor not on the roster or without the role, a 60 KB reason, bidi
// and NUL characters, a date far ahead, a roster of invalid
// numbers, one wing reporting for another) and the rest of each op's
// rules: each is refused with its reason, changes nothing but the list of
// refusals, and is refused alike on every wing.
func TestCommandsRefusedAtApply(t *testing.T) {
	cases := []struct {
		name, reason string
		c            Command
	}{
		{"forged actor", "in the name of \"governor-forged\"", lockdown("B", "2001", "governor-forged", "fire", logged)},
		{"actor not on the roster", "\"governor-forged\" is not on the site's roster", lockdown("B", "governor-forged", "governor-forged", "fire", logged)},
		{"no actor", "names no one who acted", lockdown("B", "", "", "fire", logged)},
		{"an officer declares", "needs a supervisor; the roster makes officer 1001 an officer", lockdown("B", "1001", "1001", "fire", logged)},
		{"site IT's line declares", "needs a signed-in officer", lockdown("B", SiteIT, SiteIT, "fire", logged)},
		{"a 60 KB reason", "at most 200", lockdown("B", "2001", "2001", strings.Repeat("x", 60<<10), logged)},
		{"a bidi override", "U+202E", lockdown("B", "2001", "2001", "fire \u202egnihtyreve", logged)},
		{"a NUL", "U+0000", lockdown("B", "2001", "2001", "fire\x00", logged)},
		{"since far ahead", "more than 1h0m0s after the site logged it", lockdown("B", "2001", "2001", "fire", logged.Add(3*time.Hour))},
		{"no from", "does not name the wing", lockdown("", "2001", "2001", "fire", logged)},
		{"from a bad id", "does not name the wing", lockdown("B C", "2001", "2001", "fire", logged)},
		{"roster of invalid numbers", "is not an officer number", Command{Op: OpRoster, From: "B", By: SiteIT, Roster: Roster{{ID: "a b", Role: roster.Officer}, {ID: "\u202e1", Role: roster.Officer}}}},
		{"roster by a supervisor", "replacing the roster needs site IT", Command{Op: OpRoster, From: "B", By: "2001", Roster: Roster{{ID: "2001", Role: roster.SiteIT}}}},
		{"officer adds an officer", "needs a supervisor", Command{Op: OpOfficerSet, From: "B", By: "1001", Officer: &roster.Entry{ID: "1002", Role: roster.Officer}}},
		{"supervisor adds site IT", "a supervisor cannot add site IT", Command{Op: OpOfficerSet, From: "B", By: "2001", Officer: &roster.Entry{ID: "9002", Role: roster.SiteIT}}},
		{"supervisor changes a role", "only site IT changes", Command{Op: OpOfficerSet, From: "B", By: "2001", Officer: &roster.Entry{ID: "1001", Role: roster.Supervisor}}},
		{"supervisor changes site IT", "cannot change site IT", Command{Op: OpOfficerSet, From: "B", By: "2001", Officer: &roster.Entry{ID: "9001", Role: roster.SiteIT, PINHash: ""}}},
		{"supervisor removes themselves", "cannot remove themselves", Command{Op: OpOfficerRemove, From: "B", By: "2001", Officer: &roster.Entry{ID: "2001"}}},
		{"supervisor removes site IT", "cannot remove site IT", Command{Op: OpOfficerRemove, From: "B", By: "2001", Officer: &roster.Entry{ID: "9001"}}},
		{"supervisor resets site IT's PIN", "cannot reset the PIN of site IT", Command{Op: OpOfficerPIN, From: "B", By: "2001", Officer: &roster.Entry{ID: "9001", PINHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5"}}},
		{"B reports for C", "wing B cannot report the rollout for wing \"C\"", Command{Op: OpRolloutReport, From: "B", Wing: "C", Build: 7}},
		{"a report's reason", "U+000A", Command{Op: OpRolloutReport, From: "C", Wing: "C", Build: 7, Reason: "failed\nlike this"}},
		{"a supervisor stops the rollout", "needs site IT", Command{Op: OpRolloutStop, From: "B", By: "2001"}},
		{"a stop's reason", "U+202E", Command{Op: OpRolloutStop, From: "B", By: SiteIT, Reason: "\u202e"}},
		{"a rollout another wing holds", "held by \"A\"", Command{Op: OpRolloutStart, From: "B", By: SiteIT, Rollout: &firmware.Rollout{Build: 8, Digest: strings.Repeat("cd", 32), Size: 1, Holder: "A", Order: []string{"A"}}}},
		{"wing.remove by a supervisor", "needs site IT", Command{Op: OpRemoveWing, From: "B", By: "2001", Wing: "C"}},
		{"a wing removes itself", "cannot decommission or replace itself", Command{Op: OpRemoveWing, From: "C", By: SiteIT, Wing: "C"}},
		{"a client added by no one", "names no one", Command{Op: OpAddClient, From: "B", Client: "hq", ClientRecord: &ClientRecord{Role: RoleCentral, Serial: "5"}}},
		{"a wing added by a stranger", "not of the site", Command{Op: OpAddWing, From: "Z", Wing: "Y", Addr: "y:1"}},
		{"a wing at no address", "is not host:port", Command{Op: OpAddWing, From: "D", Wing: "D", Addr: "nowhere"}},
		{"a pull reported by a stranger", "is not a wing of the site", Command{Op: OpClientPulled, From: "Z", Client: "hq", Pulled: 9}},
		{"rules lowered", "the site applies rules 1", Command{Op: OpRules, From: "B", Rules: 0}},
	}
	for _, group := range []int{1, 4} { // entry by entry, and as raft batches them
		lb := ruledLog()
		base := len(lb.logs)
		for _, tc := range cases {
			lb.at(tc.c, logged)
		}
		w := newWing(t, "A", 0)
		results := applyInGroups(w.f, lb.logs, group)
		for i, r := range results[:base] {
			require.NoError(t, r.(ApplyResult).Err, "setup entry %d", i+1)
		}
		agreed := w.f.snapshot().Agreed
		require.Len(t, agreed.Refused, maxRefused, "the newest refusals are kept")
		skipped := len(cases) - maxRefused
		for i, tc := range cases {
			err := results[base+i].(ApplyResult).Err
			require.ErrorIs(t, err, ErrRefused, tc.name)
			assert.Contains(t, err.Error(), tc.reason, tc.name)
			if i < skipped {
				continue
			}
			got := agreed.Refused[i-skipped]
			assert.Equal(t, uint64(base+i+1), got.Index, tc.name)
			assert.Equal(t, string(tc.c.Op), got.Op, tc.name)
			assert.Equal(t, logged, got.At, tc.name)
			assert.LessOrEqual(t, len([]rune(got.Reason)), 200, tc.name)
			assert.NoError(t, checkShown(got), tc.name)
		}
		// Nothing but the refusals changed.
		setup := newWing(t, "A", 0)
		applyInGroups(setup.f, ruledLog().logs, 1)
		want := setup.f.snapshot().Agreed
		want.Refused = agreed.Refused
		assert.Equal(t, want, agreed, "group %d", group)
	}
}

// checkShown says what breaks the one rule for text in a refusal.
func checkShown(r Refusal) error {
	for _, s := range []string{r.Op, r.From, r.By, r.Reason} {
		if shown(s, 200) != s {
			return assert.AnError
		}
	}
	return nil
}

// TestCommandsAcceptedUnderTheRules: what the screens, the sign-in room,
// site IT's command line and the wings themselves propose still applies.
func TestCommandsAcceptedUnderTheRules(t *testing.T) {
	hash := hashOf(t, "4321")
	lb := ruledLog()
	for _, c := range []Command{
		lockdown("B", "2001", "2001", "fire on landing 2", logged.Add(30*time.Second)),
		lockdown("C", "9001", "9001", "", logged.Add(59*time.Minute)), // a wing's clock a little ahead
		{Op: OpOfficerSet, From: "B", By: "2001", Officer: &roster.Entry{ID: "1002", Role: roster.Officer, PINHash: hash}},
		{Op: OpOfficerSet, From: "B", By: "2001", Officer: &roster.Entry{ID: "2002", Role: roster.Supervisor}},
		{Op: OpOfficerPIN, From: "B", By: "2001", Officer: &roster.Entry{ID: "1001", PINHash: hash}},
		{Op: OpOfficerRemove, From: "B", By: "2001", Officer: &roster.Entry{ID: "2002"}},
		{Op: OpOfficerSet, From: "C", By: "9001", Officer: &roster.Entry{ID: "1002", Role: roster.Supervisor}},
		{Op: OpOfficerPIN, From: "A", By: SiteIT, Officer: &roster.Entry{ID: "9001", PINHash: hash}},
		{Op: OpRolloutReport, From: "C", Wing: "C", Build: 7},
		{Op: OpRolloutReport, From: "B", Wing: "B", Build: 7, Reason: "the install was refused (no space)"},
		{Op: OpAddClient, From: "A", By: SiteIT, Client: "hq", ClientRecord: &ClientRecord{Role: RoleCentral, Serial: "5"}},
		{Op: OpClientPulled, From: "B", Client: "hq", Pulled: 3},
		{Op: OpAddWing, From: "D", Wing: "D", Addr: "d:7000", Serial: "99"},
		{Op: OpReplaceWing, From: "A", By: SiteIT, Wing: "D"},
		{Op: OpRemoveWing, From: "A", By: "9001", Wing: "D"},
	} {
		lb.at(c, logged)
	}
	w := newWing(t, "A", 0)
	for i, r := range applyInGroups(w.f, lb.logs, 3) {
		require.NoError(t, r.(ApplyResult).Err, "entry %d", i+1)
	}
	a := w.f.snapshot().Agreed
	assert.Empty(t, a.Refused)
	assert.Equal(t, wing.Lockdown{Active: true, Reason: "", By: "9001", Since: logged.Add(59 * time.Minute)}, a.Lockdown)
	assert.Equal(t, []roster.Actor{{ID: "1001", Role: roster.Officer}, {ID: "1002", Role: roster.Supervisor}, {ID: "2001", Role: roster.Supervisor}, {ID: "9001", Role: roster.SiteIT}}, a.Roster.Actors())
	assert.Equal(t, []string{"C"}, a.Rollout.Done)
	assert.Contains(t, a.Rollout.Stopped, "no space")
	assert.Equal(t, uint64(3), a.Clients["hq"].Pulled)
	assert.True(t, a.Wings["D"].Removed)
}

// TestEarlierEntriesApplyAsBefore: entries before site.rules (from
// earlier builds, without From or By) apply as they always did, so a wing
// that replays an old log agrees with the wings that applied it then; the
// same command after it is refused. An earlier build's snapshot, without
// the rules or refusals, restores under the old rules.
func TestEarlierEntriesApplyAsBefore(t *testing.T) {
	forged := Command{Op: OpLockdown, Lockdown: &wing.Lockdown{Active: true, Reason: strings.Repeat("x", 300), By: "governor-forged", Since: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}}
	var lb logBuilder
	lb.command(Command{Op: OpAddWing, Wing: "A", Addr: "a:7000"})
	lb.command(forged)
	lb.command(Command{Op: OpRules, From: "A", Rules: rulesVersion})
	lb.command(forged)
	lb.command(Command{Op: OpRules, From: "A", Rules: rulesVersion + 1})
	w := newWing(t, "A", 0)
	results := applyInGroups(w.f, lb.logs, 2)
	checkOutcomes(t, "A", results, []outcome{{}, {}, {}, {err: ErrRefused}, {err: ErrRefused}})
	a := w.f.snapshot().Agreed
	assert.Equal(t, "governor-forged", a.Lockdown.By, "the earlier entry applied as it did")
	assert.Equal(t, rulesVersion, a.Rules)
	require.Len(t, a.Refused, 2)
	assert.Equal(t, Refusal{Index: 4, Op: "lockdown", Reason: `lockdown does not name the wing that proposed it (from "")`}, a.Refused[0])

	// The refusals and the rules travel in the snapshot.
	var snap fsmState
	require.NoError(t, json.Unmarshal(persist(t, w.f), &snap))
	assert.Equal(t, a.Refused, snap.Agreed.Refused)
	assert.Equal(t, rulesVersion, snap.Agreed.Rules)
	w.reopen(t)
	assert.Equal(t, a.Refused, w.f.snapshot().Agreed.Refused, "a restart reads them back")
	assert.Equal(t, rulesVersion, w.f.snapshot().Agreed.Rules)

	// An earlier build's state has neither: the old rules apply.
	var old fsmState
	require.NoError(t, json.Unmarshal([]byte(`{"applied":3,"committed":{},"agreed":{"wings":{"A":{"addr":"a:7000"}},"lockdown":{"active":false},"roster":["1001"]}}`), &old))
	assert.Zero(t, old.Agreed.Rules)
	assert.NoError(t, old.Agreed.applyCommand(forged, logEntry{index: 4}))
	assert.Empty(t, old.Agreed.Refused)
}

// TestLockdownDatedBeforeAnyTrustedTimeTakesTheSitesTime: a lockdown from
// a wing whose clock is not set (or dated 1999) is not refused, since a
// lockdown must never wait for a clock, nor shown as of 1999: it takes
// the time the leader logged it, the same on every wing. With the
// leader's clock not set either, it keeps the time it was given.
func TestLockdownDatedBeforeAnyTrustedTimeTakesTheSitesTime(t *testing.T) {
	dated1999 := time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)
	lb := ruledLog()
	lb.at(lockdown("B", "2001", "2001", "fire", dated1999), logged.Add(time.Minute))
	w := newWing(t, "A", 0)
	for i, r := range applyInGroups(w.f, lb.logs, 2) {
		require.NoError(t, r.(ApplyResult).Err, "entry %d", i+1)
	}
	a := w.f.snapshot().Agreed
	assert.Empty(t, a.Refused)
	assert.Equal(t, wing.Lockdown{Active: true, Reason: "fire", By: "2001", Since: logged.Add(time.Minute)}, a.Lockdown)

	lb = ruledLog()
	lb.at(lockdown("B", "2001", "2001", "fire", dated1999), time.Date(1999, 1, 1, 0, 5, 0, 0, time.UTC))
	w = newWing(t, "A", 0)
	for i, r := range applyInGroups(w.f, lb.logs, 2) {
		require.NoError(t, r.(ApplyResult).Err, "entry %d", i+1)
	}
	assert.Equal(t, dated1999, w.f.snapshot().Agreed.Lockdown.Since, "no clock on the site believes a time: the lockdown keeps its own")
}
