package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/chromedp/chromedp"

	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/wingtest"
	"wingnode/sync/pull"
	"wingnode/sync/siterun"
	"wingnode/sync/trust"
	"wingnode/ui/browsertest"
)

// The soak's load on wing A, besides its sensor storm and the kiosk's
// screen in a real browser. Each kind of client comes from its own
// loopback addresses (127.0.K.N), as clients on the wing network would;
// the kiosk is 127.0.0.1.
const (
	soakScreens = 50   // live streams, one per address, as 50 screens on the network
	soakReaders = 5    // API clients reading state, events and the site
	soakIdle    = 1000 // connections that send nothing, or nothing after one request, 8 per address
	soakSlow    = 100  // clients sending their request a byte a second
	// soakMeasured is how many of A's doors the storm leaves alone, to be
	// opened in turn for the edge-to-screen figure.
	soakMeasured = 10
	// soakStormRate is how often each other input of wing A changes, per second.
	soakStormRate = 2
)

// soak: a site of three wingnode processes on loopback for soakFor
// (default ten minutes): wing A under a sensor storm (every input but ten
// doors changing twice a second, about 270 events a second), replicating
// to B and C as they play the built-in day; A's kiosk screen in Chromium,
// 50 more live streams, 5 API readers, 1,000 idle and 100 slow clients on
// A's screens port. It reports A's peak resident memory and goroutines,
// the events lost (recorded and acknowledged on a wing's API while the
// site ran, but at the end missing or altered on any wing, by the same
// check as the fault tests), and the edge-to-screen latency on the kiosk
// of the ten doors opened in turn: from the edge's time in its event to
// the browser's tile showing it.
func soak(ctx context.Context, dir string) ([]figure, error) {
	if _, err := os.Stat(wingnodeBinary); err != nil {
		return nil, fmt.Errorf("%w (make bench builds it)", err)
	}
	chromium := browsertest.Path()
	if chromium == "" {
		return nil, errors.New("chromium is not installed: run 'make deps' as root")
	}
	layout, err := config.Simulated("A")
	if err != nil {
		return nil, err
	}
	doors := gpioDoors(layout, len(layout.Doors))
	if len(doors) < soakMeasured {
		return nil, fmt.Errorf("wing A has %d doors on GPIO pins, the soak needs %d", len(doors), soakMeasured)
	}
	measured := doors[len(doors)-soakMeasured:]
	logs := &wingtest.Log{}
	startCtx, cancelStart := context.WithTimeout(ctx, 2*time.Minute)
	s, err := siterun.Start(startCtx, siterun.Options{
		Binary: wingnodeBinary, Dir: dir, Wings: []string{"A", "B", "C"},
		Scenarios: map[string]string{"A": soakScenario(layout, measured)},
		Log:       logs, Args: []string{"-log-level", "warn"},
	})
	cancelStart()
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs.Tail(20))
	}
	defer s.Close()
	a := s.Wing("A")
	watch := s.Watch()
	m, err := newMetrics(ctx, a)
	if err != nil {
		return nil, err
	}

	bctx, closeBrowser, err := browsertest.Start(chromium)
	if err != nil {
		return nil, err
	}
	defer closeBrowser()
	tab, cancelTab := context.WithTimeout(bctx, soakFor+5*time.Minute)
	defer cancelTab()
	if err := chromedp.Do(tab,
		chromedp.EmulateViewport(browsertest.Width, browsertest.Height, chromedp.EmulateTouch),
		chromedp.Navigate(a.Screens+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(tileRecorder, jsonText(measured))),
	); err != nil {
		return nil, fmt.Errorf("open wing A's overview: %w", err)
	}

	var load soakLoad
	loadCtx, stopLoad := context.WithCancel(ctx)
	began := time.Now()
	load.start(loadCtx, a.Screens)
	for load.streamsOpened.Load() < soakScreens && time.Since(began) < time.Minute {
		time.Sleep(10 * time.Millisecond)
	}
	load.flood(loadCtx, a.Screens)
	// The edges are timed once the load is up: an edge before every
	// screen's stream is open reaches a stream or the kiosk's recorder
	// only when it opens. The ramp-up's own edges, until ten seconds into
	// the flood of idle and slow clients, are timed apart.
	steady := time.Now()
	rssMax, goroutinesMax, err := sample(ctx, a, m, soakFor)
	stopLoad()
	load.wg.Wait()
	if err == nil && goroutinesMax == 0 {
		err = errors.New("wing A's metrics never answered")
	}
	if err != nil {
		return nil, fmt.Errorf("%w\n%s", err, logs.Tail(20))
	}
	// Where an edge's time goes that is not the screens': the wing's disk.
	storeP99, storeMax, err := m.storeWrites(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := chromedp.Run(tab, chromedp.Evaluate[[]tileChange](`window.__tiles`))
	if err != nil {
		return nil, fmt.Errorf("read the kiosk's tile changes: %w", err)
	}

	settle, cancelSettle := context.WithTimeout(ctx, 3*time.Minute)
	upto, err := s.WaitConverged(settle)
	cancelSettle()
	seen := watch.Stop()
	if err != nil {
		return nil, fmt.Errorf("the site did not converge after the soak: %w\n%s", err, logs.Tail(20))
	}
	s.Close()
	dirs := map[string]string{}
	for _, w := range s.Wings() {
		dirs[w.ID] = w.Data
	}
	rep, checkErr := siterun.Check(dirs, upto, seen)
	if checkErr != nil && rep.Lost == 0 {
		return nil, fmt.Errorf("the site's stores after the soak: %w", checkErr)
	}
	rampLat, _ := edgeLatencies(seen, measured, changes, began, steady.Add(10*time.Second))
	lat, unshown := edgeLatencies(seen, measured, changes, steady, time.Now())
	if len(lat) == 0 {
		return nil, fmt.Errorf("none of the %d measured doors' changes reached the kiosk's screen", unshown)
	}
	// The same edges as they left the appliance: on a stream read by a
	// client in Go, apart from the browser.
	streamLat, _ := edgeLatencies(seen, measured, load.streamed, steady, time.Now())
	if len(streamLat) == 0 {
		return nil, errors.New("none of the measured doors' changes reached a live stream")
	}
	return []figure{
		{"soak_minutes", soakFor.Minutes(), "min"},
		{"soak_events", float64(rep.Events), "events"},
		{"soak_events_lost", float64(rep.Lost), "events"},
		{"soak_rss_max_mb", float64(rssMax) / 1024, "MB"},
		{"soak_goroutines_max", float64(goroutinesMax), "goroutines"},
		{"soak_edge_to_screen_p50_ms", percentile(lat, 50), "ms"},
		{"soak_edge_to_screen_p99_ms", percentile(lat, 99), "ms"},
		{"soak_edges_unshown", float64(unshown), "changes"},
		{"soak_rampup_s", steady.Sub(began).Seconds(), "s"},
		{"soak_rampup_edge_to_screen_max_ms", percentileOr0(rampLat, 100), "ms"},
		{"soak_edge_to_stream_p50_ms", percentile(streamLat, 50), "ms"},
		{"soak_edge_to_stream_p99_ms", percentile(streamLat, 99), "ms"},
		{"soak_store_write_p99_ms", storeP99, "ms"},
		{"soak_store_write_max_ms", storeMax, "ms"},
		{"soak_streams_opened", float64(load.streamsOpened.Load()), "streams"},
		{"soak_streams_refused", float64(load.streamsRefused.Load()), "streams"},
		{"soak_api_reads", float64(load.reads.Load()), "requests"},
		{"soak_api_errors", float64(load.readErrors.Load()), "requests"},
		{"soak_clients_cut_off", float64(load.cutOff.Load()), "connections"},
	}, nil
}

// soakScenario is wing A's minute, repeated: every input but the measured
// doors storms, and the measured doors open for a second in turn, one
// every two seconds, so that each changes four times a minute (never
// enough to be reported as flapping).
func soakScenario(layout config.Wing, measured []string) string {
	var b strings.Builder
	for _, d := range layout.Doors {
		if !slices.Contains(measured, d.ID) {
			fmt.Fprintf(&b, "00:00 storm %s %d/s for 59s\n", d.ID, soakStormRate)
		}
	}
	for _, p := range layout.AlarmPoints {
		fmt.Fprintf(&b, "00:00 storm %s %d/s for 59s\n", p.ID, soakStormRate)
	}
	for i := range 30 {
		fmt.Fprintf(&b, "00:%02d open %s for 1s\n", 1+2*i%59, measured[i%len(measured)])
	}
	b.WriteString("01:00 repeat\n")
	return b.String()
}

// tileRecorder keeps, in window.__tiles, every change of the measured
// doors' tiles with the browser's clock (ms since the epoch).
const tileRecorder = `(() => {
	const doors = %s;
	const last = {};
	window.__tiles = [];
	const look = () => {
		const t = performance.timeOrigin + performance.now();
		for (const id of doors) {
			const el = document.getElementById("door-" + id);
			const state = el ? el.dataset.state : undefined;
			if (state !== undefined && state !== last[id]) {
				last[id] = state;
				window.__tiles.push({door: id, state: state, at: t});
			}
		}
	};
	look();
	new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true});
})()`

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// tileChange is one change the kiosk's screen showed.
type tileChange struct {
	Door  string  `json:"door"`
	State string  `json:"state"`
	At    float64 `json:"at"` // ms since the epoch
}

// percentileOr0 is percentile, or 0 of no durations.
func percentileOr0(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	return percentile(ds, p)
}

// edgeLatencies pairs each door event of the measured doors, from from
// until to, with the first change of that door's tile to the event's state
// at or after the event's time: the edge-to-screen latency. Changes never shown within five
// seconds are counted unshown.
func edgeLatencies(seen []event.Event, measured []string, shown []tileChange, from, to time.Time) (lat []time.Duration, unshown int) {
	slices.SortFunc(seen, func(x, y event.Event) int { return x.Wall.Compare(y.Wall) })
	for _, e := range seen {
		if e.Wing != "A" || !slices.Contains(measured, e.Subject) || e.Wall.Before(from) || !e.Wall.Before(to) {
			continue
		}
		want := map[event.Kind]string{event.DoorOpened: "open", event.DoorClosed: "closed"}[e.Kind]
		if want == "" {
			continue
		}
		at := float64(e.Wall.UnixNano()) / float64(time.Millisecond)
		i := slices.IndexFunc(shown, func(c tileChange) bool {
			return c.Door == e.Subject && c.State == want && c.At >= at && c.At < at+5000
		})
		if i < 0 {
			unshown++
			continue
		}
		lat = append(lat, time.Duration((shown[i].At-at)*float64(time.Millisecond)))
	}
	return lat, unshown
}

// sample watches wing A's process for d, every second: its resident
// memory (kB) and goroutines, at their highest. It fails if A ends.
func sample(ctx context.Context, a *siterun.Wing, m *metrics, d time.Duration) (rssMax, goroutinesMax int, err error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(d)
	for {
		select {
		case <-ctx.Done():
			return rssMax, goroutinesMax, ctx.Err()
		case <-a.Exited():
			return rssMax, goroutinesMax, errors.New("wing A's process ended during the soak")
		case <-end:
			return rssMax, goroutinesMax, nil
		case <-tick.C:
		}
		if kb := processRSSKB(a.Pid()); kb > rssMax {
			rssMax = kb
		}
		if n, err := m.goroutines(ctx); err == nil && n > goroutinesMax {
			goroutinesMax = n
		}
	}
}

// processRSSKB is a process's resident memory in kB, or -1.
func processRSSKB(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// soakLoad is the clients on wing A's screens port, and what they met.
type soakLoad struct {
	wg             sync.WaitGroup
	streamsOpened  atomic.Int64 // live streams answered 200
	streamsRefused atomic.Int64 // live streams answered otherwise
	reads          atomic.Int64 // API answers 200
	readErrors     atomic.Int64 // API requests failed or answered otherwise
	cutOff         atomic.Int64 // idle and slow connections the appliance closed

	mu       sync.Mutex
	streamed []tileChange // the door tiles the first stream received, when
}

// doorTile matches a door tile on a live stream, in a "fragments"
// message's data among the other tiles.
var doorTile = regexp.MustCompile(`<a id="door-([^"]+)"[^>]* data-state="([a-z]+)"`)

// start starts the screens' streams and the API readers.
func (l *soakLoad) start(ctx context.Context, base string) {
	for i := range soakScreens {
		client := fromAddress(net.IPv4(127, 0, 1, byte(1+i)), 0)
		first := i == 0
		l.run(func() { l.stream(ctx, client, base+"/live?page=overview", first) })
	}
	for i := range soakReaders {
		client := fromAddress(net.IPv4(127, 0, 4, byte(1+i)), 10*time.Second)
		l.run(func() { l.read(ctx, client, base) })
	}
}

// run runs f as one of the load's clients.
func (l *soakLoad) run(f func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
}

// flood starts the idle and the slow clients, after the screens and
// readers have their connections: they are more than the screens port
// holds from the network (api.ScreensLimits), and the appliance cuts them
// off as they come.
func (l *soakLoad) flood(ctx context.Context, base string) {
	hostPort := strings.TrimPrefix(base, "http://")
	for i := range soakIdle {
		from := net.IPv4(127, 0, 2, byte(1+i/8))
		request := i%2 == 1 // half send one request first and then idle on the kept-alive connection
		l.run(func() { l.idle(ctx, from, hostPort, request) })
	}
	for i := range soakSlow {
		from := net.IPv4(127, 0, 3, byte(1+i))
		l.run(func() { l.slow(ctx, from, hostPort) })
	}
}

// fromAddress is an HTTP client whose connections come from ip.
func fromAddress(ip net.IP, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2}}
}

// pause waits d, or until ctx is done, and says whether to go on.
func pause(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// stream follows a live stream, reading everything it sends, and opens it
// again a second after losing it; record notes the door tiles it receives
// (l.streamed).
func (l *soakLoad) stream(ctx context.Context, client *http.Client, url string, record bool) {
	for ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			if resp.StatusCode == http.StatusOK {
				l.streamsOpened.Add(1)
			} else {
				l.streamsRefused.Add(1)
			}
			if record {
				l.recordTiles(resp.Body)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !pause(ctx, time.Second) {
			return
		}
	}
}

// recordTiles reads a live stream's door tiles into l.streamed as they
// arrive.
func (l *soakLoad) recordTiles(body io.Reader) {
	sc := bufio.NewScanner(body)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("data: ")) {
			continue
		}
		at := float64(time.Now().UnixNano()) / float64(time.Millisecond)
		for _, m := range doorTile.FindAllSubmatch(line, -1) {
			l.mu.Lock()
			l.streamed = append(l.streamed, tileChange{Door: string(m[1]), State: string(m[2]), At: at})
			l.mu.Unlock()
		}
	}
}

// read asks for the wing's state, its latest events and the site, five
// times a second.
func (l *soakLoad) read(ctx context.Context, client *http.Client, base string) {
	paths := []string{"/api/v1/state", "/api/v1/events?limit=100", "/api/v1/site"}
	for i := 0; ctx.Err() == nil; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+paths[i%len(paths)], nil)
		resp, err := client.Do(req)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				l.readErrors.Add(1)
			}
		case resp.StatusCode != http.StatusOK:
			l.readErrors.Add(1)
		default:
			l.reads.Add(1)
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if !pause(ctx, 200*time.Millisecond) {
			return
		}
	}
}

// idle opens a connection and leaves it idle (after one request, if
// request) until the appliance closes it, and then opens another.
func (l *soakLoad) idle(ctx context.Context, from net.IP, hostPort string, request bool) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", hostPort)
		if err == nil {
			stop := context.AfterFunc(ctx, func() { c.Close() })
			if request {
				fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", hostPort)
			}
			io.Copy(io.Discard, c) // until the appliance closes it
			if stop() {
				l.cutOff.Add(1)
			}
			c.Close()
		}
		if !pause(ctx, time.Second) {
			return
		}
	}
}

// slow sends a request a byte a second until the appliance closes the
// connection, and then starts again.
func (l *soakLoad) slow(ctx context.Context, from net.IP, hostPort string) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}, Timeout: 5 * time.Second}
	request := fmt.Sprintf("GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Slow: %s\r\n\r\n", hostPort, strings.Repeat("s", 1000))
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", hostPort)
		if err == nil {
			closed := false
			for i := 0; i < len(request) && ctx.Err() == nil && !closed; i++ {
				if _, err := c.Write([]byte{request[i]}); err != nil {
					closed = true
				}
				closed = closed || !pause(ctx, time.Second)
			}
			if ctx.Err() == nil {
				l.cutOff.Add(1)
			}
			c.Close()
		}
		if !pause(ctx, time.Second) {
			return
		}
	}
}

// metrics reads wing A's Prometheus metrics on its off-board port, as a
// central monitoring client registered for the soak.
type metrics struct {
	client *http.Client
	url    string
	token  string
}

func newMetrics(ctx context.Context, a *siterun.Wing) (*metrics, error) {
	out, err := exec.CommandContext(ctx, wingnodeBinary, "site", "client-token", "-data", a.Data, "-role", "central", "soak").Output()
	if err != nil {
		return nil, fmt.Errorf("register the soak's metrics client: %w", err)
	}
	ca, err := trust.ReadCA(filepath.Join(datadir.Dir(a.Data).Identity(), "site-ca.crt"))
	if err != nil {
		return nil, err
	}
	c := pull.NewHTTPClient(ca, nil)
	c.Timeout = 5 * time.Second
	return &metrics{client: c, url: a.API + "/metrics", token: strings.TrimSpace(string(out))}, nil
}

// goroutines is the wing's go_goroutines.
func (m *metrics) goroutines(ctx context.Context) (int, error) {
	families, err := m.scrape(ctx)
	if err != nil {
		return 0, err
	}
	f := families["go_goroutines"]
	if len(f.GetMetric()) == 0 {
		return 0, errors.New("metrics: no go_goroutines")
	}
	return int(f.GetMetric()[0].GetGauge().GetValue()), nil
}

// storeWrites are the 99th percentile and the slowest of the wing's store
// transactions (write and fsync) since it started, in ms, each as the
// upper bound of the bucket of wingnode_store_write_seconds that holds it.
func (m *metrics) storeWrites(ctx context.Context) (p99, slowest float64, err error) {
	families, err := m.scrape(ctx)
	if err != nil {
		return 0, 0, err
	}
	f := families["wingnode_store_write_seconds"]
	if len(f.GetMetric()) == 0 || f.GetMetric()[0].GetHistogram().GetSampleCount() == 0 {
		return 0, 0, errors.New("metrics: no store writes")
	}
	h := f.GetMetric()[0].GetHistogram()
	total := float64(h.GetSampleCount())
	p99 = -1
	for _, b := range h.GetBucket() { // cumulative, +Inf left out
		if p99 < 0 && float64(b.GetCumulativeCount()) >= 0.99*total {
			p99 = b.GetUpperBound() * 1000
		}
		if float64(b.GetCumulativeCount()) >= total {
			return p99, b.GetUpperBound() * 1000, nil
		}
	}
	if p99 < 0 {
		p99 = math.Inf(1)
	}
	return p99, math.Inf(1), nil
}

// scrape reads the wing's metrics.
func (m *metrics) scrape(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}
