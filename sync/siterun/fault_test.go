package siterun_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/wingtest"
	"wingnode/sync/siterun"
)

// binary is the wingnode executable the tests run, built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wingnode-site")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "wingnode")
	build := exec.Command("go", "build", "-o", binary, "wingnode/appliance/cmd/wingnode")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building wingnode for the site tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// storm is a scenario in which every input of a wing toggles rate times
// a second for d, and then the wing is quiet.
func storm(rate int, d time.Duration) string {
	return fmt.Sprintf("00:00 storm all %d/s for %s\n", rate, d)
}

// startSite starts three wings A, B and C behind a fault proxy mesh,
// playing scenario.
func startSite(t *testing.T, scenario string, args ...string) *siterun.Site {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a site of wingnode processes; skipped in -short")
	}
	logs := &wingtest.Log{} // the processes' output, for a failing test
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := siterun.Start(ctx, siterun.Options{
		Binary: binary, Dir: siteDir(t), Wings: []string{"A", "B", "C"}, Scenario: scenario, Proxy: true, Log: logs,
		Args: append([]string{"-log-level", "info"}, args...),
	})
	if err != nil {
		t.Fatalf("starting the site: %v\nwing output (last 20 kB):\n%s", err, logs.Tail(20_000))
	}
	t.Cleanup(func() {
		s.Close()
		if t.Failed() {
			t.Logf("wing output (last 20 kB):\n%s", logs.Tail(20_000))
		}
	})
	// Joined wings start without a vote; the leader gives them one once
	// they answer.
	require.Eventually(t, func() bool {
		st, err := s.Status(ctx, "A")
		if err != nil {
			return false
		}
		voters := 0
		for _, w := range st.Wings {
			if w.Voter {
				voters++
			}
		}
		return voters == 3
	}, 30*time.Second, 100*time.Millisecond, "all three wings vote")
	return s
}

// finish heals every link, waits until the site has converged, stops
// the wings and checks their stores.
func finish(t *testing.T, s *siterun.Site, w *siterun.Watcher) siterun.Report {
	t.Helper()
	s.Mesh.HealAll()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	upto, err := s.WaitConverged(ctx)
	require.NoError(t, err)
	seen := w.Stop()
	dirs := map[string]string{}
	for _, wing := range s.Wings() {
		dirs[wing.ID] = wing.Data
	}
	require.NoError(t, s.Close())
	rep, err := siterun.Check(dirs, upto, seen)
	require.NoError(t, err)
	require.NotZero(t, rep.Events)
	t.Logf("checked: %d events, %d in the common commit order, %d seen acknowledged", rep.Events, rep.Committed, len(seen))
	return rep
}

// leader returns the wing that every wing of among says leads, other
// than not, waiting for one.
func leader(t *testing.T, s *siterun.Site, among []string, not string) string {
	t.Helper()
	var (
		mu   sync.Mutex
		l    string
		last []string
	)
	ok := assert.Eventually(t, func() bool {
		var seen []string
		defer func() {
			mu.Lock()
			last = seen
			mu.Unlock()
		}()
		votes := map[string]int{}
		for _, id := range among {
			st, err := s.Status(context.Background(), id)
			if err != nil {
				seen = append(seen, id+": "+err.Error())
				return false
			}
			seen = append(seen, id+" follows "+st.Leader)
			votes[st.Leader]++
		}
		for id, n := range votes {
			if id != "" && id != not && n == len(among) {
				mu.Lock()
				l = id
				mu.Unlock()
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.True(t, ok, "no leader agreed by %v: %v", among, last)
	return l
}

func others(all []string, not ...string) []string {
	var out []string
	for _, id := range all {
		skip := false
		for _, n := range not {
			skip = skip || id == n
		}
		if !skip {
			out = append(out, id)
		}
	}
	return out
}

var abc = []string{"A", "B", "C"}

func TestLeaderAndFollowerKilledMidWrite(t *testing.T) {
	s := startSite(t, storm(5, 12*time.Second))
	w := s.Watch()
	ctx := context.Background()

	time.Sleep(2 * time.Second)
	l := leader(t, s, abc, "")
	t.Logf("killing the leader %s with SIGKILL", l)
	s.Kill(l)
	rest := others(abc, l)
	newLeader := leader(t, s, rest, l)
	t.Logf("%s leads after the kill", newLeader)
	require.NoError(t, s.Restart(ctx, l))

	time.Sleep(2 * time.Second)
	follower := others(abc, leader(t, s, abc, ""))[0]
	t.Logf("killing the follower %s with SIGKILL while it records", follower)
	s.Kill(follower)
	time.Sleep(time.Second)
	require.NoError(t, s.Restart(ctx, follower))
	finish(t, s, w)
}

func TestMinorityAndMajorityPartitions(t *testing.T) {
	s := startSite(t, storm(5, 15*time.Second), "-log-level", "warn")
	w := s.Watch()
	ctx := context.Background()

	// A minority: one follower cut off. It keeps recording and says so.
	l := leader(t, s, abc, "")
	cut := others(abc, l)[0]
	s.Mesh.Isolate(cut)
	require.Eventually(t, func() bool {
		st, err := s.Status(ctx, cut)
		return err == nil && st.Isolated && st.Waiting > 0
	}, 20*time.Second, 100*time.Millisecond, "the cut-off wing %s reports itself isolated with events waiting", cut)
	// The majority goes on committing: the leader's own events keep
	// being committed while the wing is away.
	before, err := s.Status(ctx, l)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := s.Status(ctx, l)
		return err == nil && st.Applied > before.Applied+5
	}, 20*time.Second, 100*time.Millisecond)
	s.Mesh.HealAll()

	// The leader on the minority side: the other two elect another.
	l = leader(t, s, abc, "")
	s.Mesh.Partition([]string{l}, others(abc, l))
	rest := others(abc, l)
	newLeader := leader(t, s, rest, l)
	t.Logf("leader %s cut off; %s leads the majority", l, newLeader)
	require.Eventually(t, func() bool {
		st, err := s.Status(ctx, l)
		return err == nil && st.Isolated
	}, 20*time.Second, 100*time.Millisecond, "the old leader %s reports itself isolated", l)
	finish(t, s, w)
}

func TestLongIsolationThenHeal(t *testing.T) {
	s := startSite(t, storm(10, 15*time.Second), "-log-level", "warn")
	w := s.Watch()
	l := leader(t, s, abc, "")
	cut := others(abc, l)[1]
	s.Mesh.Isolate(cut)
	// Longer than raft's longest back-off to a failed follower (10 s),
	// while every wing records thousands of events.
	time.Sleep(16 * time.Second)
	st, err := s.Status(context.Background(), cut)
	require.NoError(t, err)
	require.True(t, st.Isolated)
	require.NotZero(t, st.Waiting)
	t.Logf("%s isolated with %d events waiting; healing", cut, st.Waiting)
	finish(t, s, w)
}

func TestFullDiskOnOneWing(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("prlimit (util-linux) is needed to give a wing a full disk")
		}
		t.Skip("prlimit (util-linux) is not installed")
	}
	s := startSite(t, storm(5, 12*time.Second), "-log-level", "warn")
	w := s.Watch()
	ctx := context.Background()
	time.Sleep(time.Second)
	l := leader(t, s, abc, "")
	full := others(abc, l)[0]
	s.Kill(full)
	// Its files may grow by 256 kB at most from now on: the store and the
	// raft log soon cannot grow, as on a full disk.
	var largest int64
	filepath.Walk(s.Wing(full).Data, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Size() > largest {
			largest = fi.Size()
		}
		return nil
	})
	require.NoError(t, s.RestartLimited(ctx, full, largest+256<<10))
	// The wing says that recording has stopped, on its screens and health.
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.Wing(full).Screens + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 30*time.Second, 100*time.Millisecond, "wing %s with a full disk reports that recording stopped", full)
	// The rest of the site goes on.
	before, err := s.Status(ctx, l)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := s.Status(ctx, l)
		return err == nil && st.Applied > before.Applied+20
	}, 30*time.Second, 200*time.Millisecond)
	// A restart while the disk is still full loses none of what the wing
	// held: its spool keeps it.
	restarted := time.Now()
	s.Kill(full)
	require.NoError(t, s.RestartLimited(ctx, full, largest+256<<10))
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.Wing(full).Screens + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusServiceUnavailable
	}, 30*time.Second, 100*time.Millisecond, "wing %s, restarted on its full disk, still reports that recording stopped", full)
	// Space is freed while the wing runs: it records again, first the
	// events it held while its disk was full, before the restart and
	// after, each marked with when it was observed.
	require.NoError(t, s.Unlimit(full))
	require.Eventually(t, func() bool {
		resp, err := http.Get(s.Wing(full).Screens + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "wing %s records again", full)
	require.Eventually(t, func() bool { return heldEventsStored(t, s.Wing(full).Screens, full, restarted) > 0 }, 10*time.Second, 200*time.Millisecond,
		"wing %s stored the events it observed while its disk was full, before its restart", full)
	time.Sleep(2 * time.Second)
	// And after a restart it catches up with the site.
	s.Kill(full)
	require.NoError(t, s.Restart(ctx, full))
	finish(t, s, w)
}

// heldEventsStored counts a wing's newest events that were held while its
// store refused them (they carry observed_at) and observed before a time.
func heldEventsStored(t *testing.T, screens, wing string, before time.Time) int {
	t.Helper()
	// Newest first, page by page: what was held is stored just before
	// what the wing observed since, so it is found in the first pages.
	cursor := ""
	for range 50 {
		resp, err := http.Get(fmt.Sprintf("%s/api/v1/events?limit=1000&wing=%s&cursor=%s", screens, wing, url.QueryEscape(cursor)))
		if err != nil {
			return 0
		}
		var page struct {
			Records []struct {
				Event struct {
					Data map[string]string `json:"data"`
				} `json:"event"`
			} `json:"records"`
			Next string `json:"next"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return 0
		}
		n := 0
		for _, r := range page.Records {
			if at, err := time.Parse(time.RFC3339Nano, r.Event.Data["observed_at"]); err == nil && at.Before(before) {
				n++
			}
		}
		if n > 0 || page.Next == "" {
			return n
		}
		cursor = page.Next
	}
	return 0
}

func TestClockJumps(t *testing.T) {
	s := startSite(t, storm(5, 10*time.Second), "-log-level", "warn")
	w := s.Watch()
	ctx := context.Background()
	time.Sleep(time.Second)
	// B's clock jumps two hours back, then C's an hour forward.
	s.Stop("B")
	require.NoError(t, s.RestartClockOffset(ctx, "B", -2*time.Hour))
	s.Stop("C")
	require.NoError(t, s.RestartClockOffset(ctx, "C", time.Hour))
	finish(t, s, w)
}

// TestRandomFaults runs a seeded random schedule of faults for a bounded
// time. Set WINGNODE_FAULT_SEED to replay a schedule.
func TestRandomFaults(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("WINGNODE_FAULT_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("fault schedule seed %d (replay with WINGNODE_FAULT_SEED=%d)", seed, seed)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with fault schedule seed %d", seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s := startSite(t, storm(4, 20*time.Second), "-log-level", "warn")
	w := s.Watch()
	ctx := context.Background()
	down := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for step := 0; time.Now().Before(deadline) && step < 40; step++ {
		id := abc[rng.IntN(3)]
		switch op := rng.IntN(6); {
		case op == 0 && !down[id] && len(down) == 0:
			t.Logf("step %d: kill -9 %s", step, id)
			s.Kill(id)
			down[id] = true
		case op == 1 && down[id]:
			t.Logf("step %d: restart %s", step, id)
			require.NoError(t, s.Restart(ctx, id))
			delete(down, id)
		case op == 2:
			t.Logf("step %d: isolate %s", step, id)
			s.Mesh.Isolate(id)
		case op == 3:
			other := others(abc, id)[rng.IntN(2)]
			d := time.Duration(rng.IntN(200)) * time.Millisecond
			t.Logf("step %d: delay %s→%s by %s", step, id, other, d)
			s.Mesh.Link(id, other).Delay(d)
		case op == 4:
			other := others(abc, id)[rng.IntN(2)]
			t.Logf("step %d: cut %s→%s", step, id, other)
			s.Mesh.Link(id, other).Cut()
		default:
			t.Logf("step %d: heal all", step)
			s.Mesh.HealAll()
		}
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
	}
	for id := range down {
		require.NoError(t, s.Restart(ctx, id))
	}
	finish(t, s, w)
}

// siteDir is where the wings keep their data: a fresh temporary folder,
// or under WINGNODE_KEEP_SITE to look at it after a failure.
func siteDir(t *testing.T) string {
	if dir := os.Getenv("WINGNODE_KEEP_SITE"); dir != "" {
		d := filepath.Join(dir, t.Name())
		os.RemoveAll(d)
		return d
	}
	return t.TempDir()
}

// TestSiteStartsAgainOnKeptData: `make site` stopped and started again on
// the data it kept: every wing is back, a leader is elected, nothing was
// lost; and a wing killed meanwhile starts again while the others run.
func TestSiteStartsAgainOnKeptData(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a site of wingnode processes; skipped in -short")
	}
	dir := siteDir(t)
	// Fixed ports, as make site has: the raft addresses are kept with the data.
	free, release, err := freeBase(6)
	require.NoError(t, err)
	release()
	opt := siterun.Options{Binary: binary, Dir: dir, Wings: []string{"A", "B", "C"}, ScreenPort: free, SitePort: free + 3, Log: &wingtest.Log{}, Args: []string{"-log-level", "warn"}}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	s, err := siterun.Start(ctx, opt)
	require.NoError(t, err)
	held, err := s.WaitConverged(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s, err = siterun.Start(ctx, opt)
	require.NoError(t, err, "the site starts again on its kept data")
	defer s.Close()
	again, err := s.WaitConverged(ctx)
	require.NoError(t, err)
	for w, seq := range held {
		assert.GreaterOrEqual(t, again[w], seq, "wing %s keeps its events", w)
	}
	s.Kill("B")
	require.NoError(t, s.Restart(ctx, "B"), "a killed wing starts again while the others run")
	_, err = s.WaitConverged(ctx)
	require.NoError(t, err)
}

// freeBase finds n consecutive free loopback ports and returns the first.
func freeBase(n int) (int, func(), error) {
	for base := 20000 + rand.IntN(20000); base < 65000; base += n {
		var lns []net.Listener
		for i := range n {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", base+i))
			if err != nil {
				break
			}
			lns = append(lns, ln)
		}
		release := func() {
			for _, ln := range lns {
				ln.Close()
			}
		}
		if len(lns) == n {
			return base, release, nil
		}
		release()
	}
	return 0, nil, errors.New("no free ports")
}
