package site

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
)

// The rules a command is checked by when it is applied. A wing's site
// certificate lets it propose any command, so the FSM checks each as the
// screen that proposed it did: who acted (Command.By, with the role the
// agreed roster gives them now), which wing proposed it (Command.From,
// stamped by the leader), its texts and its times. Every wing applies the
// same log by the same rules, so every wing refuses the same commands;
// each refusal is kept in Agreed.Refused for the Site screen, and the
// proposer gets it as its error.
//
// Earlier builds checked less, and their entries stay in the log: a
// command is checked by the rules the site had agreed when it was
// applied (Agreed.Rules), which the leader raises with OpRules once it
// runs a build that knows them. Until then, commands apply as before.
const rulesVersion = 1

// maxRefused bounds Agreed.Refused: the newest refusals.
const maxRefused = 20

// maxAhead is how far a lockdown's time may be after the time the leader
// appended its entry: wings' clocks differ a little, never by hours.
const maxAhead = time.Hour

// ErrRefused is wrapped by the error of a command the site refused when
// it applied it (under the agreed rules); the cause follows it.
var ErrRefused = errors.New("site: command refused")

// Refusal is a command the site refused at apply, as the Site screen
// lists it. Every text in it is shown safely (see shown): the command's
// own fields may be anything a wing sent.
type Refusal struct {
	// Index is the command's raft index.
	Index uint64 `json:"index"`
	Op    string `json:"op"`
	// From is the wing that proposed it, By who it says acted.
	From   string `json:"from,omitempty"`
	By     string `json:"by,omitempty"`
	Reason string `json:"reason"`
	// At is when the leader appended the command to the log.
	At time.Time `json:"at,omitzero"`
}

// logEntry is where a command sits in the raft log.
type logEntry struct {
	index uint64
	at    time.Time // raft.Log.AppendedAt: the leader's clock
}

// applyCommand applies a command of the log under the rules the site
// agreed: before OpRules, as earlier builds did; after it, checked first,
// and a refusal is recorded and returned wrapping ErrRefused.
func (a *Agreed) applyCommand(c Command, at logEntry) error {
	if a.Rules < 1 {
		return a.apply(c)
	}
	err := a.check(c, at)
	if err == nil {
		err = a.apply(stampLockdown(c, at))
	}
	if err != nil {
		a.refuse(c, at, err)
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return nil
}

// refuse records a refused command, keeping the newest maxRefused. The
// list is replaced, never changed in place: snapshots share it.
func (a *Agreed) refuse(c Command, at logEntry, err error) {
	r := Refusal{Index: at.index, Op: shown(string(c.Op), 32), From: shown(c.From, 64), By: shown(c.By, 64), Reason: shown(strings.TrimPrefix(err.Error(), "site: "), event.MaxNote)}
	if !at.at.IsZero() {
		r.At = at.at.UTC()
	}
	next := append(slices.Clone(a.Refused), r)
	a.Refused = next[max(0, len(next)-maxRefused):]
}

// shown is s as a screen may show it: at most n characters, and quoted
// (escaping control, bidirectional and other invisible characters) when
// it breaks the one rule for text.
func shown(s string, n int) string {
	clip := func(s string) string {
		if utf8.RuneCountInString(s) <= n {
			return s
		}
		return string([]rune(s)[:n-1]) + "…"
	}
	s = clip(s)
	if event.CheckText("text", s) != nil {
		s = clip(strconv.Quote(s))
	}
	return s
}

// check says why the site refuses c under the rules, or nil. What apply
// itself refuses (an unknown wing, a rollout report out of turn) it leaves
// to apply.
func (a *Agreed) check(c Command, at logEntry) error {
	if !event.ValidID(c.From) {
		return fmt.Errorf("%s does not name the wing that proposed it (from %.70q)", c.Op, c.From)
	}
	if w, ok := a.Wings[c.From]; ok && w.Removed {
		return fmt.Errorf("wing %s was decommissioned: its commands are refused", c.From)
	}
	switch c.Op {
	case OpAddWing:
		// A wing joins as itself (the leader stamps the joiner's id), or
		// the leader records a raft member the list lacks.
		if c.From != c.Wing && !a.isWing(c.From) {
			return fmt.Errorf("wing %s, not of the site, cannot add wing %.70q", c.From, c.Wing)
		}
		if !event.ValidID(c.Wing) {
			return fmt.Errorf("%.70q is not a wing id", c.Wing)
		}
		if host, port, err := net.SplitHostPort(c.Addr); err != nil || host == "" || port == "" || len(c.Addr) > 255 {
			return fmt.Errorf("wing %s's address %.70q is not host:port", c.Wing, c.Addr)
		}
		if !decimal(c.Serial) {
			return fmt.Errorf("wing %s's certificate serial %.70q is not a decimal number", c.Wing, c.Serial)
		}
	case OpRemoveWing, OpReplaceWing:
		if err := a.siteIT(c.By, "decommissioning or replacing a wing"); err != nil {
			return err
		}
		if c.Wing == c.From {
			return fmt.Errorf("wing %s cannot decommission or replace itself: run the command on another wing", c.From)
		}
	case OpLockdown:
		return a.checkLockdown(c, at)
	case OpRoster:
		return a.siteIT(c.By, "replacing the roster")
	case OpOfficerSet, OpOfficerRemove, OpOfficerPIN:
		return a.checkOfficer(c)
	case OpRolloutStart:
		if err := a.siteIT(c.By, "starting a firmware rollout"); err != nil {
			return err
		}
		if r := c.Rollout; r != nil {
			if r.Holder != c.From {
				return fmt.Errorf("wing %s proposed a rollout of a bundle held by %.70q: the wing site IT uploaded it to proposes it", c.From, r.Holder)
			}
			if err := event.CheckText("build's name", r.Display); err != nil {
				return err
			}
		}
	case OpRolloutStop:
		if err := a.siteIT(c.By, "stopping a firmware rollout"); err != nil {
			return err
		}
		return event.CheckText("reason", c.Reason)
	case OpRolloutReport:
		if c.Wing != c.From {
			return fmt.Errorf("wing %s cannot report the rollout for wing %.70q: each wing reports for itself", c.From, c.Wing)
		}
		return event.CheckText("reason", c.Reason)
	case OpAddClient, OpRevokeClient:
		return a.siteIT(c.By, "adding or revoking an off-board client")
	case OpClientPulled:
		// A wing reports how far a client pulled from it.
		if !a.isWing(c.From) {
			return fmt.Errorf("wing %s is not a wing of the site", c.From)
		}
	}
	return nil
}

// decimal reports whether s is empty or a decimal number of at most 64
// digits, as a certificate serial is written.
func decimal(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// isWing reports whether id is a wing of the site, not decommissioned.
func (a *Agreed) isWing(id string) bool {
	w, ok := a.Wings[id]
	return ok && !w.Removed
}

// role is the role by acts with: an officer's as the agreed roster gives
// it now, or SiteIT for site IT's own commands when siteIT allows them.
func (a *Agreed) role(by, what string, siteIT bool) (roster.Role, error) {
	switch {
	case by == "":
		return "", fmt.Errorf("%s names no one who acted", what)
	case by == SiteIT && siteIT:
		return roster.SiteIT, nil
	case by == SiteIT:
		return "", fmt.Errorf("%s needs a signed-in officer, not site IT's command line", what)
	}
	i := a.Roster.find(by)
	if i < 0 {
		return "", fmt.Errorf("%s: %.70q is not on the site's roster", what, by)
	}
	return a.Roster[i].Role, nil
}

// officer checks that by is on the roster with a role that allows need,
// or is site IT when siteIT allows it, and returns the role.
func (a *Agreed) officer(by string, need roster.Role, what string, siteIT bool) (roster.Role, error) {
	role, err := a.role(by, what, siteIT)
	if err != nil {
		return "", err
	}
	if !role.Allows(need) {
		return "", fmt.Errorf("%s needs %s; the roster makes officer %s %s", what, roleName(need), by, roleName(role))
	}
	return role, nil
}

// roleName is a role in a sentence.
func roleName(r roster.Role) string {
	switch r {
	case roster.Officer:
		return "an officer"
	case roster.SiteIT:
		return "site IT"
	}
	return "a " + string(r)
}

// siteIT checks that by is site IT: its own command line or token, or an
// officer the roster makes site IT.
func (a *Agreed) siteIT(by, what string) error {
	_, err := a.officer(by, roster.SiteIT, what, true)
	return err
}

// checkLockdown: a supervisor or higher on the roster, acting as the
// officer the lockdown names, with a reason by the one rule for text, at
// a time not hours after the site logged it.
func (a *Agreed) checkLockdown(c Command, at logEntry) error {
	l := c.Lockdown
	if l == nil {
		return nil // apply refuses it
	}
	if _, err := a.officer(c.By, roster.Supervisor, "declaring or ending a lockdown", false); err != nil {
		return err
	}
	if l.By != c.By {
		return fmt.Errorf("officer %s cannot declare or end a lockdown in the name of %.70q", c.By, l.By)
	}
	if err := event.CheckText("reason", l.Reason); err != nil {
		return err
	}
	// A time before any the appliance believes (a wing whose clock is not
	// set, or a forgery dated 1999) is not refused: a lockdown must never
	// wait for a clock. It takes the site's time instead (stampLockdown).
	// The leader's clock bounds it when the leader's clock is set.
	if event.Trusted(at.at) && l.Since.After(at.at.Add(maxAhead)) {
		return fmt.Errorf("the lockdown's time %s is more than %v after the site logged it (%s)", l.Since.UTC().Format(time.RFC3339), maxAhead, at.at.UTC().Format(time.RFC3339))
	}
	return nil
}

// stampLockdown gives a lockdown dated before any time the appliance
// believes the time the leader logged it, when the leader's clock is set:
// every wing applies the same entry, so every wing agrees on it.
func stampLockdown(c Command, at logEntry) Command {
	if c.Op != OpLockdown || c.Lockdown == nil || event.Trusted(c.Lockdown.Since) || !event.Trusted(at.at) {
		return c
	}
	l := *c.Lockdown
	l.Since = at.at
	c.Lockdown = &l
	return c
}

// checkOfficer applies the sign-in room's rules (appliance/signin): a
// supervisor or site IT adds, removes and resets the PIN of officers of a
// role up to their own, never removes themselves; only site IT changes an
// officer's role.
func (a *Agreed) checkOfficer(c Command) error {
	if c.Officer == nil {
		return nil // apply refuses it
	}
	o := *c.Officer
	role, err := a.officer(c.By, roster.Supervisor, "changing the roster", true)
	if err != nil {
		return err
	}
	i := a.Roster.find(o.ID)
	switch c.Op {
	case OpOfficerSet:
		switch {
		case i < 0 && !role.Allows(o.Role):
			return fmt.Errorf("%s cannot add %s: officers of a role up to their own", roleName(role), roleName(o.Role))
		case i >= 0 && a.Roster[i].Role != o.Role && role != roster.SiteIT:
			return fmt.Errorf("only site IT changes an officer's role (officer %s)", o.ID)
		case i >= 0 && !role.Allows(a.Roster[i].Role):
			return fmt.Errorf("%s cannot change %s", roleName(role), roleName(a.Roster[i].Role))
		}
	case OpOfficerRemove:
		if o.ID == c.By {
			return fmt.Errorf("officer %s cannot remove themselves: ask another supervisor", o.ID)
		}
		if i >= 0 && !role.Allows(a.Roster[i].Role) {
			return fmt.Errorf("%s cannot remove %s", roleName(role), roleName(a.Roster[i].Role))
		}
	case OpOfficerPIN:
		if i >= 0 && !role.Allows(a.Roster[i].Role) {
			return fmt.Errorf("%s cannot reset the PIN of %s", roleName(role), roleName(a.Roster[i].Role))
		}
	}
	return nil
}
