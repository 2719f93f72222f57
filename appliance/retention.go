package appliance

import (
	"context"
	"time"

	"wingnode/sync/site"
)

// keepWatermarks tells the site, every RetainEvery, how far each central
// client has pulled from this wing (client.pulled), and, with Retain set,
// prunes events older than Retain that the site has committed, every
// registered central client has pulled, every wing has applied and the
// wing state checkpoint covers (store.Prune). A central client that has
// never pulled keeps everything.
func (a *Appliance) keepWatermarks(ctx context.Context) {
	t := a.cfg.Clock.NewTicker(a.cfg.RetainEvery)
	defer t.Stop()
	reported := map[string]uint64{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
		m := a.member.Load()
		if m == nil || m.Leader() == "" {
			continue
		}
		clients := m.Clients()
		for name, p := range a.ops.pulls() {
			if rec, ok := clients[name]; ok && p.index > rec.Pulled && p.index > reported[name] {
				pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := m.Propose(pctx, site.Command{Op: site.OpClientPulled, Client: name, Pulled: p.index})
				cancel()
				if err != nil {
					a.log.Warn("retention: cannot record how far a client pulled; retrying", "client", name, "err", err)
					continue
				}
				reported[name] = p.index
			}
		}
		if a.cfg.Retain > 0 {
			a.prune(m.Status(), m.Clients())
		}
	}
}

// prune removes what retention allows, in bounded steps.
func (a *Appliance) prune(st site.Status, clients map[string]site.ClientRecord) {
	upto := st.Applied
	for _, w := range st.Wings {
		upto = min(upto, w.Applied)
	}
	for _, c := range clients {
		if c.Role == site.RoleCentral && !c.Revoked {
			upto = min(upto, c.Pulled)
		}
	}
	before := time.Now().Add(-a.cfg.Retain)
	total := 0
	for range 100 {
		rep, err := a.store.Prune(before, upto, 10_000)
		if err != nil {
			a.log.Error("retention: pruning stopped", "err", err)
			return
		}
		total += rep.Events
		if rep.Events < 10_000 {
			break
		}
	}
	if total > 0 {
		a.log.Info("retention: removed old events the site committed and every client pulled; 'wingnode compact' gives the space back", "events", total, "older_than", before.Format(time.RFC3339), "up_to_index", upto)
	}
}
