package site

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/jonboulle/clockwork"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// Agreed is what the site agrees on through raft, beside the events.
type Agreed struct {
	// Wings are the wings that joined the site, by id; removed ones stay,
	// marked, so their certificates stay refused.
	Wings map[string]WingRecord `json:"wings"`
	// Lockdown is the site-wide lockdown.
	Lockdown wing.Lockdown `json:"lockdown"`
	// Roster is the officers who may sign in on any wing, with their
	// roles and PIN hashes (see roster.go).
	Roster Roster `json:"roster"`
	// Rollout is the latest firmware rollout, nil before the first.
	Rollout *firmware.Rollout `json:"rollout,omitempty"`
	// Clients are the central systems and site IT tools that may use the
	// wings' off-board ports, by name; revoked ones stay, marked.
	Clients map[string]ClientRecord `json:"clients,omitempty"`
	// Rules is the version of the rules commands are checked by at apply
	// (rules.go); 0, as in the state of earlier builds, applies them as
	// those builds did.
	Rules int `json:"rules,omitempty"`
	// Refused are the newest commands the site refused under the rules,
	// oldest first, at most maxRefused.
	Refused []Refusal `json:"refused,omitempty"`
}

// Roles of off-board clients.
const (
	RoleCentral = "central" // reads the site's events, metrics and health
	RoleSiteIT  = "siteit"  // all of that, and backups
)

// ClientRecord is one client of the off-board port: its role and the one
// credential it holds, a client certificate (by serial) or a bearer token
// (by the SHA-256 of it; the token itself is never kept).
type ClientRecord struct {
	Role      string `json:"role"`
	Serial    string `json:"serial,omitempty"`
	TokenHash string `json:"token_hash,omitempty"`
	Revoked   bool   `json:"revoked,omitempty"`
	// Pulled is the raft index up to which the client has pulled the
	// site's events, as the wings it pulled from reported: retention keeps
	// every event after the lowest of them.
	Pulled uint64 `json:"pulled,omitempty"`
}

// WingRecord is one wing of the site.
type WingRecord struct {
	Addr    string `json:"addr"`
	Serial  string `json:"serial,omitempty"`
	Removed bool   `json:"removed,omitempty"`
	// Replaced are the serials of the wing's earlier certificates, from
	// boards it was replaced on (OpReplaceWing): refused like a removed
	// wing's.
	Replaced []string `json:"replaced,omitempty"`
}

// fsmState is the FSM's state as stored beside the events and as a raft
// snapshot. The events themselves live in the store.
type fsmState struct {
	Applied   uint64            `json:"applied"`
	Committed map[string]uint64 `json:"committed"`
	Agreed    Agreed            `json:"agreed"`
}

// ApplyResult is the response of applying one log entry.
type ApplyResult struct {
	// Committed is the entry's wing's committed seq after the entry.
	Committed uint64
	// Err says why the entry changed nothing: a gap, a refused event or a
	// malformed entry.
	Err error
}

// fsm applies committed log entries to the store. It is deterministic:
// the same log gives the same store contents and the same state on every
// wing.
type fsm struct {
	store Store
	log   *slog.Logger
	// catchUp fetches committed events from peers until the store holds
	// everything the snapshot state says is committed.
	catchUp func(ctx context.Context, st fsmState) error
	stop    <-chan struct{}
	applied func()          // called after every applied batch
	clock   clockwork.Clock // times the retries of a store that refuses committed events

	mu    sync.RWMutex
	state fsmState
}

func newFSM(st Store, log *slog.Logger, stop <-chan struct{}) (*fsm, error) {
	f := &fsm{store: st, log: log, stop: stop, applied: func() {}, clock: clockwork.NewRealClock(), catchUp: func(context.Context, fsmState) error {
		return errors.New("this wing has no way to fetch the events it lacks")
	}}
	held, err := st.Site()
	if err != nil {
		return nil, err
	}
	f.state = fsmState{Committed: map[string]uint64{}, Agreed: Agreed{Wings: map[string]WingRecord{}}}
	if len(held.FSM) > 0 {
		if err := json.Unmarshal(held.FSM, &f.state); err != nil {
			return nil, fmt.Errorf("site: stored replication state is unreadable (%w): move data/site aside to rejoin the site", err)
		}
	}
	f.state.Applied = held.Applied
	f.state.fill()
	return f, nil
}

func (s *fsmState) fill() {
	if s.Committed == nil {
		s.Committed = map[string]uint64{}
	}
	if s.Agreed.Wings == nil {
		s.Agreed.Wings = map[string]WingRecord{}
	}
}

// heldBy says which wing's committed events a store with these heads
// lacks, nil when it holds them all.
func (s fsmState) heldBy(heads map[string]uint64) error {
	for wing, seq := range s.Committed {
		if heads[wing] < seq {
			return fmt.Errorf("wing %s's events up to %d are committed but this wing holds %d", wing, seq, heads[wing])
		}
	}
	return nil
}

func (s fsmState) clone() fsmState {
	s.Committed = maps.Clone(s.Committed)
	s.Agreed.Wings = maps.Clone(s.Agreed.Wings)
	s.Agreed.Roster = slices.Clone(s.Agreed.Roster)
	s.Agreed.Clients = maps.Clone(s.Agreed.Clients)
	s.Agreed.Refused = slices.Clone(s.Agreed.Refused)
	return s
}

// snapshot returns a copy of the state.
func (f *fsm) snapshot() fsmState {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.clone()
}

// committed returns a wing's committed seq.
func (f *fsm) committed(wing string) uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.state.Committed[wing]
}

// Apply implements raft.FSM.
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch implements raft.BatchingFSM: one store transaction for many
// entries, holding at most one events entry of each wing (see applySome).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	results := make([]any, len(logs))
	for done := 0; done < len(logs); {
		done += f.applySome(logs[done:], results[done:])
	}
	return results
}

// applySome applies logs in one store transaction, up to the first events
// entry of a wing that already has one among them, and returns how many
// logs it applied. That entry waits for the next transaction: how it is
// trimmed depends on whether the store takes the earlier one, and raft
// groups entries differently on every wing, so the outcome must be the
// same as applying the log entry by entry.
func (f *fsm) applySome(logs []*raft.Log, results []any) int {
	f.mu.RLock()
	base := f.state.clone()
	f.mu.RUnlock()
	next := base.clone()
	var batch store.Batch
	var entryOf []int // log position of each batch entry
	pending := map[string]bool{}
	taken := len(logs)
logs:
	for i, l := range logs {
		if l.Index <= base.Applied {
			results[i] = ApplyResult{Err: errAlreadyApplied}
			continue
		}
		applied := batch.Applied
		batch.Applied = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		if len(l.Data) == 0 {
			results[i] = ApplyResult{Err: errBadEntry}
			continue
		}
		switch l.Data[0] {
		case entryEvents:
			events, err := decodeEventList(l.Data[1:])
			if err == nil {
				err = checkRun(events)
			}
			if err == nil && len(events) == 0 {
				err = errors.New("no events")
			}
			if err != nil {
				results[i] = ApplyResult{Err: fmt.Errorf("%w (%w)", errBadEntry, err)}
				continue
			}
			w := events[0].Wing
			if pending[w] {
				batch.Applied, taken = applied, i
				break logs
			}
			c := next.Committed[w]
			last := events[len(events)-1].Seq
			switch {
			case last <= c:
				results[i] = ApplyResult{Committed: c}
				continue
			case events[0].Seq > c+1:
				results[i] = ApplyResult{Committed: c, Err: fmt.Errorf("site: batch of wing %s starts at seq %d but %d is committed: %w", w, events[0].Seq, c, store.ErrGap)}
				continue
			}
			events = events[c+1-events[0].Seq:]
			batch.Entries = append(batch.Entries, store.Entry{Index: l.Index, Events: events})
			entryOf = append(entryOf, i)
			pending[w] = true
			next.Committed[w] = last
			results[i] = ApplyResult{Committed: last}
		case entryCommand:
			cmd, err := decodeCommand(l.Data[1:])
			if err == nil {
				err = next.Agreed.applyCommand(cmd, logEntry{index: l.Index, at: l.AppendedAt})
			}
			results[i] = ApplyResult{Err: err}
		default:
			results[i] = ApplyResult{Err: fmt.Errorf("%w: type %d", errBadEntry, l.Data[0])}
		}
	}
	if batch.Applied == 0 {
		return taken
	}
	next.Applied = batch.Applied
	batch.State = func(refused []error) []byte {
		// A refused entry commits nothing: its wing stays where it was.
		next.Committed = maps.Clone(base.Committed)
		for j, e := range batch.Entries {
			i := entryOf[j]
			if refused[j] != nil {
				results[i] = ApplyResult{Committed: next.Committed[e.Events[0].Wing], Err: refused[j]}
				continue
			}
			next.Committed[e.Events[0].Wing] = e.Events[len(e.Events)-1].Seq
		}
		b, _ := json.Marshal(next) // maps of strings and numbers cannot fail
		return b
	}
	for attempt := 0; ; attempt++ {
		_, err := f.store.Ingest(context.Background(), batch)
		if err == nil {
			break
		}
		// The entries are committed by the site: this wing must hold them.
		// Until its disk takes them (a full disk, say) it falls behind
		// and says why; raft keeps the entries for it.
		if attempt%10 == 0 {
			f.log.Error("cannot store the site's committed events; retrying", "entries", len(batch.Entries), "err", err)
		}
		select {
		case <-f.stop:
			for i := range results {
				results[i] = ApplyResult{Err: err}
			}
			return len(logs)
		case <-f.clock.After(min(time.Duration(attempt+1)*100*time.Millisecond, 2*time.Second)):
		}
	}
	for j, e := range batch.Entries {
		if r := results[entryOf[j]].(ApplyResult); r.Err != nil {
			f.log.Error("site refused a committed batch", "wing", e.Events[0].Wing, "index", e.Index, "err", r.Err)
		}
	}
	f.mu.Lock()
	f.state = next
	f.mu.Unlock()
	f.applied()
	return taken
}

// checkRun refuses an events entry that is not consecutive events of one
// wing from seq 1 up. Apply trims an entry by seq before the store sees
// it, and trimming such an entry could reach past its end, or hide a gap
// from a wing that holds the missing event while the others refuse it.
func checkRun(events []event.Event) error {
	for i, e := range events {
		if e.Wing == "" || e.Seq == 0 {
			return fmt.Errorf("event %s: no wing, or seq 0", e.ID())
		}
		if i > 0 && (e.Wing != events[0].Wing || e.Seq != events[i-1].Seq+1) {
			return fmt.Errorf("event %s follows %s: an entry holds consecutive events of one wing", e.ID(), events[i-1].ID())
		}
	}
	return nil
}

var errAlreadyApplied = errors.New("site: entry applied before this start")

func (a *Agreed) apply(c Command) error {
	switch c.Op {
	case OpAddWing:
		if c.Wing == "" || c.Addr == "" {
			return fmt.Errorf("site: %s needs a wing and an address", c.Op)
		}
		if w, ok := a.Wings[c.Wing]; ok && w.Removed {
			return fmt.Errorf("site: wing %s was decommissioned; enrol it under a new id", c.Wing)
		}
		a.Wings[c.Wing] = WingRecord{Addr: c.Addr, Serial: c.Serial, Replaced: a.Wings[c.Wing].Replaced}
	case OpRemoveWing:
		w, ok := a.Wings[c.Wing]
		if !ok {
			return fmt.Errorf("site: no wing %q", c.Wing)
		}
		w.Removed = true
		a.Wings[c.Wing] = w
	case OpReplaceWing:
		w, ok := a.Wings[c.Wing]
		switch {
		case !ok:
			return fmt.Errorf("site: no wing %q", c.Wing)
		case w.Removed:
			return fmt.Errorf("site: wing %s was decommissioned; enrol a new wing under a new id", c.Wing)
		}
		if w.Serial != "" {
			w.Replaced = append(slices.Clone(w.Replaced), w.Serial)
		}
		w.Serial = ""
		a.Wings[c.Wing] = w
	case OpLockdown:
		if c.Lockdown == nil {
			return fmt.Errorf("site: %s needs the new state", c.Op)
		}
		a.Lockdown = *c.Lockdown
	case OpRoster, OpOfficerSet, OpOfficerRemove, OpOfficerPIN:
		return a.applyRoster(c)
	case OpRolloutStart, OpRolloutReport, OpRolloutStop:
		return a.applyRollout(c)
	case OpAddClient, OpRevokeClient, OpClientPulled:
		return a.applyClient(c)
	case OpRules:
		if c.Rules <= a.Rules || c.Rules > rulesVersion {
			return fmt.Errorf("site: rules %d: the site applies rules %d, and this build knows rules up to %d", c.Rules, a.Rules, rulesVersion)
		}
		a.Rules = c.Rules
	default:
		return fmt.Errorf("site: unknown command %q", c.Op)
	}
	return nil
}

// applyClient adds or revokes an off-board client. Adding a client under
// a name it already has replaces its credential, so the old one stops.
func (a *Agreed) applyClient(c Command) error {
	if !event.ValidID(c.Client) {
		return fmt.Errorf("site: %s: client name %q: use 1-64 letters, digits, '.', '_' or '-'", c.Op, c.Client)
	}
	if c.Op == OpClientPulled {
		r, ok := a.Clients[c.Client]
		if !ok {
			return fmt.Errorf("site: no client %q", c.Client)
		}
		r.Pulled = max(r.Pulled, c.Pulled)
		a.Clients[c.Client] = r
		return nil
	}
	if c.Op == OpRevokeClient {
		r, ok := a.Clients[c.Client]
		if !ok {
			return fmt.Errorf("site: no client %q", c.Client)
		}
		r.Revoked = true
		a.Clients[c.Client] = r
		return nil
	}
	r := c.ClientRecord
	switch {
	case r == nil:
		return fmt.Errorf("site: %s needs the client's record", c.Op)
	case r.Role != RoleCentral && r.Role != RoleSiteIT:
		return fmt.Errorf("site: client role %q: use %s or %s", r.Role, RoleCentral, RoleSiteIT)
	case (r.Serial == "") == (r.TokenHash == ""):
		return fmt.Errorf("site: client %s needs one credential: a certificate serial or a token hash", c.Client)
	case r.Revoked:
		return fmt.Errorf("site: add client %s unrevoked; revoke it with %s", c.Client, OpRevokeClient)
	}
	if a.Clients == nil {
		a.Clients = map[string]ClientRecord{}
	}
	rec := *r
	rec.Pulled = a.Clients[c.Client].Pulled // a new credential keeps the client's place
	a.Clients[c.Client] = rec
	return nil
}

// Snapshot implements raft.FSM. The snapshot is the state only: the
// events are in every wing's store, and a wing that restores a snapshot
// fetches the events it lacks from its peers.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	b, err := json.Marshal(f.snapshot())
	return snapshot(b), err
}

type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (snapshot) Release() {}

// Restore implements raft.FSM. A snapshot older than what the store holds
// is ignored; a newer one means this wing fell behind the raft log, and it
// fetches the committed events it lacks before taking the state.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var st fsmState
	if err := json.NewDecoder(io.LimitReader(rc, 64<<20)).Decode(&st); err != nil {
		return fmt.Errorf("site: snapshot: %w", err)
	}
	st.fill()
	f.mu.RLock()
	ours := f.state.Applied
	f.mu.RUnlock()
	if st.Applied <= ours {
		return nil
	}
	f.log.Info("site snapshot is ahead of this wing; fetching the events it lacks", "snapshot_index", st.Applied, "held_index", ours)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := f.stop
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := f.catchUp(ctx, st); err != nil {
		return fmt.Errorf("site: restore snapshot at index %d: %w", st.Applied, err)
	}
	held, err := f.store.Heads()
	if err != nil {
		return err
	}
	if err := st.heldBy(held); err != nil {
		return fmt.Errorf("site: restore snapshot at index %d: %w", st.Applied, err)
	}
	b, _ := json.Marshal(st)
	if _, err := f.store.Ingest(ctx, store.Batch{Applied: st.Applied, State: func([]error) []byte { return b }}); err != nil {
		return err
	}
	f.mu.Lock()
	f.state = st
	f.mu.Unlock()
	f.applied()
	return nil
}
