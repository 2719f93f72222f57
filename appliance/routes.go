package appliance

import (
	"net/http"

	"wingnode/sync/central"
	"wingnode/sync/offboard"
	"wingnode/sync/site"
)

// routes is the handler on the screens' port: the officers' screens and
// the JSON API (ui), the site's events in commit order for central systems
// (sync/central), and site IT's firmware endpoint (appliance/update). The
// site port is served by sync/member.
func (a *Appliance) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/firmware", a.updates)
	mux.Handle("/api/v1/firmware/", a.updates)
	mux.Handle("/api/v1/site/events", central.Events(a.pullConfig())) // answers 405 to other methods
	mux.Handle("/", a.ui)
	return mux
}

// offboard is the off-board port for central systems and site IT: the
// site's events, metrics, readiness, backups (site IT only), and site IT's
// firmware endpoint (which checks site IT's
// token itself).
func (a *Appliance) offboard() *offboard.Server {
	readers := []string{site.RoleCentral, site.RoleSiteIT}
	return offboard.New(offboard.Config{Log: a.log, Rate: a.cfg.API.Rate, Burst: a.cfg.API.Burst,
		Member: func() offboard.Member {
			if m := a.member.Load(); m != nil {
				return m
			}
			return nil
		},
		Routes: []offboard.Route{
			{Pattern: "/api/v1/site/events", Handler: central.Events(a.pullConfig()), Roles: readers},
			{Pattern: "GET /metrics", Handler: a.metricsHandler(), Roles: readers},
			{Pattern: "GET /readyz", Handler: http.HandlerFunc(a.readyz), Roles: readers},
			{Pattern: "GET /api/v1/backup", Handler: http.HandlerFunc(a.backup), Roles: []string{site.RoleSiteIT}},
			{Pattern: "/api/v1/firmware", Handler: a.updates},
			{Pattern: "/api/v1/firmware/", Handler: a.updates},
		}})
}

// pullConfig is the central pull's view of this wing: its store and, once
// it has one, its membership of the site.
func (a *Appliance) pullConfig() central.Config {
	return central.Config{Store: a.store, Served: a.ops.served, Site: func() central.Site {
		if m := a.member.Load(); m != nil {
			return m
		}
		return nil
	}}
}
