package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// shareFor is the longest the live streams share one view of the wing: a
// storm's batch reaches every stream at once, and each would otherwise
// work out and render the same parts from the same picture. A view is
// shared only while the picture and the site stay as they were.
const shareFor = 100 * time.Millisecond

// sharedView is what the live streams share of one view: the values
// worked out from it and the messages rendered from them, each done once
// by the first stream that needs it while the others wait for it.
type sharedView struct {
	done sync.Map // part name -> *sharedPart
	// token stands in a shared message for each stream's CSRF token.
	token string
}

type sharedPart struct {
	once  sync.Once
	value any
	err   error
}

// liveViews hands the live streams a shared view. A storm's batch wakes
// every stream at once: they find the view already made without taking
// a lock (a lock they all queued for, handing it on one by one, held the
// last of fifty streams up for tens of milliseconds), and only the one
// that finds it stale makes the next, under mu.
type liveViews struct {
	mu    sync.Mutex
	last  atomic.Pointer[madeView]
	token string // see sharedView.token
	// site is Wing.Site as last read: the streams read it again at most
	// every shareFor (it reads the store).
	site atomic.Pointer[siteReading]
}

// madeView is a shared view and when it was made, by this machine's clock.
type madeView struct {
	v  view
	at time.Time
}

// siteReading is Wing.Site as read at a time, by this machine's clock.
type siteReading struct {
	status SiteStatus
	at     time.Time
}

func newLiveViews() *liveViews {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand does not fail
	return &liveViews{token: "csrf-" + hex.EncodeToString(b)}
}

// liveView is the view a live stream sends from: the one the other
// streams are sending from while the wing has not changed, or a new one.
func (s *Server) liveView() view {
	st := s.wing.State()
	lv := s.liveViews
	now := time.Now() // how long a view is shared is this machine's business, not the wing's clock
	if v, ok := lv.shared(st, now, s.opt.Now()); ok {
		return v
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	if v, ok := lv.shared(st, now, s.opt.Now()); ok {
		return v // made by another stream meanwhile
	}
	v := s.viewOf(st, lv.siteAsOf(s, now))
	v.shared = &sharedView{token: lv.token}
	lv.last.Store(&madeView{v: v, at: now})
	return v
}

// shared returns the last view made, if it may still be shared: of the
// same picture, made less than shareFor ago by both clocks, and of the
// site as it still reads.
func (lv *liveViews) shared(st *wing.State, now, wingNow time.Time) (view, bool) {
	m, site := lv.last.Load(), lv.site.Load()
	if m == nil || site == nil || m.v.state != st || !fresh(m.at, now) || !fresh(m.v.now, wingNow) || !fresh(site.at, now) || !sameSite(site.status, m.v.site) {
		return view{}, false
	}
	return m.v, true
}

// liveSite is Wing.Site as the live streams see it: read at most every
// shareFor.
func (s *Server) liveSite() SiteStatus {
	lv := s.liveViews
	now := time.Now()
	if r := lv.site.Load(); r != nil && fresh(r.at, now) {
		return r.status
	}
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.siteAsOf(s, now)
}

// siteAsOf is Wing.Site as of now, read again if the last reading is not
// fresh; lv.mu must be held.
func (lv *liveViews) siteAsOf(s *Server, now time.Time) SiteStatus {
	if r := lv.site.Load(); r != nil && fresh(r.at, now) {
		return r.status
	}
	r := &siteReading{status: s.wing.Site(), at: now}
	lv.site.Store(r)
	return r.status
}

// fresh reports whether what was read at then may still be shared now.
func fresh(then, now time.Time) bool { return now.Sub(then) >= 0 && now.Sub(then) < shareFor }

// once works out the value named key once for the view's streams; a view
// of one page (not shared) works it out each time.
func once[T any](v view, key string, work func() T) T {
	if v.shared == nil {
		return work()
	}
	p := v.shared.part(key)
	p.once.Do(func() { p.value = work() })
	return p.value.(T)
}

func (sv *sharedView) part(key string) *sharedPart {
	if p, ok := sv.done.Load(key); ok {
		return p.(*sharedPart)
	}
	p, _ := sv.done.LoadOrStore(key, &sharedPart{})
	return p.(*sharedPart)
}

// part is an element a live stream sends: the component, and the key
// that names it among the parts of one view (with what it shows that is
// not of the view: a page's variant, an officer). A part without a key
// is rendered for its stream alone.
type part struct {
	key string
	c   templ.Component
	// several: c renders several elements, each to put in place of its
	// namesake, sent as one "fragments" message.
	several bool
}

// event is the name of the message that carries the part.
func (p part) event() string {
	if p.several {
		return "fragments"
	}
	return "fragment"
}

// fragmentMessage is the message that replaces p's element on l's screen:
// rendered once for every stream of the view that shows it alike (as
// signed in, with the same role), with l's CSRF token put in.
func (l *liveStream) fragmentMessage(v view, p part) (string, error) {
	if v.shared == nil || p.key == "" {
		return fragmentMessage(l.ctx, p.event(), p.c)
	}
	vis := visitOf(l.ctx)
	key := "html:" + p.key
	if vis.signedIn {
		key += "|" + string(vis.actor.Role)
	}
	sp := v.shared.part(key)
	sp.once.Do(func() {
		ctx := context.WithValue(context.Background(), visitKey{}, visit{
			token: v.shared.token, signedIn: vis.signedIn, actor: roster.Actor{Role: vis.actor.Role}})
		sp.value, sp.err = fragmentMessage(ctx, p.event(), p.c)
	})
	if sp.err != nil {
		return "", sp.err
	}
	return strings.ReplaceAll(sp.value.(string), v.shared.token, vis.token), nil
}

// fragmentMessage renders c as a server-sent message named name
// ("fragment" or "fragments").
func fragmentMessage(ctx context.Context, name string, c templ.Component) (string, error) {
	var html strings.Builder
	if err := c.Render(ctx, &html); err != nil {
		return "", err
	}
	var m strings.Builder
	writeMessage(&m, name, html.String())
	return m.String(), nil
}
