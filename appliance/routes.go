package appliance

import "net/http"

// screens is the handler on the screens' port: the officers' screens and
// the JSON API.
func (a *Appliance) screens() http.Handler { return a.ui }
