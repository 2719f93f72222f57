package site

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"

	"wingnode/appliance/api"
	"wingnode/firmware"
)

// cloneRollout copies r, for a command that replaces the agreed rollout.
func cloneRollout(r *firmware.Rollout) *firmware.Rollout {
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
		next := cloneRollout(r)
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
		next := cloneRollout(cur)
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
		next := cloneRollout(cur)
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
			api.WriteError(w, http.StatusUnauthorized, "a site certificate is needed: "+err.Error())
			return
		}
		h.ServeHTTP(w, r)
	})
}
