package central_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wingtest"
	"wingnode/sync/central"
	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// fixture is a made-up site's commit order and the pull served over it.
type fixture struct{ *wingtest.Order }

func newFixture(t testing.TB) *fixture { return &fixture{wingtest.StartOrder(t)} }

func newIdentity(t testing.TB, name, wing string) (*trust.Identity, *x509.Certificate) {
	t.Helper()
	id, ca, err := wingtest.NewIdentity(t.TempDir(), name, wing)
	require.NoError(t, err)
	return id, ca.Certificate()
}

func (f *fixture) commit(t testing.TB, wing string, n int) { f.MustCommit(t, wing, n) }

// get asks the pull and checks the answer against docs/openapi.yaml.
func (f *fixture) get(t testing.TB, query string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(f.URL + "/api/v1/site/events?" + query)
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
	tag := export.SiteTag(f.ID.SiteID())
	assert.Equal(t, f.ID.SiteID(), p.Site)
	require.Len(t, p.Records, 5)
	assert.Equal(t, "1.0."+tag, p.Records[0].Cursor)
	assert.Equal(t, "2.1."+tag, p.Records[4].Cursor)
	assert.Equal(t, p.Records[4].Cursor, p.Next)
	assert.Equal(t, map[string]uint64{"A": 3, "B": 2}, p.Committed)

	head, at, err := export.CheckHead(f.CA, p.Head)
	require.NoError(t, err, "the head verifies with the site CA certificate alone")
	assert.Equal(t, "A", head.Wing)
	assert.Equal(t, p.Records[4].Cursor, at.String(), "the head is at the newest commit")
	assert.Equal(t, f.Chain("B")[1].Hash, head.Committed["B"].Hash)

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
	_, _, err = export.CheckHead(f.CA, altered)
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
	resp, err := http.Post(f.URL+"/api/v1/site/events", "text/plain", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestPullResyncRequired(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 1)
	tag := export.SiteTag(f.ID.SiteID())

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

	f.Site.SetCommitIndex(9)
	resp, body = f.get(t, "after=9.0."+tag)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "this wing lags the site: %s", body)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Contains(t, string(body), "ask another wing")

	f.Site.SetCommitIndex(2)
	f.Site.SetLeader("")
	resp, body = f.get(t, "after=9.0."+tag)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "cut off: it cannot tell")
	assert.Contains(t, string(body), "cut off")

	resp, _ = f.get(t, "after=2.0")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a cursor of the older form, which names no site, is read")
}

// A pull that fails over from a wing that has just stopped brings a
// cursor the next wing does not yet know is committed: it waits to learn
// it from the site instead of calling the cursor foreign.
func TestPullCursorAheadOfThisWingSettles(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 1)
	tag := export.SiteTag(f.ID.SiteID())
	srv := httptest.NewServer(central.Events(central.Config{Store: f.Store, Site: func() central.Site { return f.Site }, Settle: time.Minute}))
	defer srv.Close()
	answered := make(chan int, 1)
	go func() {
		resp, err := http.Get(srv.URL + "/api/v1/site/events?after=3.0." + tag)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case code := <-answered:
		t.Fatalf("a cursor one entry ahead of this wing was answered %d at once", code)
	case <-time.After(300 * time.Millisecond):
	}
	f.commit(t, "B", 1) // the site tells this wing of entry 3
	select {
	case code := <-answered:
		assert.Equal(t, http.StatusOK, code, "the cursor is a place of the order once this wing knows it")
	case <-time.After(10 * time.Second):
		t.Fatal("the pull did not answer once this wing learned of the cursor's entry")
	}
}

func TestPullWithoutASite(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(central.Events(central.Config{Store: f.Store, Site: func() central.Site { return nil }}))
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
	assert.Equal(t, "3.1."+export.SiteTag(f.ID.SiteID()), p.Next, "a filtered page moves past what did not match")
}

func TestPullBinaryPageIsTheJSONPage(t *testing.T) {
	f := newFixture(t)
	f.commit(t, "A", 3)
	f.commit(t, "B", 2)
	want := f.page(t, "limit=4")
	req, err := http.NewRequest("GET", f.URL+"/api/v1/site/events?limit=4", nil)
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
	_, _, err = export.CheckHead(f.CA, got.Head)
	assert.NoError(t, err)

	// A page larger than the server buffers says its length, so a client
	// reads it into one buffer.
	f.commit(t, "B", 300)
	req.URL.RawQuery = "limit=1000"
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Greater(t, len(b), 16<<10)
	assert.EqualValues(t, len(b), resp.ContentLength)
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
		fx.Pull.ServeHTTP(rec, req)
		wingtest.Contract(t, "GET", "/api/v1/site/events", rec.Code, rec.Header(), rec.Body.Bytes())
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusConflict:
		default:
			t.Errorf("%q: status %d", q, rec.Code)
		}
	})
}
