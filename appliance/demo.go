package appliance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/roster"
	"wingnode/sync/member"
	"wingnode/sync/site"
)

// demoOfficer is one officer of the demo roster.
type demoOfficer struct {
	id   string
	role roster.Role
	pin  string
}

// demoOfficers is the demo roster of a simulated wing (`make run`): one
// officer of each role, with fixed PINs that the README documents. It is
// seeded only into an empty roster, and only by `wingnode run -simulate`:
// never on a real wing, never in an image.
var demoOfficers = []demoOfficer{
	{"1001", roster.Officer, "1234"},
	{"2001", roster.Supervisor, "2345"},
	{"9001", roster.SiteIT, "9876"},
}

// seedDemoRoster gives an empty site roster the demo officers, from the
// wing that leads the site, and logs their numbers and PINs in one line
// once the roster is the demo one. A roster that is not (one site IT set)
// is left alone and not logged.
func (a *Appliance) seedDemoRoster(ctx context.Context, m *member.Member) {
	for ctx.Err() == nil {
		held := m.Roster()
		switch {
		case len(held) > 0 && len(held) < len(demoOfficers) && onlyDemoOfficers(held):
			// The demo roster is on its way from the leader.
		case len(held) > 0:
			if isDemoRoster(held) {
				var who []string
				for _, d := range demoOfficers {
					who = append(who, fmt.Sprintf("%s %s PIN %s", roleWord(d.role), d.id, d.pin))
				}
				a.log.Info("demo roster of the simulated wing (never on a real wing): sign in on the screen as " + strings.Join(who, ", "))
			}
			return
		case m.Status().Leader == a.layout.ID:
			if err := proposeDemoRoster(ctx, m); err != nil {
				a.log.Warn("demo roster not seeded yet; retrying", "err", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func roleWord(r roster.Role) string {
	if r == roster.SiteIT {
		return "site IT"
	}
	return string(r)
}

// proposeDemoRoster has the site agree the demo officers.
func proposeDemoRoster(ctx context.Context, m *member.Member) error {
	for _, d := range demoOfficers {
		hash, err := roster.HashPIN(d.pin)
		if err != nil {
			return err
		}
		if err := m.Propose(ctx, site.Command{Op: site.OpOfficerSet, By: site.SiteIT, Officer: &roster.Entry{ID: d.id, Role: d.role, PINHash: hash}}); err != nil {
			return err
		}
	}
	return nil
}

// onlyDemoOfficers reports whether every officer held is a demo officer.
func onlyDemoOfficers(held []roster.Entry) bool {
	for _, e := range held {
		if !slices.ContainsFunc(demoOfficers, func(d demoOfficer) bool { return d.id == e.ID }) {
			return false
		}
	}
	return true
}

// isDemoRoster reports whether held is the demo roster, PINs unchanged.
func isDemoRoster(held []roster.Entry) bool {
	if len(held) != len(demoOfficers) {
		return false
	}
	for _, d := range demoOfficers {
		found := false
		for _, e := range held {
			if e.ID == d.id && e.Role == d.role {
				ok, err := roster.VerifyPIN(e.PINHash, d.pin)
				found = ok && err == nil
			}
		}
		if !found {
			return false
		}
	}
	return true
}
