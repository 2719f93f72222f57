package site

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

// Heads is a wing's answer to "what do you hold?".
type Heads struct {
	Wing string `json:"wing"`
	// Applied is the raft index of the newest entry the wing applied.
	Applied uint64 `json:"applied"`
	// Committed is each wing's committed seq, as the wing applied it.
	Committed map[string]uint64 `json:"committed"`
	// Held is each wing's newest seq the wing holds (its own included,
	// committed or not).
	Held map[string]uint64 `json:"held"`
	// Leader is the wing the answering wing follows, "" if none.
	Leader string `json:"leader"`
}

func (n *Node) heads() (Heads, error) {
	held, err := n.cfg.Store.Heads()
	if err != nil {
		return Heads{}, err
	}
	st := n.fsm.snapshot()
	return Heads{Wing: n.cfg.Wing, Applied: st.Applied, Committed: st.Committed, Held: held, Leader: n.leader()}, nil
}

func (n *Node) leader() string {
	_, id := n.raft.LeaderWithID()
	return string(id)
}

// watchPeers asks every other wing for its heads once a second. The
// answers give each link's state, and tell a wing that fell behind the
// site where to fetch what it lacks.
func (n *Node) watchPeers() {
	defer n.wg.Done()
	tick := n.cfg.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		peers := n.peers()
		var wg sync.WaitGroup
		for w, addr := range peers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n.probe(w, addr)
			}()
		}
		wg.Wait()
		n.mu.Lock()
		for w := range n.links {
			if _, ok := peers[w]; !ok {
				delete(n.links, w)
			}
		}
		n.mu.Unlock()
		n.catchUpFromPeers()
		select {
		case <-n.stop:
			return
		case <-tick.Chan():
		case <-n.change.wait():
			// Membership may have changed: look again promptly, but not
			// more than every 100 ms.
			if !n.sleep(context.Background(), 100*time.Millisecond) {
				return
			}
		}
	}
}

// peers returns every other wing's site address: raft's members and the
// agreed wings not removed.
func (n *Node) peers() map[string]string {
	out := map[string]string{}
	for w, r := range n.fsm.snapshot().Agreed.Wings {
		if !r.Removed && w != n.cfg.Wing {
			out[w] = r.Addr
		}
	}
	if cfg, err := n.configuration(); err == nil {
		n.mu.Lock()
		n.members = cfg
		n.mu.Unlock()
		for _, s := range cfg.Servers {
			if string(s.ID) != n.cfg.Wing {
				out[string(s.ID)] = string(s.Address)
			}
		}
	}
	return out
}

// watchLeader notes four times a second whether a leader is known, on its
// own: the peer watch can be slowed for seconds by a peer that does not
// answer, and isolation must be seen all the same.
func (n *Node) watchLeader() {
	defer n.wg.Done()
	tick := n.cfg.Clock.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		n.noteLeader()
		select {
		case <-n.stop:
			return
		case <-tick.Chan():
		}
	}
}

// noteLeader records since when no leader is known.
func (n *Node) noteLeader() {
	has := n.leader() != ""
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case has:
		n.leaderless = time.Time{}
	case n.leaderless.IsZero():
		n.leaderless = n.cfg.Clock.Now()
	}
}

func (n *Node) probe(wing, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var h Heads
	body, err := n.get(ctx, "https://"+addr+"/site/v1/heads", "application/json")
	if err == nil {
		err = json.Unmarshal(body, &h)
	}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[wing]
	if l == nil {
		l = &link{since: now}
		n.links[wing] = l
	}
	up := err == nil
	if up != l.up {
		l.up, l.since = up, now
		if up {
			n.log.Info("wing reachable", "peer", wing)
		} else {
			n.log.Warn("wing unreachable", "peer", wing, "err", err)
		}
	}
	if up {
		l.lastSeen, l.heads = now, h
	}
}

// healthy reports whether a wing answered within the last few seconds.
func (n *Node) healthy(wing string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[wing]
	return l != nil && l.up && n.cfg.Clock.Since(l.lastSeen) < 5*time.Second
}

// lostFor reports whether a wing has been unreachable for at least d.
func (n *Node) lostFor(wing string, d time.Duration) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.links[wing]
	return l != nil && !l.up && n.cfg.Clock.Since(l.since) >= d
}

// catchUpFromPeers fetches committed events from a peer that has applied
// more of the log than this wing, when raft has not brought them within
// a second: after a long isolation, raft's back-off to a failed follower
// can reach 10 s, and a follower past the leader's log needs a snapshot.
// Events fetched are the peer's committed ones, with their commit order,
// so raft applying them later finds them held.
func (n *Node) catchUpFromPeers() {
	applied := n.fsm.snapshot().Applied
	n.mu.Lock()
	var best string
	var bestApplied uint64
	for w, l := range n.links {
		if !l.up {
			continue
		}
		// Behind since the last probe, and still behind now.
		if l.behind > applied && l.heads.Applied > bestApplied {
			best, bestApplied = w, l.heads.Applied
		}
		l.behind = 0
		if l.heads.Applied > applied {
			l.behind = l.heads.Applied
		}
	}
	n.mu.Unlock()
	if best == "" {
		return
	}
	addr := n.peers()[best]
	if addr == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := n.fetchCommits(ctx, best, addr, bestApplied); err != nil {
		n.log.Warn("catch up from a peer", "peer", best, "err", err)
	}
}

// catchUpTo is the FSM's hook for a snapshot ahead of the store: fetch
// from any reachable wing until every wing's committed events are held.
func (n *Node) catchUpTo(ctx context.Context, st fsmState) error {
	var errs []error
	for w, addr := range n.peers() {
		if err := n.fetchCommits(ctx, w, addr, st.Applied); err != nil {
			errs = append(errs, fmt.Errorf("from %s: %w", w, err))
			continue
		}
		held, err := n.cfg.Store.Heads()
		if err != nil {
			return err
		}
		if st.heldBy(held) == nil {
			return nil
		}
	}
	return fmt.Errorf("no reachable wing holds the site's committed events: %v", errs)
}

// fetchCommits copies a peer's commit order after this wing's last commit,
// up to raft index upto, into the store.
func (n *Node) fetchCommits(ctx context.Context, peer, addr string, upto uint64) error {
	for ctx.Err() == nil {
		index, seqN, err := n.cfg.Store.LastCommit()
		if err != nil {
			return err
		}
		if index >= upto {
			return nil
		}
		u := "https://" + addr + "/site/v1/commits?" + url.Values{"after": {Cursor{Index: index, N: seqN}.String()}, "limit": {"1000"}}.Encode()
		body, err := n.get(ctx, u, "application/octet-stream")
		if err != nil {
			return err
		}
		commits, err := decodeCommits(body)
		if err != nil {
			return fmt.Errorf("commits from %s: %w", peer, err)
		}
		if len(commits) == 0 {
			return nil
		}
		var entries []store.Entry
		for _, c := range commits {
			if k := len(entries) - 1; k >= 0 && entries[k].Index == c.Index {
				entries[k].Events = append(entries[k].Events, c.Event)
				continue
			}
			entries = append(entries, store.Entry{Index: c.Index, First: c.N, Events: []event.Event{c.Event}})
		}
		refused, err := n.cfg.Store.Ingest(ctx, store.Batch{Entries: entries})
		if err != nil {
			return err
		}
		for i, r := range refused {
			if r != nil {
				return fmt.Errorf("entry %d from %s: %w", entries[i].Index, peer, r)
			}
		}
	}
	return ctx.Err()
}

// encodeCommits writes commits as index(8) n(4) then a length-prefixed
// event each.
func encodeCommits(commits []store.Commit) []byte {
	var b []byte
	for _, c := range commits {
		b = binary.BigEndian.AppendUint64(b, c.Index)
		b = binary.BigEndian.AppendUint32(b, c.N)
		m := c.Event.Marshal()
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

func decodeCommits(b []byte) ([]store.Commit, error) {
	var out []store.Commit
	for len(b) > 0 {
		if len(b) < 13 {
			return nil, fmt.Errorf("%w: a commit of %d bytes", errBadEntry, len(b))
		}
		c := store.Commit{Index: binary.BigEndian.Uint64(b), N: binary.BigEndian.Uint32(b[8:])}
		l, k := binary.Uvarint(b[12:])
		if k <= 0 || l > uint64(len(b)-12-k) {
			return nil, fmt.Errorf("%w: commit event length", errBadEntry)
		}
		e, err := event.Unmarshal(b[12+k : 12+k+int(l)])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errBadEntry, err)
		}
		c.Event = e
		out = append(out, c)
		b = b[12+k+int(l):]
	}
	return out, nil
}

// Status is this wing's view of its site.
type Status struct {
	Wing          string
	Leader        string
	Isolated      bool
	IsolatedSince time.Time
	// Waiting counts local events not yet committed by the site.
	Waiting   uint64
	Applied   uint64
	Agreed    AgreedStatus
	Wings     []WingStatus
	Addr      string
	Voter     bool
	Peers     int
	Reachable int
}

// Voters lists the wings that vote, as this wing sees its site.
func (s Status) Voters() []string {
	var out []string
	for _, w := range s.Wings {
		if w.Voter {
			out = append(out, w.Wing)
		}
	}
	return out
}

// WingStatus is one wing as this wing sees it.
type WingStatus struct {
	Wing      string
	Local     bool
	Reachable bool
	// Link says the same as Local and Reachable in one word: LinkLocal,
	// LinkConnected or LinkUnreachable.
	Link      string `json:"link"`
	Voter     bool
	Committed uint64
	Held      uint64
	// Applied is the raft index the wing had applied, as it last
	// answered (this wing's own, for the local wing).
	Applied  uint64
	LastSeen time.Time
}

// The link states of a WingStatus.
const (
	LinkLocal       = "local"       // the wing asked
	LinkConnected   = "connected"   // it answered the last probe
	LinkUnreachable = "unreachable" // it did not, or has not been probed yet
)

// linkState is the one place where Local and Reachable become a Link.
func linkState(local, reachable bool) string {
	switch {
	case local:
		return LinkLocal
	case reachable:
		return LinkConnected
	}
	return LinkUnreachable
}

// Status returns this wing's view of its site.
func (n *Node) Status() Status {
	st := n.fsm.snapshot()
	held, _ := n.cfg.Store.Heads()
	voters := map[string]bool{}
	members := map[string]bool{}
	n.mu.Lock()
	cfg := n.members
	n.mu.Unlock()
	for _, s := range cfg.Servers {
		members[string(s.ID)] = true
		voters[string(s.ID)] = s.Suffrage == raft.Voter
	}
	s := Status{Wing: n.cfg.Wing, Leader: n.leader(), Applied: st.Applied, Agreed: st.Agreed.status(), Addr: n.cfg.Advertise, Voter: voters[n.cfg.Wing]}
	if h, c := held[n.cfg.Wing], st.Committed[n.cfg.Wing]; h > c {
		s.Waiting = h - c
	}
	n.mu.Lock()
	if !n.leaderless.IsZero() && n.cfg.Clock.Since(n.leaderless) >= n.cfg.IsolatedAfter {
		s.Isolated, s.IsolatedSince = true, n.leaderless
	}
	links := make(map[string]link, len(n.links))
	for w, l := range n.links {
		links[w] = *l
	}
	n.mu.Unlock()
	ids := map[string]bool{n.cfg.Wing: true}
	for w, r := range st.Agreed.Wings {
		if !r.Removed {
			ids[w] = true
		}
	}
	for w := range members {
		ids[w] = true
	}
	for w := range ids {
		ws := WingStatus{Wing: w, Local: w == n.cfg.Wing, Voter: voters[w], Committed: st.Committed[w], Held: held[w]}
		if ws.Local {
			ws.Applied = st.Applied
		}
		if l, ok := links[w]; ok {
			ws.Reachable, ws.LastSeen, ws.Applied = l.up, l.lastSeen, l.heads.Applied
			s.Peers++
			if l.up {
				s.Reachable++
			}
		}
		ws.Link = linkState(ws.Local, ws.Reachable)
		s.Wings = append(s.Wings, ws)
	}
	sortWings(s.Wings)
	return s
}

// Enrolled reports whether the site holds wing as enrolled with a
// certificate it does not refuse: on the agreed wing list, not
// decommissioned, and not waiting for a new board (OpReplaceWing).
func (n *Node) Enrolled(wing string) bool {
	rec, ok := n.fsm.snapshot().Agreed.Wings[wing]
	return ok && !rec.Removed && rec.Serial != ""
}

// Revoked reports whether a certificate serial (decimal) belongs to a
// decommissioned wing.
// Member reports whether wing is a member of the site as this wing knows
// it: on the agreed wing list and not decommissioned, or in raft's
// configuration as last read. A wing that has applied nothing of the site
// yet (it is joining) knows no members, and takes any.
func (n *Node) Member(wing string) bool {
	agreed := n.fsm.snapshot().Agreed
	if rec, ok := agreed.Wings[wing]; ok {
		return !rec.Removed
	}
	n.mu.Lock()
	cfg := n.members
	n.mu.Unlock()
	if slices.ContainsFunc(cfg.Servers, func(s raft.Server) bool { return string(s.ID) == wing }) {
		return true
	}
	return len(agreed.Wings) == 0 && len(cfg.Servers) == 0
}

func (n *Node) Revoked(serial string) bool {
	for _, w := range n.fsm.snapshot().Agreed.Wings {
		if w.Removed && w.Serial == serial || slices.Contains(w.Replaced, serial) {
			return true
		}
	}
	return false
}
