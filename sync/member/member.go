// Package member is a wing's membership of its site: its site identity
// (formed with a new site CA, or enrolled with a one-time token), the site
// port (mutual TLS, sync/trust), the raft node on it (sync/site), and
// joining the site's raft. The appliance runs it with Run and reaches the
// site through the Member it hands out.
package member

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/api"
	"wingnode/appliance/datadir"
	"wingnode/appliance/roster"
	"wingnode/appliance/store"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// Config configures a wing's membership of its site.
type Config struct {
	// Wing is this wing's id.
	Wing string
	// Data is the wing's data folder (site/identity, site/ca, site/raft,
	// site/addr, site/enrol-token).
	Data datadir.Dir
	// Store is the wing's event store, replicated through the site.
	Store *store.Store
	// Listen is the site port: raft and the site API, mutual TLS.
	// Default "127.0.0.1:0" (a free port; enough for a one-wing site).
	Listen string
	// Advertise is the address other wings reach this one at; default the
	// address Listen gets. Needed when Listen has no host (":8443").
	Advertise string
	// Name names a new site formed by this wing; default "site".
	Name string
	// JoinToken is a one-time enrolment token from a wing of an existing
	// site (`wingnode site token`). Without one, and without an identity
	// in the data folder, the wing forms a new site of its own. A token in
	// the data folder's site/enrol-token (put there when the image is
	// provisioned) is used likewise.
	JoinToken string
	// Routes sends traffic for a wing's address to another address
	// instead: fault tests put a proxy between every pair of wings.
	Routes map[string]string
	// Bundles serves a rollout's bundle to the other wings, on the site
	// port at GET /site/v1/bundle/{digest}; nil serves none.
	Bundles http.Handler
	// MaxVoters, ReplaceVoterAfter and IsolatedAfter tune the node (see
	// site.Config); zero means its defaults (5 voters, 10 minutes, 3 s).
	MaxVoters         int
	ReplaceVoterAfter time.Duration
	IsolatedAfter     time.Duration
	// Clock paces retries; default the real clock.
	Clock clockwork.Clock
	// Log receives operational messages; default slog.Default().
	Log *slog.Logger
}

// Member is a running membership of the site.
type Member struct {
	cfg      Config
	id       *trust.Identity
	listener *trust.SiteListener
	node     *site.Node
	server   *http.Server
	client   *http.Client // to other wings' site ports, with this wing's certificate

	caMu sync.Mutex
	ca   *trust.Authority // on the wing that holds the site CA; see authority
}

// Run joins the site and keeps the membership until ctx ends. The wing
// records whether or not this works: a failure to reach the site is
// logged and retried every 5 s, never fatal. Once the membership runs,
// during is called with it, and the context it gets ends when the
// membership does; Run returns after during has.
func Run(ctx context.Context, cfg Config, during func(context.Context, *Member)) {
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	var m *Member
	var joinAddr string
	for attempt := 0; ; attempt++ {
		var err error
		if m, joinAddr, err = start(ctx, cfg); err == nil {
			break
		}
		if attempt%12 == 0 {
			cfg.Log.Error("the site is not running; this wing records on its own and retries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-cfg.Clock.After(5 * time.Second):
		}
	}
	m.node.Recorded()
	done := make(chan struct{})
	go func() {
		defer close(done)
		during(ctx, m)
	}()
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		if joinAddr != "" {
			m.keepJoining(ctx, joinAddr)
		}
	}()
	// A decommissioned wing's open raft connections end as soon as the
	// site agrees; new ones are refused at the handshake.
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-m.node.Changed():
			if n := m.listener.CloseRevoked(); n > 0 {
				cfg.Log.Info("closed the connections of a decommissioned wing", "connections", n)
			}
		}
	}
	<-done
	<-joined
	if err := m.close(); err != nil {
		cfg.Log.Warn("leaving the site", "err", err)
	}
}

// start loads or creates this wing's site identity and starts its raft
// node on the site port. A wing with a join token enrols first; the
// address it enrolled at is returned, to join the raft through.
func start(ctx context.Context, cfg Config) (*Member, string, error) {
	data := cfg.Data
	dial := trust.Routes(cfg.Routes)
	m := &Member{cfg: cfg}
	joinAddr := ""
	id, err := trust.LoadIdentity(data.Identity())
	switch {
	case err == nil:
		m.id = id
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", err
	default:
		token := cfg.JoinToken
		if token == "" {
			if b, err := os.ReadFile(data.EnrolToken()); err == nil {
				token = strings.TrimSpace(string(b))
			}
		}
		if token != "" {
			t, err := trust.ParseToken(token)
			if err != nil {
				return nil, "", fmt.Errorf("member: join token: %w", err)
			}
			cfg.Log.Info("enrolling in the site", "at", t.Addr)
			if m.id, err = trust.Join(ctx, data.Identity(), cfg.Wing, token, dial); err != nil {
				return nil, "", fmt.Errorf("member: enrol at %s: %w", t.Addr, err)
			}
			joinAddr = t.Addr
			os.Remove(data.EnrolToken())
		} else {
			name := cfg.Name
			if name == "" {
				name = "site"
			}
			ca, err := trust.InitSite(data.CA(), name)
			if err != nil {
				return nil, "", err
			}
			if m.id, err = trust.NewIdentity(data.Identity(), cfg.Wing, ca); err != nil {
				return nil, "", err
			}
			cfg.Log.Info("formed a new site with this wing as its first member; this wing alone holds the site CA",
				"site", name, "next", "take a backup of the site CA now and keep it off this board: wingnode site ca-backup -out FILE")
		}
	}
	if m.id.Wing() != cfg.Wing {
		return nil, "", fmt.Errorf("member: the site identity in %s is wing %s's, not %s's", data.Identity(), m.id.Wing(), cfg.Wing)
	}
	ca, err := trust.LoadAuthority(data.CA())
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	// Only the CA this wing made forms a site: a CA restored from a backup
	// belongs to a site that exists already.
	bootstrap := joinAddr == "" && ca != nil && !ca.Restored()
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("member: site port %s: %w", listen, err)
	}
	advertise := cfg.Advertise
	if advertise == "" {
		host, _, _ := net.SplitHostPort(listen)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			ln.Close()
			return nil, "", fmt.Errorf("member: the site port listens on %s: give the address other wings reach it at with -site-advertise", listen)
		}
		advertise = ln.Addr().String()
	}
	m.listener = trust.Listen(api.LimitListener(ln, api.SiteLimits()), m.id, dial)
	if err := datadir.WriteFile(data.SiteAddr(), []byte(advertise+"\n"), 0o600); err != nil {
		m.listener.Close()
		return nil, "", err
	}
	m.client = m.id.HTTPClient(dial)
	m.node, err = site.Start(site.Config{
		Wing: cfg.Wing, Dir: data.Raft(), Store: cfg.Store,
		Stream: m.listener.Raft(), Advertise: advertise, Client: m.client, PeerWing: trust.PeerWing,
		Serial: m.id.Serial().String(), Bootstrap: bootstrap, Log: cfg.Log,
		MaxVoters: cfg.MaxVoters, ReplaceVoterAfter: cfg.ReplaceVoterAfter, IsolatedAfter: cfg.IsolatedAfter,
	})
	if err != nil {
		m.listener.Close()
		return nil, "", err
	}
	m.listener.SetMembers(m.node.Member) // raft from members of the site only
	revoked := func(serial *big.Int) bool { return m.node.Revoked(serial.String()) }
	m.id.SetRevoked(revoked)
	if ca != nil {
		m.holdAuthority(ca)
	}
	mux := http.NewServeMux()
	mux.Handle("/site/v1/enrol", http.HandlerFunc(m.enrol))
	if cfg.Bundles != nil {
		mux.Handle("GET /site/v1/bundle/{digest}", m.node.PeersOnly(cfg.Bundles))
	}
	mux.Handle("/", m.node.Handler())
	m.server = api.Server(mux)
	go m.listener.Serve(m.server)
	cfg.Log.Info("site port open", "site", m.id.Site(), "addr", advertise)
	return m, joinAddr, nil
}

// authority is the site CA when this wing holds it: loaded at start, or
// found in the data folder later, once site IT has restored the CA's
// backup here ('wingnode site ca-restore') while the wing runs.
func (m *Member) authority() *trust.Authority {
	m.caMu.Lock()
	defer m.caMu.Unlock()
	if m.ca != nil {
		return m.ca
	}
	ca, err := trust.LoadAuthority(m.cfg.Data.CA())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			m.cfg.Log.Error("the site CA in the data folder cannot be used", "err", err)
		}
		return nil
	}
	m.cfg.Log.Info("this wing now holds the site CA and serves enrolment", "site", ca.Site())
	m.holdLocked(ca)
	return ca
}

func (m *Member) holdAuthority(ca *trust.Authority) {
	m.caMu.Lock()
	defer m.caMu.Unlock()
	m.holdLocked(ca)
}

func (m *Member) holdLocked(ca *trust.Authority) {
	ca.SetRevoked(func(serial *big.Int) bool { return m.node.Revoked(serial.String()) })
	ca.SetEnrolled(m.node.Enrolled)
	m.ca = ca
	if !ca.BackedUp() {
		m.cfg.Log.Warn("the site CA has no backup: if this board is lost, no board can enrol in the site",
			"next", "wingnode site ca-backup -out FILE, kept off this board")
	}
}

// enrol serves enrolment on the wing that holds the site CA, and tells a
// joiner at any other wing where to go.
func (m *Member) enrol(w http.ResponseWriter, r *http.Request) {
	ca := m.authority()
	if ca == nil {
		http.Error(w, "this wing does not hold the site CA: enrol at the wing that does, with a token it issued", http.StatusNotFound)
		return
	}
	ca.EnrolHandler(m.cfg.Log).ServeHTTP(w, r)
}

// keepJoining asks the site to add this wing until it does or ctx ends.
func (m *Member) keepJoining(ctx context.Context, addr string) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := m.node.Join(ctx, addr)
		if err == nil {
			m.cfg.Log.Info("joined the site", "via", addr)
			return
		}
		if attempt%10 == 0 {
			m.cfg.Log.Warn("cannot join the site yet; retrying", "via", addr, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-m.cfg.Clock.After(time.Second):
		}
	}
}

func (m *Member) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m.server.Shutdown(ctx)
	err := m.node.Close()
	return errors.Join(err, m.listener.Close())
}

// Site is the name of the site.
func (m *Member) Site() string { return m.id.Site() }

// Identity is this wing's site identity.
func (m *Member) Identity() *trust.Identity { return m.id }

// CommitIndex is the newest raft index this wing knows the site has
// committed.
func (m *Member) CommitIndex() uint64 { return m.node.CommitIndex() }

// Leader is the wing this wing follows, "" when it knows none.
func (m *Member) Leader() string { return m.node.Leader() }

// AppliedIndex is the newest raft index this wing has applied.
func (m *Member) AppliedIndex() uint64 { return m.node.AppliedIndex() }

// RaftState is this wing's raft role (Leader, Follower, Candidate, Shutdown).
func (m *Member) RaftState() string { return m.node.RaftState() }

// Clients are the site's off-board clients, as this wing last applied them.
func (m *Member) Clients() map[string]site.ClientRecord { return m.node.Clients() }

// Status is this wing's view of the site, from memory.
func (m *Member) Status() site.Status { return m.node.Status() }

// Propose has the site commit c, through the leader.
func (m *Member) Propose(ctx context.Context, c site.Command) error { return m.node.Propose(ctx, c) }

// Roster is the officer roster this wing holds, with the PIN hashes, for
// the sign-in check only.
func (m *Member) Roster() []roster.Entry { return m.node.Roster() }

// Changed is closed the next time this wing applies the site's log.
func (m *Member) Changed() <-chan struct{} { return m.node.Changed() }

// Recorded tells the site that local events were recorded, so a waiting
// outbox pull answers at once.
func (m *Member) Recorded() { m.node.Recorded() }

// Client calls other wings' site ports with this wing's certificate.
func (m *Member) Client() *http.Client { return m.client }

// IssueToken issues a one-time enrolment token on the wing whose data
// folder is data: it must hold the site CA and have run once, so that its
// site address is known. The token carries that address: the wing that
// holds the CA is the one that serves enrolment.
func IssueToken(data datadir.Dir, ttl time.Duration) (string, error) {
	ca, err := trust.LoadAuthority(data.CA())
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s holds no site CA: issue tokens on the wing that holds it (the one that formed the site, or the one its backup was restored on with 'wingnode site ca-restore')", data)
	}
	if err != nil {
		return "", err
	}
	addr, err := os.ReadFile(data.SiteAddr())
	if err != nil {
		return "", fmt.Errorf("the site address of %s is not known yet: start the wing once ('wingnode run'), then issue tokens: %w", data, err)
	}
	return ca.IssueToken(strings.TrimSpace(string(addr)), ttl)
}
