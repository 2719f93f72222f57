package ui

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// keepAliveEvery is how often an idle live stream sends a comment, so that
// the browser and anything between see that it is still open.
const keepAliveEvery = 15 * time.Second

// liveWriteTimeout bounds one write to a live stream: a screen that stops
// reading is dropped rather than holding the stream.
const liveWriteTimeout = 10 * time.Second

// reconnectAfter is the delay the browser waits before it opens the stream
// again after losing it, in milliseconds.
const reconnectAfter = "2000"

// refreshEvery is how often a live stream looks again at what changes with
// time rather than with events: environment readings (which are not
// events), a walk test running out, and proofs falling overdue. Only what
// changed is sent, except the environment panel, which is sent every time.
const refreshEvery = 10 * time.Second

// livePage is the page a live stream serves: it sends that page's parts.
type livePage string

// The live pages.
const (
	liveOverview livePage = "overview"
	liveWalkTest livePage = "walktest"
	liveSite     livePage = "site"
	liveEvents   livePage = "events" // the frame only: the list is as loaded
)

// changes is the set of page parts that a batch of events touched.
type changes struct {
	all     bool // every part: the stream has just opened
	doors   map[string]bool
	panel   bool
	climate bool
	walk    bool            // the walk test started or ended
	proofs  map[string]bool // inputs proven or faulted
}

// add notes what e changes on this wing's pages.
func (c *changes) add(v view, e event.Event) {
	switch e.Kind {
	case event.DoorOpened, event.DoorClosed, event.DoorLocked, event.DoorUnlocked:
		c.door(v, e.Subject)
	case event.InputFault, event.InputRestored:
		c.door(v, strings.TrimSuffix(e.Subject, wing.LockSuffix))
		if _, ok := v.pointByID(e.Subject); ok {
			c.panel = true
		}
		if _, ok := v.sensorByID(e.Subject); ok {
			c.climate = true
		}
		c.proof(e.Subject)
	case event.InputProven:
		c.proof(e.Subject)
	case event.WalkTestStarted, event.WalkTestEnded:
		if e.Wing == v.layout.ID {
			c.walk = true
		}
	case event.ClimateCondition:
		if _, ok := v.sensorByID(e.Subject); ok {
			c.climate = true
		}
	case event.AlarmRaised, event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved, event.AlarmClosedRemotely, event.AlarmEscalated, event.AlarmCleared:
		p, ok := v.pointByID(e.Subject)
		if ok || e.Wing == v.layout.ID {
			c.panel = true
		}
		if ok && p.Kind == config.CellCall {
			c.door(v, p.Cell)
		}
		c.door(v, e.Subject) // a forced door is its own alarm point
	}
}

func (c *changes) door(v view, id string) {
	if _, ok := v.doorByID(id); !ok {
		return
	}
	if c.doors == nil {
		c.doors = map[string]bool{}
	}
	c.doors[id] = true
}

func (c *changes) proof(id string) {
	if c.proofs == nil {
		c.proofs = map[string]bool{}
	}
	c.proofs[id] = true
}

// liveStream writes server-sent events to one screen.
type liveStream struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	ctx  context.Context
	buf  bytes.Buffer
	page livePage
	// officer is who was signed in at the screen when the stream opened.
	officer roster.Actor

	// What the screen shows of the parts that change with time as well as
	// with events, as last sent.
	clockUntrusted bool
	walkRunning    bool
	due            int
	proofs         map[string]proofStatus // on the walk test page

	// What the screen shows of the site, as last sent: Wing.Site changes
	// without events, and other wings' alarms with theirs.
	site          SiteStatus // as of the last view sent from
	lockdown      lockdownBanner
	isolation     isolationBanner
	siteAlarms    siteAlarmBanner
	siteLink      siteLink
	siteStatus    siteStatusPanel // on the Site screen
	lockdownPanel lockdownPanel   // on the Site screen
	siteAlarmList siteAlarmList   // on the Site screen
}

// fragment queues an element that replaces the element with its id.
func (l *liveStream) fragment(c templ.Component) error {
	var html strings.Builder
	if err := c.Render(l.ctx, &html); err != nil {
		return err
	}
	l.message("fragment", html.String())
	return nil
}

// message queues one event; data may span lines.
func (l *liveStream) message(name, data string) {
	l.buf.WriteString("event: " + name + "\n")
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		l.buf.WriteString("data: " + line + "\n")
	}
	l.buf.WriteString("\n")
}

// flush sends what is queued at once: the screen must show an input's
// edge within 100 ms.
func (l *liveStream) flush() error {
	// Not every ResponseWriter supports deadlines; without one the write
	// simply has none.
	_ = l.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
	_, err := l.w.Write(l.buf.Bytes())
	l.buf.Reset()
	if err != nil {
		return err
	}
	return l.rc.Flush()
}

// live streams a page's fragments as events arrive. See the package
// documentation for the protocol.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	page := livePage(cmp.Or(r.URL.Query().Get("page"), string(liveOverview)))
	if page != liveOverview && page != liveWalkTest && page != liveSite && page != liveEvents {
		http.Error(w, "page: only overview, walktest, site and events follow the live stream", http.StatusBadRequest)
		return
	}
	select {
	case <-s.done:
		// The browser stops retrying on this answer and waits for /healthz.
		http.Error(w, "the appliance is stopping", http.StatusServiceUnavailable)
		return
	default:
	}
	events, cancel := s.wing.Subscribe()
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	officer, _ := s.actor(r)
	l := &liveStream{w: w, rc: http.NewResponseController(w), ctx: r.Context(), page: page, officer: officer}
	_ = l.rc.SetReadDeadline(time.Time{})    // a stream outlives the server's read timeout
	defer l.rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests

	// The page was rendered before this subscription began: send every part
	// once, so that nothing that happened in between is missed.
	l.buf.WriteString("retry: " + reconnectAfter + "\n\n")
	if err := s.sendChanges(l, s.view(), changes{all: true}); err != nil {
		return
	}

	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	refresh := time.NewTicker(s.refreshEvery)
	defer refresh.Stop()
	site := time.NewTicker(s.siteEvery)
	defer site.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			l.buf.WriteString(": keep-alive\n\n")
			if l.flush() != nil {
				return
			}
		case <-refresh.C:
			if err := s.sendChanges(l, s.view(), changes{climate: true}); err != nil {
				return
			}
		case <-site.C:
			// Only what differs from what the screen shows is sent.
			if sameSite(s.wing.Site(), l.site) {
				continue
			}
			if err := s.sendChanges(l, s.view(), changes{}); err != nil {
				return
			}
		case e, ok := <-events:
			if !ok {
				l.reload()
				return
			}
			batch, open := drain(e, events)
			v := s.view()
			var c changes
			for _, e := range batch {
				c.add(v, e)
			}
			if err := s.sendChanges(l, v, c); err != nil {
				return
			}
			if !open {
				l.reload()
				return
			}
		}
	}
}

// drain returns first and every event already waiting behind it, so that a
// burst is rendered once; open is false when the channel was closed.
func drain(first event.Event, events <-chan event.Event) (batch []event.Event, open bool) {
	batch = []event.Event{first}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return batch, false
			}
			batch = append(batch, e)
		default:
			return batch, true
		}
	}
}

// sendChanges renders the changed parts of the stream's page from one
// snapshot, and the parts that time has changed, and sends them.
func (s *Server) sendChanges(l *liveStream, v view, c changes) error {
	h := s.header(v)
	l.site = v.site
	var parts []templ.Component
	if c.all || h.ClockUntrusted != l.clockUntrusted {
		parts = append(parts, clockStatus(h.ClockUntrusted))
		l.clockUntrusted = h.ClockUntrusted
	}
	walk := c.all || c.walk || h.Walk.Running != l.walkRunning
	if walk {
		parts = append(parts, walkTestBanner(h.Walk))
		l.walkRunning = h.Walk.Running
	}
	if c.all || h.Due != l.due {
		parts = append(parts, walkTestLink(h.Due))
		l.due = h.Due
	}
	site := h.Site
	if c.all || site.Link != l.siteLink {
		parts = append(parts, siteLinkView(site.Link))
		l.siteLink = site.Link
	}
	if c.all || site.Lockdown != l.lockdown {
		parts = append(parts, lockdownBannerView(site.Lockdown))
		l.lockdown = site.Lockdown
	}
	if c.all || site.Isolation != l.isolation {
		parts = append(parts, isolationBannerView(site.Isolation))
		l.isolation = site.Isolation
	}
	if c.all || !site.Alarms.same(l.siteAlarms) {
		parts = append(parts, siteAlarmBannerView(site.Alarms))
		l.siteAlarms = site.Alarms
	}
	switch l.page {
	case liveOverview:
		if c.all || c.panel {
			parts = append(parts, alarmPanelView(v.panel()))
		}
		if (c.all || c.climate) && len(v.layout.Sensors) > 0 {
			parts = append(parts, environmentView(v.environment()))
		}
		for _, d := range v.layout.Doors {
			if c.all || c.doors[d.ID] {
				parts = append(parts, doorTileView(v.door(d)))
			}
		}
	case liveSite:
		if st := v.siteStatus(); c.all || !st.same(l.siteStatus) {
			parts = append(parts, siteStatusView(st))
			l.siteStatus = st
		}
		if lp := v.lockdownPanel(l.officer.ID); c.all || lp != l.lockdownPanel {
			parts = append(parts, lockdownPanelView(lp, ""))
			l.lockdownPanel = lp
		}
		if list := v.siteAlarmList(); c.all || !list.same(l.siteAlarmList) {
			parts = append(parts, siteAlarmListView(list))
			l.siteAlarmList = list
		}
	case liveWalkTest:
		if walk {
			parts = append(parts, walkTestControls(v.walkControls()))
		}
		groups, sum := v.proofs()
		var rows []templ.Component
		if l.proofs == nil {
			l.proofs = map[string]proofStatus{}
		}
		for _, g := range groups {
			for _, r := range g.Rows {
				// A row changes with time when its proof falls overdue.
				if c.all || c.proofs[r.ID] || l.proofs[r.ID] != r.Status {
					rows = append(rows, proofRowView(r))
					l.proofs[r.ID] = r.Status
				}
			}
		}
		if len(rows) > 0 {
			parts = append(append(parts, proofSummaryView(sum)), rows...)
		}
	}
	for _, p := range parts {
		if err := l.fragment(p); err != nil {
			return err
		}
	}
	if l.buf.Len() == 0 {
		return nil
	}
	return l.flush()
}

// reload tells the screen that its subscription ended (it fell behind, or
// the appliance is stopping): the page reloads once the appliance answers,
// and so shows the whole picture again.
func (l *liveStream) reload() {
	l.message("reload", "subscription ended")
	_ = l.flush() // the stream ends either way
}
