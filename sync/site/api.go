package site

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/raft"

	"wingnode/appliance/api"
)

// Handler serves the site API to other wings. Every
// request must come with a site certificate (see Config.PeerWing):
//
//	GET  /site/v1/outbox?after=SEQ&wait=1s   this wing's events after SEQ (binary), long-polled
//	GET  /site/v1/heads                      what this wing holds (JSON Heads)
//	GET  /site/v1/commits?after=INDEX.N&limit=N   the site's events in commit order (binary)
//	GET  /site/v1/status                     this wing's view of the site (JSON Status)
//	POST /site/v1/join                       add the calling wing to the site (leader only)
//	POST /site/v1/command                    commit a Command (leader only), as the calling
//	                                         wing's; 422 when the site refused it at apply
//
// A request that only the leader can answer gets 421 with the leader's
// address in the Location header, when one is known.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /site/v1/outbox", n.outbox)
	mux.HandleFunc("GET /site/v1/heads", n.serveHeads)
	mux.HandleFunc("GET /site/v1/commits", n.serveCommits)
	mux.HandleFunc("GET /site/v1/status", n.serveStatus)
	mux.HandleFunc("POST /site/v1/join", n.serveJoin)
	mux.HandleFunc("POST /site/v1/command", n.serveCommand)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := n.cfg.PeerWing(r); err != nil {
			api.WriteError(w, http.StatusUnauthorized, "a site certificate is needed: "+err.Error())
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (n *Node) serveHeads(w http.ResponseWriter, _ *http.Request) {
	h, err := n.heads()
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	api.WriteJSON(w, http.StatusOK, h)
}

// serveCommits serves the site's events in commit order to a peer
// catching up, in the binary encoding: GET ?after=INDEX.N&limit=1..1000.
func (n *Node) serveCommits(w http.ResponseWriter, r *http.Request) {
	after, err := ParseCursor(r.URL.Query().Get("after"))
	if err != nil {
		api.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 1000 {
		api.WriteError(w, http.StatusBadRequest, "limit: a whole number from 1 to 1000")
		return
	}
	commits, err := n.cfg.Store.CommitsAfter(after.Index, after.N, limit)
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(encodeCommits(commits))
}

func (n *Node) serveStatus(w http.ResponseWriter, _ *http.Request) {
	api.WriteJSON(w, http.StatusOK, n.Status())
}

// joinRequest asks the leader to add the calling wing.
type joinRequest struct {
	Addr string `json:"addr"`
}

// maxCommandBody bounds a command sent to the leader: a roster of a
// site's officers is the largest.
const maxCommandBody = 64 << 10

// peerBody is how the site port reads a peer's JSON body (api.ReadJSON):
// at most limit bytes, one value and nothing after it, but lenient on
// fields this build does not know, since the site's wings run different
// builds while a firmware rollout goes round; the command is checked
// again where it is applied.
func peerBody(limit int64) api.Body { return api.Body{Limit: limit, Lenient: true} }

func (n *Node) serveJoin(w http.ResponseWriter, r *http.Request) {
	wing, _ := n.cfg.PeerWing(r)
	var req joinRequest
	if err := api.ReadJSON(w, r, &req, peerBody(4096)); err != nil {
		api.RefuseBody(w, err, "Send {\"addr\": \"host:port\"}.")
		return
	}
	if req.Addr == "" {
		api.WriteError(w, http.StatusBadRequest, "addr: a JSON body {\"addr\": \"host:port\"} is needed")
		return
	}
	if !n.redirectToLeader(w) {
		return
	}
	if rec, ok := n.fsm.snapshot().Agreed.Wings[wing]; ok && rec.Removed {
		api.WriteError(w, http.StatusForbidden, "wing "+wing+" was decommissioned")
		return
	}
	serial := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		serial = r.TLS.PeerCertificates[0].SerialNumber.String()
	}
	cfg, err := n.configuration()
	if err != nil {
		api.WriteError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if !slices.ContainsFunc(cfg.Servers, func(s raft.Server) bool { return string(s.ID) == wing && string(s.Address) == req.Addr }) {
		if err := n.await(n.raft.AddNonvoter(raft.ServerID(wing), raft.ServerAddress(req.Addr), 0, 10*time.Second)); err != nil {
			api.WriteError(w, http.StatusServiceUnavailable, err.Error())
			return
		}
	}
	if err := n.apply(Command{Op: OpAddWing, From: wing, Wing: wing, Addr: req.Addr, Serial: serial}); err != nil {
		api.WriteError(w, http.StatusConflict, err.Error())
		return
	}
	n.log.Info("wing joined the site", "joined", wing, "addr", req.Addr)
	w.WriteHeader(http.StatusNoContent)
}

func (n *Node) serveCommand(w http.ResponseWriter, r *http.Request) {
	var c Command
	if err := api.ReadJSON(w, r, &c, peerBody(maxCommandBody)); err != nil {
		api.RefuseBody(w, err, "Send one JSON command.")
		return
	}
	if c.Op == OpAddWing {
		api.WriteError(w, http.StatusBadRequest, "wings join with POST /site/v1/join")
		return
	}
	// The command is the calling wing's, whatever its body says: a wing
	// cannot act in another wing's name.
	peer, _ := n.cfg.PeerWing(r)
	c.From = peer
	if c.Op == OpRemoveWing && c.Wing == peer {
		api.WriteError(w, http.StatusConflict, errSelfRemoval.Error())
		return
	}
	if !n.redirectToLeader(w) {
		return
	}
	if err := n.commit(c); err != nil {
		status := http.StatusConflict
		if errors.Is(err, ErrRefused) {
			status = http.StatusUnprocessableEntity // committed, and refused at apply (rules.go)
		}
		api.WriteError(w, status, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

var errSelfRemoval = errors.New("site: a wing cannot decommission itself; run the command on another wing")

var errSelfReplace = errors.New("site: the leader cannot be replaced while it runs: stop it, or run the command on another wing once it has stopped")

// commit applies a command on the leader, removing a decommissioned wing
// from raft first.
func (n *Node) commit(c Command) error {
	if c.Op == OpReplaceWing {
		if c.Wing == n.cfg.Wing {
			return errSelfReplace
		}
		// The new board starts with an empty raft log: it must not vote
		// until it has replicated, so it follows until promoted again.
		if cfg, err := n.configuration(); err == nil && slices.ContainsFunc(cfg.Servers, func(s raft.Server) bool {
			return string(s.ID) == c.Wing && s.Suffrage == raft.Voter
		}) {
			if err := n.await(n.raft.DemoteVoter(raft.ServerID(c.Wing), 0, 10*time.Second)); err != nil {
				return err
			}
		}
	}
	if c.Op == OpRemoveWing {
		if c.Wing == n.cfg.Wing {
			return errSelfRemoval
		}
		if err := n.await(n.raft.RemoveServer(raft.ServerID(c.Wing), 0, 10*time.Second)); err != nil {
			return err
		}
	}
	return n.apply(c)
}

// redirectToLeader answers 421 unless this node leads.
func (n *Node) redirectToLeader(w http.ResponseWriter) bool {
	if n.raft.State() == raft.Leader {
		return true
	}
	if addr, _ := n.raft.LeaderWithID(); addr != "" {
		w.Header().Set("Location", "https://"+string(addr))
	}
	api.WriteError(w, http.StatusMisdirectedRequest, "this wing does not lead the site; ask the leader")
	return false
}

// ErrNoSite is returned by Propose and Join when no leader can be reached.
var ErrNoSite = errors.New("the site cannot be reached (no leader): this wing is isolated, so site-wide changes wait until it reconnects")

// Propose commits a command through the leader, wherever it is, as this
// wing's (Command.From). An error wrapping ErrRefused says why the site
// refused it when this wing leads; from another leader, the error carries
// the same sentence.
func (n *Node) Propose(ctx context.Context, c Command) error {
	c.From = n.cfg.Wing
	b, _ := json.Marshal(c)
	return n.toLeader(ctx, "/site/v1/command", b, func() error { return n.commit(c) })
}

// Join asks the site, through the wing at addr (any wing), to add this
// wing. It retries at the leader it is sent to.
func (n *Node) Join(ctx context.Context, addr string) error {
	b, _ := json.Marshal(joinRequest{Addr: n.cfg.Advertise})
	for range 5 {
		loc, err := n.post(ctx, "https://"+addr+"/site/v1/join", b)
		if err == nil {
			return nil
		}
		if loc == "" {
			return err
		}
		addr = strings.TrimPrefix(loc, "https://")
	}
	return errors.New("site: join: sent from wing to wing without reaching the leader")
}

// toLeader runs local when this node leads, or posts body to the leader.
func (n *Node) toLeader(ctx context.Context, path string, body []byte, local func() error) error {
	if n.raft.State() == raft.Leader {
		return local()
	}
	addr, _ := n.raft.LeaderWithID()
	if addr == "" {
		return ErrNoSite
	}
	_, err := n.post(ctx, "https://"+string(addr)+path, body)
	return err
}

// post sends a JSON body; on 421 it returns the leader's URL.
func (n *Node) post(ctx context.Context, u string, body []byte) (leader string, err error) {
	return Client{HTTP: n.cfg.Client}.Post(ctx, u, body)
}

func sortWings(ws []WingStatus) {
	slices.SortFunc(ws, func(a, b WingStatus) int { return strings.Compare(a.Wing, b.Wing) })
}

// httpError and writeJSON are what events.go, which is moving out of this
// package, still calls: they write through package api like the rest.
