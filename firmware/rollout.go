package firmware

// Rollout is a firmware update going round the site: site IT uploads a
// signed bundle to one wing, which holds it for the others; the wings
// install it one at a time in Order, the first alone, each reporting
// before the next starts; the first failure stops it. The site agrees on
// it (sync/site commits it through raft); a Rollout the site holds is
// replaced, never changed in place.
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
// stopped (or r is nil: there is none).
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
