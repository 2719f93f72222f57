package site

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
)

// Rollout is a firmware update going round the site: site IT uploads a
// signed bundle to one wing, which holds it for the others; the wings
// install it one at a time in Order, the first alone, each reporting
// before the next starts; the first failure stops it.
type Rollout struct {
	// Build and Display are the bundle's version and its name for people.
	Build   uint64 `json:"build"`
	Display string `json:"display,omitempty"`
	// Digest is the SHA-256 of the whole bundle (hex), and Size its length
	// in bytes: wings fetch it by digest and check both.
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	// Holder is the wing site IT uploaded the bundle to.
	Holder string `json:"holder"`
	// Order is the wings in the order they install: first one wing on its
	// own, then the rest.
	Order []string `json:"order"`
	// Done lists the wings that run the build, confirmed, in order.
	Done []string `json:"done"`
	// Stopped says why the rollout stopped before every wing had the
	// build: the wing that failed and why, or site IT's stop.
	Stopped string `json:"stopped,omitempty"`
}

// Next returns the wing whose turn it is, "" when the rollout finished or
// stopped.
func (r *Rollout) Next() string {
	if r == nil || r.Stopped != "" || len(r.Done) >= len(r.Order) {
		return ""
	}
	return r.Order[len(r.Done)]
}

// State is "running", "finished" or "stopped".
func (r *Rollout) State() string {
	switch {
	case r.Stopped != "":
		return "stopped"
	case len(r.Done) >= len(r.Order):
		return "finished"
	}
	return "running"
}

// Holders lists the wings that hold the bundle: the one it was uploaded to
// and those that installed it.
func (r *Rollout) Holders() []string {
	out := []string{r.Holder}
	for _, w := range r.Done {
		if w != r.Holder {
			out = append(out, w)
		}
	}
	return out
}

func (r *Rollout) clone() *Rollout {
	c := *r
	c.Order, c.Done = slices.Clone(r.Order), slices.Clone(r.Done)
	return &c
}

// applyRollout applies the rollout commands. The rollout is replaced, never
// changed in place: snapshots of the state share it.
func (a *Agreed) applyRollout(c Command) error {
	switch c.Op {
	case OpRolloutStart:
		r := c.Rollout
		if r == nil || r.Build == 0 || r.Holder == "" || len(r.Order) == 0 || r.Size <= 0 {
			return fmt.Errorf("site: %s needs a build, its size, the wing holding it and an order", c.Op)
		}
		if d, err := hex.DecodeString(r.Digest); err != nil || len(d) != 32 {
			return fmt.Errorf("site: %s: %q is not a SHA-256 in hex", c.Op, r.Digest)
		}
		for _, w := range append([]string{r.Holder}, r.Order...) {
			if rec, ok := a.Wings[w]; !ok || rec.Removed {
				return fmt.Errorf("site: %s: %q is not a wing of the site", c.Op, w)
			}
		}
		if cur := a.Rollout; cur.Next() != "" {
			if cur.Digest == r.Digest {
				return nil // the same rollout, asked again
			}
			return fmt.Errorf("site: the rollout of build %d is still going (next: wing %s); stop it first", cur.Build, cur.Next())
		}
		next := r.clone()
		next.Done, next.Stopped = nil, ""
		a.Rollout = next
	case OpRolloutReport:
		cur := a.Rollout
		if cur == nil || cur.Build != c.Build {
			return fmt.Errorf("site: wing %s reports build %d, which is not being rolled out", c.Wing, c.Build)
		}
		if cur.Next() != c.Wing {
			return fmt.Errorf("site: wing %s reports build %d out of turn (next: %q)", c.Wing, c.Build, cur.Next())
		}
		next := cur.clone()
		if c.Reason == "" {
			next.Done = append(next.Done, c.Wing)
		} else {
			next.Stopped = fmt.Sprintf("wing %s: %s", c.Wing, c.Reason)
		}
		a.Rollout = next
	case OpRolloutStop:
		cur := a.Rollout
		if cur.Next() == "" {
			return fmt.Errorf("site: no rollout is going")
		}
		next := cur.clone()
		next.Stopped = "stopped by site IT"
		if c.Reason != "" {
			next.Stopped += ": " + c.Reason
		}
		a.Rollout = next
	}
	return nil
}

// PeersOnly serves h to wings of the site only, like the site API.
func (n *Node) PeersOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := n.cfg.PeerWing(r); err != nil {
			httpError(w, http.StatusUnauthorized, "a site certificate is needed: "+err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}
