package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"wingnode/appliance/wing"
	"wingnode/firmware"
)

// SiteStatus is this wing's view of its site: which wings exist, whether
// each is reachable, how old its data is, and whether this wing is cut off.
// A wing running on its own (a one-node site) has Wings with one entry.
type SiteStatus struct {
	// Site is the site's name; empty for a wing running on its own.
	Site string `json:"site"`
	// Wing is the local wing.
	Wing string `json:"wing"`
	// Leader is the wing whose raft node currently leads, "" when none is
	// known (an election, or this wing is isolated).
	Leader string `json:"leader"`
	// Isolated is true when this wing cannot reach a majority of the site:
	// it keeps recording, and its events wait to be shared.
	Isolated bool `json:"isolated"`
	// IsolatedSince is when the wing last lost the site; zero when not isolated.
	IsolatedSince time.Time `json:"isolated_since,omitzero"`
	// Waiting counts local events recorded but not yet committed by the site.
	Waiting uint64 `json:"waiting"`
	// Lockdown is the site-wide lockdown state, agreed through the site.
	Lockdown wing.Lockdown `json:"lockdown"`
	// Wings lists every wing of the site, the local one included, by id.
	Wings []WingLink `json:"wings"`
	// Rollout is the site's latest firmware rollout; nil before the first.
	Rollout *firmware.Rollout `json:"rollout,omitempty"`
	// Refused are the newest site commands the site refused when it
	// applied them, oldest first.
	Refused []RefusedCommand `json:"refused,omitempty"`
}

// RefusedCommand is a site command (a lockdown, a roster change, a
// rollout's step) that the site refused when it applied it: every wing
// refused it alike, and nothing changed. Its texts are safe to show.
type RefusedCommand struct {
	// Index is the command's place in the site's log.
	Index uint64 `json:"index"`
	// Op names the command ("lockdown", "officer.set", ...).
	Op string `json:"op"`
	// From is the wing that proposed it; By who it says acted (an
	// officer's number, or @siteit for site IT's tools).
	From string `json:"from,omitempty"`
	By   string `json:"by,omitempty"`
	// Reason says why the site refused it.
	Reason string `json:"reason"`
	// At is when the site logged it.
	At time.Time `json:"at,omitzero"`
}

// MarshalJSON writes the status as GET /api/v1/site answers it: the
// rollout as where it has got to (see apiRollout), not as the site agrees
// on it.
func (s SiteStatus) MarshalJSON() ([]byte, error) {
	type fields SiteStatus // the same fields, without this method
	out := struct {
		fields
		Rollout *apiRollout `json:"rollout,omitempty"`
	}{fields: fields(s), Rollout: apiRolloutOf(s.Rollout)}
	return json.Marshal(out)
}

// rolloutSentence says where the rollout is, for site IT on the Site screen.
func rolloutSentence(r *firmware.Rollout) string {
	if r == nil {
		return ""
	}
	name := fmt.Sprintf("build %d", r.Build)
	if r.Display != "" {
		name += " (" + r.Display + ")"
	}
	done := fmt.Sprintf("%d of %d wings run it", len(r.Done), len(r.Order))
	switch next := r.Next(); {
	case r.Stopped != "":
		return fmt.Sprintf("Firmware %s: rollout stopped, %s. %s.", name, done, r.Stopped)
	case next != "":
		return fmt.Sprintf("Firmware %s: rolling out, %s; wing %s is installing it.", name, done, next)
	}
	return fmt.Sprintf("Firmware %s: every wing runs it.", name)
}

// WingLink is one wing as seen from here.
type WingLink struct {
	Wing string `json:"wing"`
	// Link is LinkLocal for this wing, LinkConnected or LinkUnreachable.
	Link Link `json:"link"`
	// Voter is true for the (at most five) wings that vote in the site's raft.
	Voter bool `json:"voter"`
	// Committed is the wing's newest seq committed by the site.
	Committed uint64 `json:"committed"`
	// LastEvent is the wall time of the wing's newest event held here;
	// DataAge on screen is now minus this.
	LastEvent time.Time `json:"last_event,omitzero"`
}

// Link is the state of a wing's link, as this wing sees it. Its words are
// those of the site's status (sync/site's WingStatus.Link), which the
// appliance passes on.
type Link string

// The link states of a WingLink.
const (
	LinkLocal       Link = "local"       // this wing
	LinkConnected   Link = "connected"   // it answered this wing lately
	LinkUnreachable Link = "unreachable" // it did not, or has not been asked yet
)

// ErrSiteUnreachable is what Wing.SetLockdown returns, wrapped, when this
// wing cannot reach a majority of the site, so nothing site-wide can be
// agreed: the screen then tells the officer to use the site's emergency
// procedure instead.
var ErrSiteUnreachable = errors.New("this wing cannot reach a majority of the site")
