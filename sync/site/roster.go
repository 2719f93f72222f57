package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// Roster is the officer roster as the site agrees it: every officer with
// a role and, once one is set, a PIN hash, sorted by officer number. The
// hashes stay in the agreed state (and its snapshots); only the sign-in
// check reads them (Node.Roster). What leaves the state otherwise is
// Actors: the officers without their hashes.
type Roster []roster.Entry

// maxRoster bounds the roster: the officers of a large site, with room.
const maxRoster = 5000

// Actors is the roster without its PIN hashes.
func (r Roster) Actors() []roster.Actor {
	out := make([]roster.Actor, len(r))
	for i, e := range r {
		out[i] = e.Actor()
	}
	return out
}

// find returns the position of the officer, or -1.
func (r Roster) find(id string) int {
	return slices.IndexFunc(r, func(e roster.Entry) bool { return e.ID == id })
}

// UnmarshalJSON reads a roster, also as earlier builds wrote it: a list of
// officer numbers, each then an officer without a PIN.
func (r *Roster) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(Roster, 0, len(raw))
	for _, m := range raw {
		var e roster.Entry
		var id string
		if err := json.Unmarshal(m, &id); err == nil {
			e = roster.Entry{ID: id, Role: roster.Officer}
		} else if err := json.Unmarshal(m, &e); err != nil {
			return err
		}
		out = append(out, e)
	}
	*r = out
	return nil
}

// errRosterCommand is wrapped by every refusal of a roster command.
var errRosterCommand = errors.New("site: roster command refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRosterCommand, fmt.Sprintf(format, args...))
}

// applyRoster applies the roster's commands, checking each as it would
// be checked on the wing that proposed it: a peer's bad command is
// refused here and changes nothing.
func (a *Agreed) applyRoster(c Command) error {
	switch c.Op {
	case OpRoster:
		next, err := replaceRoster(a.Roster, c.Roster)
		if err != nil {
			return err
		}
		a.Roster = next
		return nil
	}
	if c.Officer == nil {
		return refuse("%s needs the officer", c.Op)
	}
	o := *c.Officer
	if !roster.ValidID(o.ID) {
		return refuse("%.70q is not an officer number", o.ID)
	}
	i := a.Roster.find(o.ID)
	switch c.Op {
	case OpOfficerSet:
		if err := o.Check(); err != nil {
			return refuse("%v", err)
		}
		next := slices.Clone(a.Roster)
		if i < 0 {
			if len(next) >= maxRoster {
				return refuse("the roster holds %d officers, the most it can", maxRoster)
			}
			next = append(next, o)
			slices.SortFunc(next, func(x, y roster.Entry) int { return strings.Compare(x.ID, y.ID) })
		} else {
			if o.PINHash == "" {
				o.PINHash = next[i].PINHash // a role change keeps the PIN
			}
			next[i] = o
		}
		a.Roster = next
	case OpOfficerRemove:
		if i < 0 {
			return refuse("officer %s is not on the roster", o.ID)
		}
		a.Roster = slices.Delete(slices.Clone(a.Roster), i, i+1)
	case OpOfficerPIN:
		if i < 0 {
			return refuse("officer %s is not on the roster", o.ID)
		}
		if o.PINHash == "" {
			return refuse("%s needs the new PIN's hash", c.Op)
		}
		if err := roster.CheckHash(o.PINHash); err != nil {
			return refuse("officer %s: %v", o.ID, err)
		}
		next := slices.Clone(a.Roster)
		next[i].PINHash = o.PINHash
		a.Roster = next
	}
	return nil
}

// replaceRoster is the roster with the officers and roles of want, each
// officer who stays keeping the PIN hash held, sorted by number. A
// replacement carries no hashes: PINs are set one officer at a time.
func replaceRoster(held, want Roster) (Roster, error) {
	if len(want) > maxRoster {
		return nil, refuse("%d officers; the roster holds at most %d", len(want), maxRoster)
	}
	next := make(Roster, 0, len(want))
	seen := map[string]bool{}
	for _, e := range want {
		if err := e.Check(); err != nil {
			return nil, refuse("%v", err)
		}
		if e.PINHash != "" {
			return nil, refuse("officer %s: a roster replacement carries no PIN hashes; set PINs with %s", e.ID, OpOfficerPIN)
		}
		if seen[e.ID] {
			return nil, refuse("officer %s is listed twice", e.ID)
		}
		seen[e.ID] = true
		if i := held.find(e.ID); i >= 0 {
			e.PINHash = held[i].PINHash
		}
		next = append(next, e)
	}
	slices.SortFunc(next, func(x, y roster.Entry) int { return strings.Compare(x.ID, y.ID) })
	return next, nil
}

// AgreedStatus is the agreed state as it leaves the FSM (Node.Status, the
// site API's status, `wingnode site status -json`): the officers of the
// roster without their PIN hashes.
type AgreedStatus struct {
	Wings    map[string]WingRecord `json:"wings"`
	Lockdown wing.Lockdown         `json:"lockdown"`
	Roster   []roster.Actor        `json:"roster"`
	Rollout  *firmware.Rollout     `json:"rollout,omitempty"`
	// Clients are the off-board port's clients, without their token hashes.
	Clients map[string]ClientRecord `json:"clients,omitempty"`
	// Rules is the version of the rules commands are checked by, and
	// Refused the newest commands the site refused under them.
	Rules   int       `json:"rules,omitempty"`
	Refused []Refusal `json:"refused,omitempty"`
}

// status is the agreed state without the PIN hashes and token hashes.
func (a Agreed) status() AgreedStatus {
	clients := map[string]ClientRecord{}
	for name, r := range a.Clients {
		r.TokenHash = ""
		clients[name] = r
	}
	return AgreedStatus{Wings: a.Wings, Lockdown: a.Lockdown, Roster: a.Roster.Actors(), Rollout: a.Rollout, Clients: clients,
		Rules: a.Rules, Refused: slices.Clone(a.Refused)}
}

// Roster is the officer roster this wing holds, with the PIN hashes, for
// the sign-in check only: an isolated wing has the last roster it
// applied.
func (n *Node) Roster() []roster.Entry { return slices.Clone(n.fsm.snapshot().Agreed.Roster) }
