package appliance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"wingnode/appliance/wing"
	"wingnode/sync/site"
	"wingnode/sync/trust"
	"wingnode/ui"
)

// SiteConfig configures the wing's membership of its site.
type SiteConfig struct {
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
	// DATA/site/enrol-token (put there when the image is provisioned) is
	// used likewise.
	JoinToken string
	// Routes sends traffic for a wing's address to another address
	// instead: fault tests put a proxy between every pair of wings.
	Routes map[string]string
	// MaxVoters, ReplaceVoterAfter and IsolatedAfter tune the node (see
	// site.Config); zero means its defaults (5 voters, 10 minutes, 3 s).
	MaxVoters         int
	ReplaceVoterAfter time.Duration
	IsolatedAfter     time.Duration
}

// Folders under the data folder.
const (
	siteFolder     = "site"
	identityFolder = "site/identity"
	caFolder       = "site/ca"
	raftFolder     = "site/raft"
	addrFile       = "site/addr"
	tokenFile      = "site/enrol-token"
)

// siteMember is the running site membership.
type siteMember struct {
	id       *trust.Identity
	ca       *trust.Authority // on the wing that holds the site CA
	listener *trust.SiteListener
	node     *site.Node
	server   *http.Server
	client   *http.Client // to other wings' site ports, with this wing's certificate
}

// joinSite loads or creates this wing's site identity and starts its raft
// node on the site port. A wing with a join token enrols first.
func (a *Appliance) joinSite(ctx context.Context) (*siteMember, string, error) {
	sc := a.cfg.Site
	data := a.cfg.DataDir
	dial := trust.Routes(sc.Routes)
	m := &siteMember{}
	joinAddr := ""
	id, err := trust.LoadIdentity(filepath.Join(data, identityFolder))
	switch {
	case err == nil:
		m.id = id
	case !errors.Is(err, fs.ErrNotExist):
		return nil, "", err
	default:
		token := sc.JoinToken
		if token == "" {
			if b, err := os.ReadFile(filepath.Join(data, tokenFile)); err == nil {
				token = strings.TrimSpace(string(b))
			}
		}
		if token != "" {
			t, err := trust.ParseToken(token)
			if err != nil {
				return nil, "", fmt.Errorf("appliance: join token: %w", err)
			}
			a.log.Info("enrolling in the site", "at", t.Addr)
			if m.id, err = trust.Join(ctx, filepath.Join(data, identityFolder), a.layout.ID, token, dial); err != nil {
				return nil, "", fmt.Errorf("appliance: enrol at %s: %w", t.Addr, err)
			}
			joinAddr = t.Addr
			os.Remove(filepath.Join(data, tokenFile))
		} else {
			name := sc.Name
			if name == "" {
				name = "site"
			}
			ca, err := trust.InitSite(filepath.Join(data, caFolder), name)
			if err != nil {
				return nil, "", err
			}
			if m.id, err = trust.NewIdentity(filepath.Join(data, identityFolder), a.layout.ID, ca); err != nil {
				return nil, "", err
			}
			a.log.Info("formed a new site with this wing as its first member", "site", name)
		}
	}
	if m.id.Wing() != a.layout.ID {
		return nil, "", fmt.Errorf("appliance: the site identity in %s is wing %s's, not %s's", filepath.Join(data, identityFolder), m.id.Wing(), a.layout.ID)
	}
	if ca, err := trust.LoadAuthority(filepath.Join(data, caFolder)); err == nil {
		m.ca = ca
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", err
	}
	listen := sc.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, "", fmt.Errorf("appliance: site port %s: %w", listen, err)
	}
	advertise := sc.Advertise
	if advertise == "" {
		host, _, _ := net.SplitHostPort(listen)
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			ln.Close()
			return nil, "", fmt.Errorf("appliance: the site port listens on %s: give the address other wings reach it at with -site-advertise", listen)
		}
		advertise = ln.Addr().String()
	}
	m.listener = trust.Listen(ln, m.id, dial)
	if err := os.WriteFile(filepath.Join(data, addrFile), []byte(advertise+"\n"), 0o600); err != nil {
		m.listener.Close()
		return nil, "", err
	}
	m.client = m.id.HTTPClient(dial)
	m.node, err = site.Start(site.Config{
		Wing: a.layout.ID, Dir: filepath.Join(data, raftFolder), Store: a.store,
		Stream: m.listener.Raft(), Advertise: advertise, Client: m.client, PeerWing: trust.PeerWing,
		Serial: m.id.Serial().String(), Bootstrap: joinAddr == "" && m.ca != nil, Log: a.log,
		MaxVoters: sc.MaxVoters, ReplaceVoterAfter: sc.ReplaceVoterAfter, IsolatedAfter: sc.IsolatedAfter,
	})
	if err != nil {
		m.listener.Close()
		return nil, "", err
	}
	revoked := func(serial *big.Int) bool { return m.node.Revoked(serial.String()) }
	m.id.SetRevoked(revoked)
	if m.ca != nil {
		m.ca.SetRevoked(revoked)
	}
	mux := http.NewServeMux()
	if m.ca != nil {
		mux.Handle("/site/v1/enrol", m.ca.EnrolHandler())
	}
	mux.Handle("GET /site/v1/bundle/{digest}", m.node.PeersOnly(serveBundle(data)))
	mux.Handle("/", m.node.Handler())
	m.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go m.listener.Serve(m.server)
	a.log.Info("site port open", "site", m.id.Site(), "addr", advertise)
	return m, joinAddr, nil
}

// keepJoining asks the site to add this wing until it does or ctx ends.
func (a *Appliance) keepJoining(ctx context.Context, m *siteMember, addr string) {
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := m.node.Join(ctx, addr)
		if err == nil {
			a.log.Info("joined the site", "via", addr)
			return
		}
		if attempt%10 == 0 {
			a.log.Warn("cannot join the site yet; retrying", "via", addr, "err", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (m *siteMember) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m.server.Shutdown(ctx)
	err := m.node.Close()
	return errors.Join(err, m.listener.Close())
}

// Site implements ui.Wing.
func (a *Appliance) Site() ui.SiteStatus {
	a.mu.Lock()
	m := a.site
	state := a.state
	var lastEvent = map[string]time.Time{}
	for w, c := range state.Wings {
		lastEvent[w] = c.LastEvent
	}
	a.mu.Unlock()
	if m == nil {
		local := ui.WingLink{Wing: a.layout.ID, Link: ui.LinkLocal, Voter: true, LastEvent: lastEvent[a.layout.ID]}
		return ui.SiteStatus{Wing: a.layout.ID, Leader: a.layout.ID, Wings: []ui.WingLink{local}}
	}
	st := m.node.Status()
	out := ui.SiteStatus{
		Site: m.id.Site(), Wing: st.Wing, Leader: st.Leader, Isolated: st.Isolated, IsolatedSince: st.IsolatedSince, Waiting: st.Waiting,
		Lockdown: st.Agreed.Lockdown, Rollout: st.Agreed.Rollout,
	}
	for _, w := range st.Wings {
		l := ui.WingLink{Wing: w.Wing, Voter: w.Voter, Committed: w.Committed, LastEvent: lastEvent[w.Wing], Link: ui.Link(w.Link)}
		out.Wings = append(out.Wings, l)
	}
	return out
}

// SetLockdown implements ui.Wing.
func (a *Appliance) SetLockdown(ctx context.Context, officer string, active bool, reason string) error {
	if officer == "" {
		return errors.New("appliance: an officer must be named to change the lockdown")
	}
	if len(reason) > maxNote {
		return fmt.Errorf("appliance: the reason is %d characters; at most %d", len(reason), maxNote)
	}
	m := a.member()
	if m == nil {
		return errors.New("appliance: the site is not running yet")
	}
	l := wing.Lockdown{Active: active, Reason: reason, By: officer, Since: time.Now().UTC()}
	if err := m.node.Propose(ctx, site.Command{Op: site.OpLockdown, Lockdown: &l}); err != nil {
		if errors.Is(err, site.ErrNoSite) {
			return fmt.Errorf("%w: %v", ui.ErrSiteUnreachable, err)
		}
		return fmt.Errorf("the site did not agree to the change: %w", err)
	}
	// Committed by the site; wait until this wing has applied it, so the
	// screen that follows shows it.
	for {
		changed := m.node.Changed()
		if m.node.Status().Agreed.Lockdown.Since.Equal(l.Since) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// SiteNode gives tests and the bench the running site node; nil before Run.
func (a *Appliance) SiteNode() *site.Node {
	if m := a.member(); m != nil {
		return m.node
	}
	return nil
}

// runSite joins the site and keeps the membership until ctx ends. The
// wing records whether or not this works: a failure to reach the site is
// retried, never fatal.
func (a *Appliance) runSite(ctx context.Context, wg *sync.WaitGroup) {
	defer wg.Done()
	var m *siteMember
	var joinAddr string
	for attempt := 0; ; attempt++ {
		var err error
		if m, joinAddr, err = a.joinSite(ctx); err == nil {
			break
		}
		if attempt%12 == 0 {
			a.log.Error("the site is not running; this wing records on its own and retries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(5 * time.Second):
		}
	}
	a.mu.Lock()
	a.site = m
	a.mu.Unlock()
	m.node.Recorded()
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.followRollouts(ctx, m)
	}()
	if joinAddr != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.keepJoining(ctx, m, joinAddr)
		}()
	}
	// A decommissioned wing's open raft connections end as soon as the
	// site agrees; new ones are refused at the handshake.
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-m.node.Changed():
			if n := m.listener.CloseRevoked(); n > 0 {
				a.log.Info("closed the connections of a decommissioned wing", "connections", n)
			}
		}
	}
	a.mu.Lock()
	a.site = nil
	a.mu.Unlock()
	if err := m.close(); err != nil {
		a.log.Warn("leaving the site", "err", err)
	}
}
