package appliance

import (
	"net/http"

	"wingnode/sync/site"
)

// screens is the handler on the screens' port: the officers' screens and
// the JSON API, the site's events in commit order for central systems, and
// site IT's firmware endpoint (update.go).
func (a *Appliance) screens() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/firmware", a.updates)
	mux.Handle("/api/v1/firmware/", a.updates)
	mux.Handle("/api/v1/site/events", site.Events(a.store)) // answers 405 to other methods
	mux.Handle("/", a.ui)
	return mux
}
