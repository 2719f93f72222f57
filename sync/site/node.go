package site

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/jonboulle/clockwork"
)

// Config configures a Node.
type Config struct {
	// Wing is the local wing's id; it is the raft server id.
	Wing string
	// Dir holds raft's own files: raft.db (log and votes, separate from
	// the wing's store so that neither disk stall stalls the other) and
	// snapshots.
	Dir string
	// Store is the wing's event store: local events are read from it and
	// committed events are ingested into it.
	Store Store
	// Stream carries raft between wings (mutual TLS, see sync/trust).
	Stream raft.StreamLayer
	// Advertise is this wing's site address (host:port) as other wings
	// reach it: the raft address and the site API's.
	Advertise string
	// Client calls other wings' site API (mutual TLS).
	Client *http.Client
	// PeerWing names the wing that made a request to the site API, from
	// its verified certificate.
	PeerWing func(*http.Request) (string, error)
	// Serial is this wing's certificate serial (decimal), recorded in the
	// agreed wing list so that decommissioning the wing revokes it.
	Serial string
	// Bootstrap forms a new site of this one wing when raft holds no state.
	Bootstrap bool
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
	// MaxVoters caps the wings that vote; the rest replicate as
	// non-voters. Default 5.
	MaxVoters int
	// ReplaceVoterAfter is how long a voter may be unreachable from the
	// leader before a healthy non-voter takes its vote. Default 10 min.
	ReplaceVoterAfter time.Duration
	// IsolatedAfter is how long the wing may go without a leader before
	// it reports itself isolated. Default 3 s.
	IsolatedAfter time.Duration
	// Clock times the node's own work: isolation, watching peers, moving a
	// lost voter's vote, the leader's rounds and back-offs. Raft keeps real
	// time, and so do the deadlines of requests to other wings. Default the
	// real clock.
	Clock clockwork.Clock
}

func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.MaxVoters <= 0 {
		c.MaxVoters = 5
	}
	if c.ReplaceVoterAfter <= 0 {
		c.ReplaceVoterAfter = 10 * time.Minute
	}
	if c.IsolatedAfter <= 0 {
		c.IsolatedAfter = 3 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	return c
}

// Node is a wing's member of the site: its raft node, the leader's pull
// of every wing's outbox, and the watch on the other wings.
type Node struct {
	cfg   Config
	log   *slog.Logger
	raft  *raft.Raft
	fsm   *fsm
	logs  *raftboltdb.BoltStore
	trans *raft.NetworkTransport

	stop    chan struct{}
	wg      sync.WaitGroup
	closing sync.Once

	outbox *outbox // this wing's, and the leader's reader of every wing's
	change *signal // the FSM applied entries

	mu         sync.Mutex
	links      map[string]*link
	leaderless time.Time          // since when no leader is known; zero while one is
	members    raft.Configuration // raft's membership as last read, for Status
}

// link is what this wing knows of its connection to another wing.
type link struct {
	up       bool
	since    time.Time // when up last changed
	lastSeen time.Time
	heads    Heads // the peer's answer to the last heads request
	behind   uint64
}

// Start opens raft's files and starts the node.
func Start(cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if cfg.Wing == "" || cfg.Store == nil || cfg.Stream == nil || cfg.Client == nil || cfg.PeerWing == nil || cfg.Advertise == "" {
		return nil, errors.New("site: start: Wing, Store, Stream, Client, PeerWing and Advertise are all needed")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("site: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Log.With("wing", cfg.Wing), stop: make(chan struct{}), change: newSignal(), links: map[string]*link{}, leaderless: cfg.Clock.Now()}
	n.outbox = &outbox{wing: cfg.Wing, store: cfg.Store, recorded: newSignal(), stop: n.stop, clock: cfg.Clock, get: n.get}
	f, err := newFSM(cfg.Store, n.log, n.stop)
	if err != nil {
		return nil, err
	}
	f.catchUp = n.catchUpTo
	f.applied = n.change.fire
	f.clock = cfg.Clock
	n.fsm = f

	path := filepath.Join(cfg.Dir, "raft.db")
	n.logs, err = raftboltdb.New(raftboltdb.Options{Path: path})
	if err != nil {
		return nil, fmt.Errorf("site: open %s: %w (is another wingnode running on this data folder?)", path, err)
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft", Level: hclog.Warn, Output: raftLog{n.log}, DisableTime: true})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, 2, hlog)
	if err != nil {
		n.logs.Close()
		return nil, fmt.Errorf("site: snapshots: %w", err)
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: cfg.Stream, MaxPool: 3, Timeout: 10 * time.Second, Logger: hlog,
	})
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.Wing)
	rc.Logger = hlog
	// Entries are batches of up to 1,000 events; 64 of them make an
	// AppendEntries of a few MB. Catch-up beyond the log goes through the
	// site API (see catchUpTo), not through raft's snapshot transfer.
	rc.MaxAppendEntries = 64
	rc.BatchApplyCh = true
	rc.CommitTimeout = 10 * time.Millisecond
	rc.SnapshotThreshold = 1024
	rc.SnapshotInterval = 30 * time.Second
	rc.TrailingLogs = 4096
	cache, err := raft.NewLogCache(512, n.logs)
	if err != nil {
		n.closeFiles()
		return nil, err
	}
	if cfg.Bootstrap {
		has, err := raft.HasExistingState(cache, n.logs, snaps)
		if err != nil {
			n.closeFiles()
			return nil, fmt.Errorf("site: %w", err)
		}
		if !has {
			boot := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: raft.ServerAddress(cfg.Advertise)}}}
			if err := raft.BootstrapCluster(rc, cache, n.logs, snaps, n.trans, boot); err != nil {
				n.closeFiles()
				return nil, fmt.Errorf("site: form the site: %w", err)
			}
		}
	}
	n.raft, err = raft.NewRaft(rc, f, cache, n.logs, snaps, n.trans)
	if err != nil {
		n.closeFiles()
		return nil, fmt.Errorf("site: start raft: %w", err)
	}
	n.wg.Add(3)
	go n.lead()
	go n.watchPeers()
	go n.watchLeader()
	return n, nil
}

func (n *Node) closeFiles() {
	if n.trans != nil {
		n.trans.Close()
	}
	n.logs.Close()
}

// Close leaves raft running no longer; the store stays open.
func (n *Node) Close() error {
	var err error
	n.closing.Do(func() {
		close(n.stop)
		err = n.raft.Shutdown().Error()
		n.wg.Wait()
		n.trans.Close()
		err = errors.Join(err, n.logs.Close())
	})
	return err
}

// await waits for a future of raft's, and gives up when the node stops:
// raft leaves a future it had not yet taken unanswered when it shuts down
// (an Apply queued as the leader stopped waits for ever; hashicorp/raft
// v1.7.3 sets no shutdown channel on it), and Close waits for the node's
// goroutines.
func (n *Node) await(f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-n.stop:
		return raft.ErrRaftShutdown
	}
}

// Recorded tells the node that local events were recorded, so a waiting
// outbox pull answers at once.
func (n *Node) Recorded() { n.outbox.recorded.fire() }

// signal wakes every waiter each time it fires.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) fire() {
	s.mu.Lock()
	close(s.ch)
	s.ch = make(chan struct{})
	s.mu.Unlock()
}

// wait returns a channel closed at the next fire.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ch
}

// sleep waits d or until the node stops; it reports whether to go on.
func (n *Node) sleep(ctx context.Context, d time.Duration) bool {
	t := n.cfg.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.Chan():
		return true
	case <-ctx.Done():
		return false
	case <-n.stop:
		return false
	}
}

// raftLog passes raft's own warnings on to the wing's log.
type raftLog struct{ log *slog.Logger }

// routineRaft are raft warnings that every normal start gives (a wing
// holds an election when it finds no leader): logged as information.
var routineRaft = []string{"heartbeat timeout reached, starting election", "entering candidate state"}

func (l raftLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	for _, r := range routineRaft {
		if strings.Contains(msg, r) {
			l.log.Info(strings.TrimSpace(strings.TrimPrefix(msg, "[WARN]")))
			return len(p), nil
		}
	}
	l.log.Warn(msg)
	return len(p), nil
}

// Changed returns a channel closed the next time the node applies log
// entries (events or agreed state).
func (n *Node) Changed() <-chan struct{} { return n.change.wait() }

// CommitIndex is the newest raft index this wing knows the site has
// committed; this wing may not have applied it yet.
func (n *Node) CommitIndex() uint64 { return n.raft.CommitIndex() }

// Leader is the wing this wing follows, "" when it knows none.
func (n *Node) Leader() string { return n.leader() }

// Clients are the site's off-board clients as this wing last applied them.
func (n *Node) Clients() map[string]ClientRecord {
	n.fsm.mu.RLock()
	defer n.fsm.mu.RUnlock()
	return maps.Clone(n.fsm.state.Agreed.Clients)
}

// AppliedIndex is the newest raft index this wing has applied.
func (n *Node) AppliedIndex() uint64 { return n.raft.AppliedIndex() }

// RaftState is this wing's raft role: Leader, Follower, Candidate or
// Shutdown.
func (n *Node) RaftState() string { return n.raft.State().String() }
