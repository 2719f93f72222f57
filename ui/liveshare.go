package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/roster"
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
	mu   sync.Mutex
	done map[string]*sharedPart
	// token stands in a shared message for each stream's CSRF token.
	token string
}

type sharedPart struct {
	once  sync.Once
	value any
	err   error
}

// liveViews hands the live streams a shared view.
type liveViews struct {
	mu     sync.Mutex
	last   *view
	lastAt time.Time // when last was made, by this machine's clock
	token  string    // see sharedView.token
	// site is Wing.Site as last read, at siteAt: the streams read it
	// again at most every shareFor (it reads the store).
	site   SiteStatus
	siteAt time.Time
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
	lv.mu.Lock()
	defer lv.mu.Unlock()
	now := time.Now() // how long a view is shared is this machine's business, not the wing's clock
	site := lv.siteAsOf(s, now)
	if v := lv.last; v != nil && v.state == st && fresh(lv.lastAt, now) && fresh(v.now, s.opt.Now()) && sameSite(site, v.site) {
		return *v
	}
	v := s.viewOf(st, site)
	v.shared = &sharedView{done: map[string]*sharedPart{}, token: lv.token}
	lv.last, lv.lastAt = &v, now
	return v
}

// liveSite is Wing.Site as the live streams see it: read at most every
// shareFor.
func (s *Server) liveSite() SiteStatus {
	lv := s.liveViews
	lv.mu.Lock()
	defer lv.mu.Unlock()
	return lv.siteAsOf(s, time.Now())
}

func (lv *liveViews) siteAsOf(s *Server, now time.Time) SiteStatus {
	if lv.siteAt.IsZero() || !fresh(lv.siteAt, now) {
		lv.site, lv.siteAt = s.wing.Site(), now
	}
	return lv.site
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
	sv.mu.Lock()
	defer sv.mu.Unlock()
	p, ok := sv.done[key]
	if !ok {
		p = &sharedPart{}
		sv.done[key] = p
	}
	return p
}

// part is an element a live stream sends: the component, and the key
// that names it among the parts of one view (with what it shows that is
// not of the view: a page's variant, an officer). A part without a key
// is rendered for its stream alone.
type part struct {
	key string
	c   templ.Component
}

// fragmentMessage is the message that replaces p's element on l's screen:
// rendered once for every stream of the view that shows it alike (as
// signed in, with the same role), with l's CSRF token put in.
func (l *liveStream) fragmentMessage(v view, p part) (string, error) {
	if v.shared == nil || p.key == "" {
		return fragmentMessage(l.ctx, p.c)
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
		sp.value, sp.err = fragmentMessage(ctx, p.c)
	})
	if sp.err != nil {
		return "", sp.err
	}
	return strings.ReplaceAll(sp.value.(string), v.shared.token, vis.token), nil
}

// fragmentMessage renders c as a server-sent "fragment" message.
func fragmentMessage(ctx context.Context, c templ.Component) (string, error) {
	var html strings.Builder
	if err := c.Render(ctx, &html); err != nil {
		return "", err
	}
	var m strings.Builder
	writeMessage(&m, "fragment", html.String())
	return m.String(), nil
}
