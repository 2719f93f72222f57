package ui

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/api"
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

// The live pages. Every page follows the stream for the frame: the
// header's parts and the banners.
const (
	liveOverview livePage = "overview"
	liveWalkTest livePage = "walktest"
	liveSite     livePage = "site"
	liveEvents   livePage = "events" // the frame, and new events of the filter at the top of the list
	livePlan     livePage = "plan"
	liveFrame    livePage = "frame" // the frame only
)

// livePages lists the pages a stream may serve.
var livePages = []livePage{liveOverview, liveWalkTest, liveSite, liveEvents, livePlan, liveFrame}

// changes is the set of page parts that a batch of events touched.
type changes struct {
	all     bool // every part: the stream has just opened
	tick    bool // time has passed: the parts that change with time
	site    bool // Wing.Site says something new
	doors   map[string]bool
	points  map[string]bool // alarm points whose alarms or health changed
	panel   bool
	alarms  bool // an alarm of any wing changed
	faults  bool // an input's health changed
	climate bool
	walk    bool            // a walk test started or ended
	proofs  map[string]bool // inputs proven or faulted
	regime  bool
	checks  bool           // a plan, a check or a presence at a cell door
	events  []*event.Event // the batch, for the event log
}

// add notes what e changes on this wing's pages.
func (c *changes) add(v view, e *event.Event) {
	c.events = append(c.events, e)
	switch e.Kind {
	case event.DoorOpened, event.DoorClosed, event.DoorLocked, event.DoorUnlocked:
		c.door(v, e.Subject)
		// A latched door alarm's card says when its door is closed again.
		if _, ok := v.state.ActiveAlarmOn(e.Subject); ok {
			c.panel = true
		}
	case event.InputFault, event.InputRestored:
		c.faults = true
		c.door(v, strings.TrimSuffix(e.Subject, wing.LockSuffix))
		if _, ok := v.pointByID(e.Subject); ok {
			c.panel = true
			c.point(e.Subject)
		}
		if _, ok := v.sensorByID(e.Subject); ok {
			c.climate = true
		}
		c.panel = true // the overview lists every faulted input
		c.proof(e.Subject)
	case event.InputProven:
		c.proof(e.Subject)
	case event.WalkTestStarted, event.WalkTestEnded:
		c.walk = true
	case event.ClimateCondition:
		if _, ok := v.sensorByID(e.Subject); ok {
			c.climate = true
		}
	case event.RegimeSet:
		c.regime = true
	case event.ObservationPlanSet, event.ObservationPlanEnded, event.ObservationChecked, event.ObservationPresence:
		c.checks = true
	case event.AlarmRaised, event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved, event.AlarmClosedRemotely, event.AlarmEscalated, event.AlarmCleared:
		c.alarms = true
		p, ok := v.pointByID(e.Subject)
		if ok || e.Wing == v.layout.ID {
			c.panel = true
		}
		if ok {
			c.point(p.ID)
		}
		if ok && p.Kind == config.CellCall {
			c.door(v, p.Cell)
		}
		c.door(v, e.Subject) // a door anomaly's point is its door
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

func (c *changes) point(id string) {
	if c.points == nil {
		c.points = map[string]bool{}
	}
	c.points[id] = true
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
	buf  *bytes.Buffer // what is queued to be sent; lent by streamBuffers
	page livePage
	// officer is who was signed in at the screen when the stream opened.
	officer roster.Actor

	// The event log's filter, for the events the stream puts at the top
	// of its list.
	query   event.Query
	follows bool

	// What the screen shows of the parts that change with time as well as
	// with events, as last sent.
	clockUntrusted bool
	walk           walkBanner
	due            int
	alarmBar       alarmBar
	checks         checksBadge
	escalations    escalationBanner
	regime         regimeChip
	panel          alarmPanel
	proofs         map[string]proofRow     // on the walk test page
	groupSums      map[string]proofSummary // on the walk test page, by group
	groupCovered   map[string]int

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
func (l *liveStream) fragment(v view, p part) error {
	m, err := l.fragmentMessage(v, p)
	if err != nil {
		return err
	}
	l.queue(m)
	return nil
}

// message queues one event; data may span lines.
func (l *liveStream) message(name, data string) { writeMessage(l.out(), name, data) }

// queue queues text as it is.
func (l *liveStream) queue(text string) { l.out().WriteString(text) }

// queued is how much is queued to be sent.
func (l *liveStream) queued() int {
	if l.buf == nil {
		return 0
	}
	return l.buf.Len()
}

// out is the buffer a stream queues its messages in, from the first until
// they are sent.
func (l *liveStream) out() *bytes.Buffer {
	if l.buf == nil {
		select {
		case l.buf = <-streamBuffers:
		default:
			l.buf = new(bytes.Buffer)
		}
	}
	return l.buf
}

// streamBuffers lend the live streams the buffers their messages are put
// together in, until they are sent: a storm's batch reaches every stream
// at once, and a buffer grown by each stream for each batch, and let go,
// was a fifth of all the appliance allocated under the soak (and the
// garbage collector's work with it). Unlike a sync.Pool, the collector,
// which runs often in the appliance's small heap, does not empty it.
var streamBuffers = make(chan *bytes.Buffer, 64)

// writeMessage writes one server-sent event to w; data may span lines.
func writeMessage(w io.StringWriter, name, data string) {
	w.WriteString("event: " + name + "\n")
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		w.WriteString("data: ")
		w.WriteString(line)
		w.WriteString("\n")
	}
	w.WriteString("\n")
}

// lentBuffer is the largest buffer given back to streamBuffers (which
// then hold at most 2 MiB): a stream's first message holds the whole
// page, and a buffer that large is not kept for the small ones after it.
const lentBuffer = 32 << 10

// flush sends what is queued at once: the screen must show an input's
// edge within 100 ms.
func (l *liveStream) flush() error {
	// Not every ResponseWriter supports deadlines; without one the write
	// simply has none.
	_ = l.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
	var err error
	if b := l.buf; b != nil {
		_, err = l.w.Write(b.Bytes())
		l.buf = nil
		if b.Cap() <= lentBuffer {
			b.Reset()
			select {
			case streamBuffers <- b:
			default:
			}
		}
	}
	if err != nil {
		return err
	}
	return l.rc.Flush()
}

// live streams a page's fragments as events arrive. See the package
// documentation for the protocol.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	page := livePage(cmp.Or(r.URL.Query().Get("page"), string(liveOverview)))
	if !slices.Contains(livePages, page) {
		http.Error(w, "page: only overview, walktest, site, events, plan and frame follow the live stream", http.StatusBadRequest)
		return
	}
	var query event.Query
	follows := false
	if page == liveEvents {
		f := filterFrom(r.URL.Query())
		q, err := f.query()
		if err != nil {
			http.Error(w, "the event log's filter: "+err.Error(), http.StatusBadRequest)
			return
		}
		query, follows = q, f.follows()
	}
	l, events, end, ok := s.openStream(w, r)
	if !ok {
		return
	}
	defer end()
	l.page, l.query, l.follows = page, query, follows
	l.officer, _ = s.actor(r)

	// The page was rendered before this subscription began: send every part
	// once, so that nothing that happened in between is missed.
	l.queue("retry: " + reconnectAfter + "\n\n")
	if err := s.sendChanges(l, s.liveView(), changes{all: true}); err != nil {
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
			l.queue(": keep-alive\n\n")
			if l.flush() != nil {
				return
			}
		case <-refresh.C:
			if err := s.sendChanges(l, s.liveView(), changes{climate: true, tick: true}); err != nil {
				return
			}
		case <-site.C:
			// Only what differs from what the screen shows is sent.
			if sameSite(s.liveSite(), l.site) {
				continue
			}
			if err := s.sendChanges(l, s.liveView(), changes{site: true}); err != nil {
				return
			}
		case e, ok := <-events:
			if !ok {
				l.reload()
				return
			}
			batch, open := drain(e, events)
			v := s.liveView()
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

// openStream begins a live stream (of /live or /live/shift) for r: it
// refuses one while the appliance stops or beyond the limits
// (admitStream), subscribes to the wing and sends the stream's headers.
// end, once the stream is over, lets its place and subscription go.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) (l *liveStream, events <-chan *event.Event, end func(), ok bool) {
	select {
	case <-s.done:
		// The browser stops retrying on this answer and waits for /healthz.
		http.Error(w, "the appliance is stopping", http.StatusServiceUnavailable)
		return nil, nil, nil, false
	default:
	}
	leave, ok := s.admitStream(w, r)
	if !ok {
		return nil, nil, nil, false
	}
	events, cancel := s.wing.Subscribe()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	l = &liveStream{w: w, rc: http.NewResponseController(w), ctx: r.Context()}
	_ = l.rc.SetReadDeadline(time.Time{}) // a stream outlives the server's read timeout
	return l, events, func() {
		_ = l.rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests
		cancel()
		leave()
	}, true
}

// streamRetry is how long a client refused a live stream is told to wait.
const streamRetry = 30 * time.Second

// admitStream holds a place for a live stream of r's client, or answers
// 503 with Retry-After and a sentence when that client, or every client
// on the network together, holds as many as the screens allow
// (Options.Streams; the kiosk on the board has places of its own).
func (s *Server) admitStream(w http.ResponseWriter, r *http.Request) (leave func(), ok bool) {
	leave, ok = s.streams.Enter(api.Client(r))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.streamRetry.Seconds())))
		http.Error(w, "Not live: this screen, or the wing's screens together, already follow the wing on as many live streams as it allows. Close other pages or tabs of the wing.", http.StatusServiceUnavailable)
	}
	return leave, ok
}

// drain returns first and every event already waiting behind it, so that a
// burst is rendered once; open is false when the channel was closed.
func drain(first *event.Event, events <-chan *event.Event) (batch []*event.Event, open bool) {
	batch = []*event.Event{first}
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
// snapshot, and the parts that time has changed, and sends them. Each
// part is worked out only when what it shows may have changed, and once
// for all the streams of a shared view (liveView): a door's edge must
// reach every screen within tens of milliseconds.
func (s *Server) sendChanges(l *liveStream, v view, c changes) error {
	var parts []part
	add := func(key string, c templ.Component) { parts = append(parts, part{key: key, c: c}) }
	clock, ok := v.state.Wings[v.layout.ID]
	if untrusted := ok && !clock.ClockTrusted; c.all || untrusted != l.clockUntrusted {
		add("clock", clockStatus(untrusted))
		l.clockUntrusted = untrusted
	}
	if c.all || c.tick || c.regime {
		if rc := once(v, "regime", v.regimeChip); c.all || rc != l.regime {
			add("regime", regimeChipView(rc))
			l.regime = rc
		}
	}
	if c.all || c.tick || c.alarms || c.faults || c.panel {
		cards := once(v, "cards", v.cards)
		faults := once(v, "faults", v.inputFaults)
		b := once(v, "alarmbar", func() alarmBar { return v.alarmBar(cards, faults) })
		b.Overview = l.page == liveOverview
		if c.all || b != l.alarmBar {
			add("alarmbar:"+string(l.page), alarmBarView(b))
			l.alarmBar = b
		}
		if l.page == liveOverview {
			// A card that changed among the same alarms goes alone: with
			// many alarms up, the whole panel is long to send and to lay
			// out again, and the tiles behind it would wait.
			p := alarmPanel{Cards: cards, Faults: faults}
			if c.all || !p.sameFrame(l.panel) {
				add("panel", alarmPanelView(p))
			} else {
				for i, card := range p.Cards {
					if !card.same(l.panel.Cards[i]) {
						add("card:"+card.testID(), alarmCardView(card))
					}
				}
			}
			l.panel = p
		}
	}
	if c.all || c.tick || c.checks {
		if b := once(v, "checks", v.checksBadge); c.all || b != l.checks {
			add("checks", checksBadgeView(b))
			l.checks = b
		}
	}
	if c.all || c.tick || c.alarms {
		if e := once(v, "escalations", v.escalations); c.all || !e.same(l.escalations) {
			add("escalations", escalationBannerView(e))
			l.escalations = e
		}
	}
	walkChanged := false
	if c.all || c.tick || c.walk {
		if b := once(v, "walkbanner", v.walkBanner); c.all || !b.same(l.walk) {
			walkChanged = b.Running != l.walk.Running || c.all
			add("walkbanner", walkTestBanner(b))
			l.walk = b
		}
	}
	if c.all || c.tick || c.walk || len(c.proofs) > 0 {
		if due := once(v, "proofs", v.proofGroups).sum.due(); c.all || due != l.due {
			add("walklink", walkTestLink(due))
			l.due = due
		}
	}
	if c.all || c.site || c.alarms || c.tick {
		l.site = v.site
		site := once(v, "siteframe", v.siteFrame)
		if c.all || site.Link != l.siteLink {
			add("sitelink", siteLinkView(site.Link))
			l.siteLink = site.Link
		}
		if c.all || site.Lockdown != l.lockdown {
			add("lockdown", lockdownBannerView(site.Lockdown))
			l.lockdown = site.Lockdown
		}
		if c.all || site.Isolation != l.isolation {
			add("isolation", isolationBannerView(site.Isolation))
			l.isolation = site.Isolation
		}
		if c.all || !site.Alarms.same(l.siteAlarms) {
			add("sitealarms", siteAlarmBannerView(site.Alarms))
			l.siteAlarms = site.Alarms
		}
	}
	switch l.page {
	case liveOverview:
		if (c.all || c.climate) && len(v.layout.Sensors) > 0 {
			add("environment", environmentView(once(v, "environment", v.environment)))
		}
		if p, ok := doorTilesPart(v, c); ok {
			parts = append(parts, p)
		}
	case livePlan:
		for _, d := range v.layout.Doors {
			if c.all || c.doors[d.ID] {
				add("plandoor:"+d.ID, planDoorView(v.planDoor(d)))
			}
		}
		for _, p := range v.layout.AlarmPoints {
			if c.all || c.points[p.ID] {
				add("planpoint:"+p.ID, planPointView(v.planPoint(p)))
			}
		}
	case liveSite:
		if c.all || c.site || c.alarms || c.tick {
			if st := once(v, "sitestatus", v.siteStatus); c.all || !st.same(l.siteStatus) {
				add("sitestatus", siteStatusView(st))
				l.siteStatus = st
			}
			// The panel's buttons are the signed-in officer's.
			if lp := v.lockdownPanel(l.officer.ID); c.all || lp != l.lockdownPanel {
				add("", lockdownPanelView(lp, ""))
				l.lockdownPanel = lp
			}
			if list := once(v, "sitealarmlist", v.siteAlarmList); c.all || !list.same(l.siteAlarmList) {
				add("sitealarmlist", siteAlarmListView(list))
				l.siteAlarmList = list
			}
		}
	case liveWalkTest:
		if walkChanged || (c.all || c.walk) {
			add("walkcontrols", walkTestControls(once(v, "walkcontrols", v.walkControls)))
		}
		if c.all || c.tick || c.walk || len(c.proofs) > 0 {
			parts = append(parts, s.proofParts(l, v, c)...)
		}
	}
	for _, p := range parts {
		if err := l.fragment(v, p); err != nil {
			return err
		}
	}
	if l.page == liveEvents && l.follows && !c.all {
		if err := l.newEvents(c.events); err != nil {
			return err
		}
	}
	if l.queued() == 0 {
		return nil
	}
	return l.flush()
}

// doorTilesPart is the overview's door tiles that changed, in one
// message: a storm changes tens of doors at once, and one message for
// them all is rendered once for every stream that drained the same
// changes, sent with one write, and put in place by the screen in one
// task; a message for each tile had every stream, and every screen, go
// round fifty times.
func doorTilesPart(v view, c changes) (part, bool) {
	var doors []config.Door
	key := "doors:"
	for _, d := range v.layout.Doors {
		if c.all || c.doors[d.ID] {
			doors = append(doors, d)
			key += d.ID + ","
		}
	}
	if len(doors) == 0 {
		return part{}, false
	}
	return part{key: key, several: true, c: templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, d := range doors {
			if err := doorTileView(once(v, "door:"+d.ID, func() doorTile { return v.door(d) })).Render(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})}, true
}

// proofParts are the walk test page's parts that changed: its summary,
// each landing's line, and each row.
func (s *Server) proofParts(l *liveStream, v view, c changes) []part {
	pf := once(v, "proofs", v.proofGroups)
	var rows []part
	if l.proofs == nil {
		l.proofs, l.groupSums, l.groupCovered = map[string]proofRow{}, map[string]proofSummary{}, map[string]int{}
	}
	var sums []part
	for _, g := range pf.groups {
		if c.all || l.groupSums[g.Key] != g.Sum || l.groupCovered[g.Key] != g.Covered {
			sums = append(sums, part{key: "proofgroup:" + g.Key, c: proofGroupSummary(g)})
			l.groupSums[g.Key], l.groupCovered[g.Key] = g.Sum, g.Covered
		}
		for _, r := range g.Rows {
			// A row changes with time when its proof falls overdue.
			if old, ok := l.proofs[r.ID]; c.all || c.proofs[r.ID] || !ok || !old.same(r) {
				rows = append(rows, part{key: "proofrow:" + r.ID, c: proofRowView(r)})
				l.proofs[r.ID] = r
			}
		}
	}
	if len(rows) == 0 && len(sums) == 0 {
		return nil
	}
	return append(append([]part{{key: "proofsummary", c: proofSummaryView(pf.sum)}}, sums...), rows...)
}

// newEvents puts the events of a batch that match the event log's filter
// at the top of its list, the newest first.
func (l *liveStream) newEvents(batch []*event.Event) error {
	var match []event.Event
	for _, e := range slices.Backward(batch) {
		if l.query.Matches(*e) {
			match = append(match, *e)
		}
	}
	if len(match) == 0 {
		return nil
	}
	var html strings.Builder
	if err := eventRowsView(match).Render(l.ctx, &html); err != nil {
		return err
	}
	l.message("prepend", html.String())
	return nil
}

// reload tells the screen that its subscription ended (it fell behind, or
// the appliance is stopping): the page reloads once the appliance answers,
// and so shows the whole picture again.
func (l *liveStream) reload() {
	l.message("reload", "subscription ended")
	_ = l.flush() // the stream ends either way
}
