package ui

import (
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// The shift's live stream, GET /live/shift?page=P, is the protocol of
// /live ("fragment" messages replace the element with the same id;
// "reload" ends it) for the parts of the shift's pages that follow the
// wing: page=checks sends the presences at cell doors and the checks due,
// page=cell&cell=ID one cell's status, page=roll the roll's status and
// landings, page=site the wings' rolls on the Site screen. The page's own
// stream (/live) keeps the frame. After each event, and every
// refreshEvery for what time changes (a check falling overdue, a presence
// running out), the parts are rendered again and the ones that changed
// are sent; an age the browser counts up does not count as a change.

// shiftParts renders a shift page's live parts from one view.
type shiftParts func(v view) []templ.Component

// shiftLivePage returns the parts of the page a request names, or a
// sentence saying why it names none.
func (s *Server) shiftLivePage(r *http.Request) (shiftParts, string) {
	q := r.URL.Query()
	switch q.Get("page") {
	case "checks":
		return func(v view) []templ.Component {
			return []templ.Component{presencePromptsView(v.presences(), v.night()), checksDueView(v.dueRows())}
		}, ""
	case "cell":
		cell := q.Get("cell")
		if d, ok := s.wing.Layout().Door(cell); !ok || !isCell(d.Kind) {
			return nil, "cell: not a cell of this wing"
		}
		return func(v view) []templ.Component { return []templ.Component{cellStatusView(v.cellStatus(cell))} }, ""
	case "roll":
		return func(v view) []templ.Component {
			st := v.rollStatus()
			return []templ.Component{rollStatusView(st), rollLandingsView(v.landingRolls())}
		}, ""
	case "site":
		return func(v view) []templ.Component { return []templ.Component{siteRollsPanel(v.siteRolls())} }, ""
	}
	return nil, "page: only checks, cell, roll and site follow the shift's live stream"
}

// elementID reads the id of a fragment's outer element.
var elementID = regexp.MustCompile(`^\s*<[a-zA-Z0-9]+ id="([^"]+)"`)

// ageText matches what the browser counts up by itself.
var ageText = regexp.MustCompile(`(data-(?:since|until)="[^"]*"[^>]*>)[^<]*`)

func (s *Server) shiftLive(w http.ResponseWriter, r *http.Request) {
	parts, problem := s.shiftLivePage(r)
	if parts == nil {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	l, events, end, ok := s.openStream(w, r)
	if !ok {
		return
	}
	defer end()

	sent := map[string]string{} // by element id: what the screen shows, ages left out
	send := func() error {
		for _, c := range parts(s.view()) {
			var b strings.Builder
			if err := c.Render(r.Context(), &b); err != nil {
				return err
			}
			html := b.String()
			m := elementID.FindStringSubmatch(html)
			if m == nil {
				continue
			}
			same := ageText.ReplaceAllString(html, "$1")
			if sent[m[1]] == same {
				continue
			}
			sent[m[1]] = same
			l.message("fragment", html)
		}
		if l.queued() == 0 {
			return nil
		}
		return l.flush()
	}
	l.queue("retry: " + reconnectAfter + "\n\n")
	if err := send(); err != nil {
		return
	}
	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	refresh := time.NewTicker(s.refreshEvery)
	defer refresh.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			l.queue(": keep-alive\n\n")
			if l.flush() != nil {
				return
			}
		case <-refresh.C:
			if send() != nil {
				return
			}
		case e, ok := <-events:
			if !ok {
				l.reload()
				return
			}
			_, open := drain(e, events)
			if send() != nil {
				return
			}
			if !open {
				l.reload()
				return
			}
		}
	}
}
