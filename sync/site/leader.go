package site

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"wingnode/appliance/event"
)

// lead runs the leader's duties while this node leads: pull every wing's
// outbox into the log, keep the agreed wing list in step with raft's
// membership, and keep enough voters.
func (n *Node) lead() {
	defer n.wg.Done()
	tick := n.cfg.Clock.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var term chan struct{} // closed when the term ends
	defer func() {
		if term != nil {
			close(term)
		}
	}()
	for {
		select {
		case <-n.stop:
			return
		case <-n.raft.LeaderCh():
		case <-tick.Chan():
		}
		leading := n.raft.State() == raft.Leader
		switch {
		case leading && term == nil:
			term = make(chan struct{})
			n.log.Info("this wing leads the site")
			n.wg.Add(1)
			go n.leadTerm(term)
		case !leading && term != nil:
			close(term)
			term = nil
		}
	}
}

// leadTerm runs for one term of leadership, until done is closed.
func (n *Node) leadTerm(done <-chan struct{}) {
	defer n.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One pull loop per member, restarted when its address changes (a
	// board that replaced the wing answers elsewhere).
	type puller struct {
		addr raft.ServerAddress
		stop context.CancelFunc
	}
	pulling := map[string]puller{}
	defer func() {
		for _, p := range pulling {
			p.stop()
		}
	}()
	tick := n.cfg.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		cfg, err := n.configuration()
		if err == nil {
			n.recordMembers(cfg)
			n.raiseRules()
			members := map[string]raft.ServerAddress{}
			for _, s := range cfg.Servers {
				members[string(s.ID)] = s.Address
			}
			for w, p := range pulling {
				if addr, ok := members[w]; !ok || addr != p.addr {
					p.stop()
					delete(pulling, w)
				}
			}
			for w, addr := range members {
				if _, ok := pulling[w]; !ok {
					pctx, stop := context.WithCancel(ctx)
					pulling[w] = puller{addr: addr, stop: stop}
					n.wg.Add(1)
					go n.pull(pctx, w, string(addr))
				}
			}
			n.keepVoters(cfg)
		}
		select {
		case <-done:
			return
		case <-tick.Chan():
		}
	}
}

func (n *Node) configuration() (raft.Configuration, error) {
	f := n.raft.GetConfiguration()
	if err := n.await(f); err != nil {
		return raft.Configuration{}, err
	}
	return f.Configuration(), nil
}

// recordMembers adds to the agreed wing list any raft member it lacks (the
// wing that formed the site, chiefly).
func (n *Node) recordMembers(cfg raft.Configuration) {
	agreed := n.fsm.snapshot().Agreed
	for _, s := range cfg.Servers {
		if _, ok := agreed.Wings[string(s.ID)]; !ok {
			c := Command{Op: OpAddWing, From: n.cfg.Wing, Wing: string(s.ID), Addr: string(s.Address)}
			if s.ID == raft.ServerID(n.cfg.Wing) {
				c.Serial = n.cfg.Serial
			}
			if err := n.apply(c); err != nil {
				n.log.Warn("record site member", "member", s.ID, "err", err)
			}
		}
	}
}

// raiseRules has the site check commands by this build's rules from now
// on (OpRules), once: the entries before it keep the rules they were
// applied by.
func (n *Node) raiseRules() {
	n.fsm.mu.RLock()
	rules := n.fsm.state.Agreed.Rules
	n.fsm.mu.RUnlock()
	if rules >= rulesVersion {
		return
	}
	if err := n.apply(Command{Op: OpRules, From: n.cfg.Wing, Rules: rulesVersion}); err != nil {
		n.log.Warn("raise the site's command rules", "rules", rulesVersion, "err", err)
		return
	}
	n.log.Info("the site checks commands by this build's rules", "rules", rulesVersion)
}

// apply commits a command through this node, which must lead.
func (n *Node) apply(c Command) error {
	f := n.raft.Apply(encodeCommand(c), 10*time.Second)
	if err := n.await(f); err != nil {
		return err
	}
	if r, ok := f.Response().(ApplyResult); ok && r.Err != nil {
		return r.Err
	}
	return nil
}

// pull moves one wing's events after its committed seq into the log, a
// batch at a time, until leadership ends or the wing leaves. It keeps two
// batches going: while one commits, it fetches and proposes the next, so
// a busy wing's rate is not bounded by one commit round trip per batch.
// A batch that fails or is refused sends the loop back to the committed
// seq; the FSM refuses any later batch of the wing as a gap meanwhile.
func (n *Node) pull(ctx context.Context, wing, addr string) {
	defer n.wg.Done()
	failures := 0
	var (
		pending  raft.ApplyFuture // the batch still committing, if any
		proposed uint64           // its last seq
		head     event.Hash       // and that event's hash
	)
	// settle waits for the pending batch, and says whether to go on.
	settle := func() bool {
		if pending == nil {
			return true
		}
		f := pending
		pending = nil
		if err := n.await(f); err != nil {
			proposed = 0
			if errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) {
				return false
			}
			n.log.Warn("commit a wing's events", "wing", wing, "err", err)
			return n.sleep(ctx, 200*time.Millisecond)
		}
		if r, ok := f.Response().(ApplyResult); ok && r.Err != nil {
			// Committed but refused (a full disk on the leader, say): the
			// events stay in the wing's outbox; back off rather than fill
			// the log with copies of them.
			proposed = 0
			n.log.Warn("the site refused a wing's events", "wing", wing, "err", r.Err)
			return n.sleep(ctx, time.Second)
		}
		return true
	}
	defer settle()
	for ctx.Err() == nil {
		after := n.fsm.committed(wing)
		chained := false
		if pending != nil && proposed > after {
			after, chained = proposed, true
		}
		events, err := n.outbox.read(ctx, wing, addr, after)
		if err == nil && len(events) > 0 {
			prev := head
			if !chained {
				prev, err = n.committedHead(wing, after)
			}
			if err == nil {
				err = checkChain(wing, after, prev, events)
			}
		}
		if err != nil {
			if ctx.Err() != nil || !settle() {
				return
			}
			failures++
			if failures == 1 || failures%30 == 0 {
				n.log.Warn("cannot pull a wing's events", "from", wing, "err", err, "failures", failures)
			}
			if !n.sleep(ctx, min(time.Duration(failures)*100*time.Millisecond, time.Second)) {
				return
			}
			continue
		}
		failures = 0
		if len(events) == 0 {
			if !settle() {
				return
			}
			continue
		}
		f := n.raft.Apply(encodeEvents(events), 10*time.Second)
		if !settle() {
			return
		}
		if proposed == 0 && chained {
			// The batch before this one failed: this one will be refused
			// as a gap. Let it go and start again from the committed seq.
			pending = f
			if !settle() {
				return
			}
			continue
		}
		pending, proposed, head = f, events[len(events)-1].Seq, events[len(events)-1].Hash
	}
}

// committedHead returns the hash of a wing's event at seq (zero for 0),
// from this wing's store.
func (n *Node) committedHead(wing string, seq uint64) (event.Hash, error) {
	if seq == 0 {
		return event.Hash{}, nil
	}
	r, err := n.cfg.Store.Get(event.ID{Wing: wing, Seq: seq})
	if err != nil {
		return event.Hash{}, fmt.Errorf("the committed head of wing %s: %w", wing, err)
	}
	return r.Event.Hash, nil
}

// checkChain refuses to propose events that do not follow the head of
// their wing (seq after, hash prev): a wing that sends altered or foreign
// events is caught by the leader, before they reach the log.
func checkChain(wing string, after uint64, prev event.Hash, events []event.Event) error {
	for i, e := range events {
		if e.Wing != wing || e.Seq != after+1+uint64(i) {
			return fmt.Errorf("wing %s sent event %s where %s/%d was due", wing, e.ID(), wing, after+1+uint64(i))
		}
		if err := e.Verify(prev); err != nil {
			return fmt.Errorf("wing %s sent an event that does not verify: %w", wing, err)
		}
		prev = e.Hash
	}
	return nil
}

// get fetches a site API URL and returns the body of a 200 answer.
func (n *Node) get(ctx context.Context, u, accept string) ([]byte, error) {
	return Client{HTTP: n.cfg.Client}.Get(ctx, u, accept)
}

// keepVoters promotes healthy non-voters while the site has fewer voters
// than it may, and gives the vote of a voter unreachable for longer than
// ReplaceVoterAfter to a healthy non-voter, so the site keeps a quorum.
func (n *Node) keepVoters(cfg raft.Configuration) {
	var voters, spare []raft.Server
	for _, s := range cfg.Servers {
		if s.Suffrage == raft.Voter {
			voters = append(voters, s)
		} else if n.healthy(string(s.ID)) {
			spare = append(spare, s)
		}
	}
	if len(spare) == 0 {
		return
	}
	if len(voters) < n.cfg.MaxVoters {
		for _, s := range spare[:min(len(spare), n.cfg.MaxVoters-len(voters))] {
			n.log.Info("giving a wing a vote", "member", s.ID)
			if err := n.await(n.raft.AddVoter(s.ID, s.Address, 0, 10*time.Second)); err != nil {
				n.log.Warn("give a wing a vote", "member", s.ID, "err", err)
				return
			}
		}
		return
	}
	for _, v := range voters {
		if v.ID == raft.ServerID(n.cfg.Wing) || !n.lostFor(string(v.ID), n.cfg.ReplaceVoterAfter) {
			continue
		}
		s := spare[0]
		n.log.Warn("a voting wing has been unreachable too long; moving its vote", "lost", v.ID, "to", s.ID)
		if err := n.await(n.raft.AddVoter(s.ID, s.Address, 0, 10*time.Second)); err != nil {
			n.log.Warn("give a wing a vote", "member", s.ID, "err", err)
			return
		}
		if err := n.await(n.raft.DemoteVoter(v.ID, 0, 10*time.Second)); err != nil {
			n.log.Warn("take a lost wing's vote", "member", v.ID, "err", err)
		}
		return
	}
}
