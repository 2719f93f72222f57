package central_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wingtest"
	"wingnode/sync/central"
	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// fixture is a wing's store holding a commit order, its site identity,
// and the pull served over it.
type fixture struct {
	store  *store.Store
	id     *trust.Identity
	ca     *x509.Certificate
	site   *fakeSite
	srv    *httptest.Server
	pull   http.Handler
	mu     sync.Mutex
	chains map[string][]event.Event
	index  uint64
}

// fakeSite is the membership the pull sees: raft's commit index and
// leader are set by the test; Changed fires on every commit.
type fakeSite struct {
	id          *trust.Identity
	commitIndex atomic.Uint64
	leader      atomic.Value
	mu          sync.Mutex
	changed     chan struct{}
}

func (s *fakeSite) Identity() *trust.Identity { return s.id }
func (s *fakeSite) CommitIndex() uint64       { return s.commitIndex.Load() }
func (s *fakeSite) Leader() string            { return s.leader.Load().(string) }
func (s *fakeSite) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
func (s *fakeSite) fire() {
	s.mu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func newIdentity(t testing.TB, name, wing string) (*trust.Identity, *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	ca, err := trust.InitSite(filepath.Join(dir, "ca"), name)
	require.NoError(t, err)
	id, err := trust.NewIdentity(filepath.Join(dir, "identity"), wing, ca)
	require.NoError(t, err)
	return id, ca.Certificate()
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	id, ca := newIdentity(t, "test", "A")
	f := &fixture{store: st, id: id, ca: ca, chains: map[string][]event.Event{}}
	f.site = &fakeSite{id: id, changed: make(chan struct{})}
	f.site.leader.Store("A")
	f.pull = central.Events(central.Config{Store: st, Site: func() central.Site { return f.site }})
	f.srv = httptest.NewServer(f.pull)
	t.Cleanup(f.srv.Close)
	return f
}

// commit has the site commit n new events of wing in one raft entry.
func (f *fixture) commit(t testing.TB, wing string, n int) {
	t.Helper()
	f.mu.Lock()
	chain := f.chains[wing]
	var prev event.Hash
	if len(chain) > 0 {
		prev = chain[len(chain)-1].Hash
	}
	var evs []event.Event
	for i := range n {
		seq := uint64(len(chain) + i + 1)
		e := event.Event{Wing: wing, Seq: seq, HLC: event.HLC{WallNanos: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC).UnixNano() + int64(seq)*int64(time.Second)},
			Wall: time.Date(2026, 11, 26, 9, 0, int(seq)%60, 0, time.UTC), ClockTrusted: true,
			Kind: event.AlarmRaised, Subject: wing + "1-01-CALL", Actor: event.SystemActor, Data: map[string]string{"n": fmt.Sprint(seq)}}
		if seq%2 == 0 {
			e.Kind = event.AlarmCleared
		}
		e.Seal(prev)
		prev = e.Hash
		evs = append(evs, e)
	}
	f.chains[wing] = append(chain, evs...)
	f.index++
	index := f.index
	f.mu.Unlock()
	refused, err := f.store.Ingest(context.Background(), store.Batch{Entries: []store.Entry{{Index: index, Events: evs}}, Applied: index})
	require.NoError(t, err)
	require.NoError(t, refused[0])
	f.site.commitIndex.Store(index)
	f.site.fire()
}

// get asks the pull and checks the answer against docs/openapi.yaml.
func (f *fixture) get(t testing.TB, query string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + "/api/v1/site/events?" + query)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	wingtest.Contract(t, "GET", "/api/v1/site/events", resp.StatusCode, resp.Header, body)
	return resp, body
}

func (f *fixture) page(t testing.TB, query string) export.Page {
	t.Helper()
	resp, body := f.get(t, query)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var p export.Page
	require.NoError(t, json.Unmarshal(body, &p))
	return p
}

func TestPullPagesCarryTheSiteAndASignedHead(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 2)
	p := f.page(t, "limit=10")
	tag := export.SiteTag(f.id.SiteID())
	assert.Equal(t, f.id.SiteID(), p.Site)
	require.Len(t, p.Records, 5)
	assert.Equal(t, "1.0."+tag, p.Records[0].Cursor)
	assert.Equal(t, "2.1."+tag, p.Records[4].Cursor)
	assert.Equal(t, p.Records[4].Cursor, p.Next)
	assert.Equal(t, map[string]uint64{"A": 3, "B": 2}, p.Committed)

	head, at, err := export.CheckHead(f.ca, p.Head)
	require.NoError(t, err, "the head verifies with the site CA certificate alone")
	assert.Equal(t, "A", head.Wing)
	assert.Equal(t, p.Records[4].Cursor, at.String(), "the head is at the newest commit")
	assert.Equal(t, f.chains["B"][1].Hash, head.Committed["B"].Hash)

	// A page short of the end is signed at the end all the same.
	short := f.page(t, "limit=2")
	assert.Equal(t, p.Records[1].Cursor, short.Next)
	assert.Equal(t, p.Head.At, short.Head.At)

	// The head of another site's CA does not verify.
	_, other := newIdentity(t, "test", "A")
	_, _, err = export.CheckHead(other, p.Head)
	assert.Error(t, err)
	// Nor does an altered head.
	altered := p.Head
	altered.Body = append([]byte{}, p.Head.Body...)
	altered.Body[len(altered.Body)-1] ^= 1
	_, _, err = export.CheckHead(f.ca, altered)
	assert.ErrorContains(t, err, "signature does not verify")

	empty := f.page(t, "after="+p.Next)
	assert.Empty(t, empty.Records)
	assert.Equal(t, p.Next, empty.Next, "nothing new keeps the cursor")
}

func TestPullRefusesBadParameters(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 2)
	for _, q := range []string{"after=", "limit=", "wait=", "wing=", "kind=", "from=", "after=bogus", "after=1.2.3",
		"limit=0", "limit=1001", "limit=x", "wait=2m", "wait=-1s", "wing=A%20B", "kind=door.nope", "from=yesterday",
		"from=2026-11-27T00:00:00Z&to=2026-11-26T00:00:00Z", "colour=red", "limit=1&limit=2"} {
		resp, body := f.get(t, q)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", q, body)
		name, _, _ := strings.Cut(q, "=")
		assert.Contains(t, string(body), `"error":"`+name+`:`, "%s: the sentence names the parameter", q)
	}
	resp, err := http.Post(f.srv.URL+"/api/v1/site/events", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestPullResyncRequired(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 1)
	tag := export.SiteTag(f.id.SiteID())

	other, _ := newIdentity(t, "test", "A")
	resp, body := f.get(t, "after=1.0."+export.SiteTag(other.SiteID()))
	assert.Equal(t, http.StatusConflict, resp.StatusCode)
	assert.Contains(t, string(body), "resync required: the cursor")
	assert.Contains(t, string(body), "another site")

	resp, body = f.get(t, "after=9.0."+tag)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "past the end while this wing has applied what the site committed")
	assert.Contains(t, string(body), "resync required")
	assert.Contains(t, string(body), "past the end")

	resp, body = f.get(t, "after=1.7."+tag)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "no place of the order")
	assert.Contains(t, string(body), "resync required")

	f.site.commitIndex.Store(9)
	resp, body = f.get(t, "after=9.0."+tag)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "this wing lags the site: %s", body)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "ask another wing")

	f.site.commitIndex.Store(2)
	f.site.leader.Store("")
	resp, body = f.get(t, "after=9.0."+tag)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "cut off: it cannot tell")
	assert.Contains(t, string(body), "cut off")

	resp, _ = f.get(t, "after=2.0")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a cursor of the older form, which names no site, is read")
}

func TestPullWithoutASite(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "wing.db"), store.Options{Wing: "A"})
	require.NoError(t, err)
	defer st.Close()
	srv := httptest.NewServer(central.Events(central.Config{Store: st, Site: func() central.Site { return nil }}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/site/events")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wingtest.Contract(t, "GET", "/api/v1/site/events", resp.StatusCode, resp.Header, body)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Contains(t, string(body), "not joined its site yet")
}

func TestPullLongPolls(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 1)
	first := f.page(t, "")
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.commit(t, "B", 1)
	}()
	p := f.page(t, "wait=20s&after="+first.Next)
	require.Len(t, p.Records, 1, "the long poll answers with what the site commits meanwhile")
	assert.Equal(t, event.ID{Wing: "B", Seq: 1}, p.Records[0].Event.ID())

	idle := f.page(t, "wait=100ms&after="+p.Next)
	assert.Empty(t, idle.Records)
	assert.Equal(t, p.Next, idle.Next)

	// A filtered long poll waits past events that do not match.
	go func() {
		time.Sleep(50 * time.Millisecond)
		f.commit(t, "B", 1)
		time.Sleep(50 * time.Millisecond)
		f.commit(t, "C", 1)
	}()
	c := f.page(t, "wait=20s&wing=C&after="+p.Next)
	require.Len(t, c.Records, 1)
	assert.Equal(t, event.ID{Wing: "C", Seq: 1}, c.Records[0].Event.ID())
	assert.Equal(t, c.Records[0].Cursor, c.Next)
}

func TestPullFilters(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 4)
	f.commit(t, "B", 4)
	f.commit(t, "C", 2)
	ids := func(p export.Page) (out []string) {
		for _, r := range p.Records {
			out = append(out, r.Event.ID().String())
		}
		return out
	}
	assert.Equal(t, []string{"A/1", "A/2", "A/3", "A/4", "C/1", "C/2"}, ids(f.page(t, "wing=A,C")))
	assert.Equal(t, []string{"A/2", "A/4", "B/2", "B/4", "C/2"}, ids(f.page(t, "kind=alarm.cleared")))
	from := time.Date(2026, 11, 26, 9, 0, 2, 0, time.UTC).Format(time.RFC3339)
	to := time.Date(2026, 11, 26, 9, 0, 4, 0, time.UTC).Format(time.RFC3339)
	assert.Equal(t, []string{"A/2", "A/3", "B/2", "B/3", "C/2"}, ids(f.page(t, "from="+from+"&to="+to)))
	p := f.page(t, "wing=B&kind=alarm.raised&limit=1")
	assert.Equal(t, []string{"B/1"}, ids(p))
	p = f.page(t, "wing=B&kind=alarm.raised&after="+p.Next)
	assert.Equal(t, []string{"B/3"}, ids(p))
	p = f.page(t, "wing=B&kind=alarm.raised&after="+p.Next)
	assert.Empty(t, p.Records)
	assert.Equal(t, "3.1."+export.SiteTag(f.id.SiteID()), p.Next, "a filtered page moves past what did not match")
}

func TestPullBinaryPageIsTheJSONPage(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 2)
	want := f.page(t, "limit=4")
	req, err := http.NewRequest("GET", f.srv.URL+"/api/v1/site/events?limit=4", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", export.BinaryType)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, export.BinaryType, resp.Header.Get("Content-Type"))
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	got, err := export.ReadBinary(b)
	require.NoError(t, err)
	require.Len(t, got.Records, 4)
	for i := range want.Records {
		assert.Equal(t, want.Records[i].Cursor, got.Records[i].Cursor)
		assert.Equal(t, want.Records[i].Body, got.Records[i].Body)
		assert.Equal(t, want.Records[i].Event.Hash, got.Records[i].Event.Hash)
	}
	assert.Equal(t, want.Site, got.Site)
	assert.Equal(t, want.Next, got.Next)
	assert.Equal(t, want.Committed, got.Committed)
	_, _, err = export.CheckHead(f.ca, got.Head)
	assert.NoError(t, err)
}

// FuzzPullParameters: whatever the query, the pull answers with a status
// the OpenAPI document lists and a JSON body that holds to it.
func FuzzPullParameters(f *testing.F) {
	for _, q := range []string{"", "after=", "limit=5", "after=1.0", "wait=10ms", "wing=A,B&kind=alarm.raised",
		"from=2026-11-26T09:00:00Z", "after=1.0.0123456789abcdef", "limit=1001", "after=18446744073709551615.4294967295"} {
		f.Add(q)
	}
	fx := newFixture(f)
	fx.commit(f, "A", 3)
	f.Fuzz(func(t *testing.T, q string) {
		if strings.Contains(q, "wait") {
			return // a long poll would slow the fuzzer down
		}
		req := httptest.NewRequest("GET", "/api/v1/site/events", nil)
		req.URL.RawQuery = q
		rec := httptest.NewRecorder()
		fx.pull.ServeHTTP(rec, req)
		wingtest.Contract(t, "GET", "/api/v1/site/events", rec.Code, rec.Header(), rec.Body.Bytes())
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusConflict:
		default:
			t.Errorf("%q: status %d", q, rec.Code)
		}
	})
}
