package siterun

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"wingnode/appliance/command"
	"wingnode/appliance/datadir"
	"wingnode/sync/faultproxy"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// Options describe a site to run.
type Options struct {
	// Binary is the wingnode executable.
	Binary string
	// Dir holds one data folder per wing (Dir/A, Dir/B, ...).
	Dir string
	// Wings are the wing ids; the first forms the site, the others join.
	Wings []string
	// Scenario, if set, is a scenario file's text every wing plays on its
	// simulated hardware instead of the built-in day.
	Scenario string
	// Scenarios, if set, give a wing (by id) its own scenario instead.
	Scenarios map[string]string
	// Proxy puts a fault proxy between every ordered pair of wings.
	Proxy bool
	// ScreenPort, SitePort and APIPort, when set, give wing i the ports
	// ScreenPort+i, SitePort+i and APIPort+i (its off-board port);
	// otherwise free ports are used.
	ScreenPort, SitePort, APIPort int
	// Log receives the processes' output; nil discards it.
	Log io.Writer
	// Args are extra arguments for every wing's 'wingnode run'.
	Args []string
	// IsolatedAfter, if set, is passed on (see the run command).
}

// Site is a running site.
type Site struct {
	opt   Options
	Mesh  *faultproxy.Mesh // with Options.Proxy
	wings map[string]*Wing
}

// Wing is one wingnode process of the site.
type Wing struct {
	ID       string
	Data     string
	Screens  string // http://host:port
	SiteAddr string // host:port of the site port
	API      string // https://host:port of the off-board port
	args     []string
	env      []string // fault injection (appliance/command's EnvRoutes)

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// errExited says a wing's process ended while it started.
var errExited = errors.New("exited while starting")

// Start starts the site's wings: the first forms the site, then each other
// wing joins with a token issued by the first. On kept data (wings that
// enrolled in an earlier run) the enrolled wings start together and the
// site elects its leader as before; the site's addresses must be the same
// as then (fixed ScreenPort and SitePort). With free ports (no
// ScreenPort and SitePort), a port picked can be taken by another process
// before the wing binds it; a wing that exits while starting then makes
// Start begin again, on new ports and an emptied Dir, up to three times.
func Start(ctx context.Context, opt Options) (*Site, error) {
	if len(opt.Wings) == 0 {
		return nil, errors.New("siterun: no wings")
	}
	kept := false
	for _, id := range opt.Wings {
		if _, err := os.Stat(filepath.Join(datadir.Dir(filepath.Join(opt.Dir, id)).Identity(), "wing.crt")); err == nil {
			kept = true
		}
	}
	for attempt := 1; ; attempt++ {
		s, err := start(ctx, opt)
		// Kept data is never emptied to try again.
		if err == nil || !errors.Is(err, errExited) || opt.ScreenPort > 0 || kept || attempt == 3 {
			return s, err
		}
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "siterun: %v; starting the site again on other ports\n", err)
		}
		for _, id := range opt.Wings {
			if err := os.RemoveAll(filepath.Join(opt.Dir, id)); err != nil {
				return nil, err
			}
		}
	}
}

func start(ctx context.Context, opt Options) (*Site, error) {
	s := &Site{opt: opt, wings: map[string]*Wing{}}
	addrs := map[string]string{}
	free, release, err := freePorts(3 * len(opt.Wings))
	if err != nil {
		return nil, err
	}
	defer release()
	for i, id := range opt.Wings {
		w := &Wing{ID: id, Data: filepath.Join(opt.Dir, id)}
		screen, siteAddr, offboard := free[3*i], free[3*i+1], free[3*i+2]
		if opt.ScreenPort > 0 && opt.SitePort > 0 {
			screen, siteAddr = fmt.Sprintf("127.0.0.1:%d", opt.ScreenPort+i), fmt.Sprintf("127.0.0.1:%d", opt.SitePort+i)
		}
		if opt.APIPort > 0 {
			offboard = fmt.Sprintf("127.0.0.1:%d", opt.APIPort+i)
		}
		w.Screens, w.SiteAddr, w.API = "http://"+screen, siteAddr, "https://"+offboard
		addrs[id] = siteAddr
		w.args = []string{"run", "-simulate", "-wing", id, "-data", w.Data, "-listen", screen, "-site-listen", siteAddr, "-api-listen", offboard}
		if text := cmp.Or(opt.Scenarios[id], opt.Scenario); text != "" {
			f := filepath.Join(opt.Dir, id+".scenario")
			if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
				return nil, err
			}
			if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
				return nil, err
			}
			w.args = append(w.args, "-scenario", f)
		}
		w.args = append(w.args, opt.Args...)
		s.wings[id] = w
	}
	if opt.Proxy {
		m, err := faultproxy.NewMesh(addrs)
		if err != nil {
			return nil, err
		}
		s.Mesh = m
		for id, w := range s.wings {
			var routes []string
			for addr, via := range m.Routes(id) {
				routes = append(routes, addr+"="+via)
			}
			w.env = append(w.env, command.EnvRoutes+"="+strings.Join(routes, ","))
		}
	}
	release() // the wings bind them now
	if kept := s.enrolled(); len(kept) > 0 {
		return s, s.startKept(ctx, kept)
	}
	first := s.wings[opt.Wings[0]]
	if err := s.run(first, nil); err != nil {
		s.Close()
		return nil, err
	}
	if err := first.WaitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.waitLeads(ctx, first.ID); err != nil {
		s.Close()
		return nil, err
	}
	for _, id := range opt.Wings[1:] {
		tok, err := s.Token(ctx)
		if err != nil {
			s.Close()
			return nil, err
		}
		// The token goes in the wing's data folder, where a provisioned
		// image has it: never on a command line.
		if err := os.MkdirAll(datadir.Dir(s.wings[id].Data).Site(), 0o700); err != nil {
			s.Close()
			return nil, err
		}
		if err := os.WriteFile(datadir.Dir(s.wings[id].Data).EnrolToken(), []byte(tok+"\n"), 0o600); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.run(s.wings[id], nil); err != nil {
			s.Close()
			return nil, err
		}
	}
	for _, id := range opt.Wings[1:] {
		if err := s.wings[id].WaitReady(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// enrolled lists the wings whose data folders already hold a site
// identity: a site started before, on kept data.
func (s *Site) enrolled() []string {
	var out []string
	for _, id := range s.opt.Wings {
		if _, err := os.Stat(filepath.Join(datadir.Dir(s.wings[id].Data).Identity(), "wing.crt")); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// startKept starts a site again on kept data: every enrolled wing at once
// (the site needs a majority of its voters to elect a leader, so none can
// lead alone), then, once the site has a leader, any wing not yet
// enrolled joins with a token.
func (s *Site) startKept(ctx context.Context, kept []string) error {
	for _, id := range kept {
		if err := s.run(s.wings[id], nil); err != nil {
			s.Close()
			return err
		}
	}
	for _, id := range kept {
		if err := s.wings[id].WaitReady(ctx); err != nil {
			s.Close()
			return err
		}
	}
	if err := s.waitLeader(ctx, kept[0]); err != nil {
		s.Close()
		return err
	}
	for _, id := range s.opt.Wings {
		if slices.Contains(kept, id) {
			continue
		}
		tok, err := s.Token(ctx)
		if err == nil {
			err = s.run(s.wings[id], []string{"-join", tok})
		}
		if err == nil {
			err = s.wings[id].WaitReady(ctx)
		}
		if err != nil {
			s.Close()
			return err
		}
	}
	return nil
}

// waitLeader waits until wing id knows a leader of its site.
func (s *Site) waitLeader(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if st, err := s.Status(ctx, id); err == nil && st.Leader != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("siterun: the site started again on kept data elects no leader (are most of its voting wings here?): %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePorts returns n distinct free loopback addresses, held open until
// release, so that nothing else in this process (the fault proxies) picks
// one of them meanwhile.
func freePorts(n int) (addrs []string, release func(), err error) {
	var held []net.Listener
	release = func() {
		for _, ln := range held {
			ln.Close()
		}
	}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			release()
			return nil, nil, err
		}
		held = append(held, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, release, nil
}

// Wing returns a wing by id.
func (s *Site) Wing(id string) *Wing { return s.wings[id] }

// Wings returns the wings in the order given to Start.
func (s *Site) Wings() []*Wing {
	out := make([]*Wing, 0, len(s.opt.Wings))
	for _, id := range s.opt.Wings {
		out = append(out, s.wings[id])
	}
	return out
}

func (s *Site) run(w *Wing, extra []string) error {
	return s.runWith(w, nil, extra, nil)
}

// runWith starts w's process; prefix runs it under another command (such
// as prlimit); env is added to its environment.
func (s *Site) runWith(w *Wing, prefix []string, extra []string, env []string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd != nil {
		return fmt.Errorf("siterun: wing %s is running", w.ID)
	}
	args := append(append(append([]string{}, prefix...), s.opt.Binary), append(append([]string{}, w.args...), extra...)...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(append(os.Environ(), w.env...), env...)
	out := s.opt.Log
	if out == nil {
		out = io.Discard
	}
	cmd.Stdout, cmd.Stderr = prefixed(out, w.ID), prefixed(out, w.ID)
	// A wing outlives neither the test nor `make site`, however they end.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("siterun: start wing %s: %w", w.ID, err)
	}
	w.cmd, w.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(w.done)
	return nil
}

// waitLeads waits until wing id leads the site: the others join through it.
func (s *Site) waitLeads(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		st, err := s.Status(ctx, id)
		if err == nil && st.Leader == id {
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("it follows %q", st.Leader)
			}
			return fmt.Errorf("siterun: wing %s does not lead its new site (%w): %w", id, err, ctx.Err())
		case <-s.wings[id].Exited():
			return fmt.Errorf("siterun: wing %s %w", id, errExited)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Token issues an enrolment token on the first wing.
func (s *Site) Token(ctx context.Context) (string, error) {
	first := s.wings[s.opt.Wings[0]]
	out, err := exec.CommandContext(ctx, s.opt.Binary, "site", "token", "-data", first.Data, "-ttl", "1h").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		return "", fmt.Errorf("siterun: token: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// WaitReady waits until the wing's screens answer and its site port is open.
func (w *Wing) WaitReady(ctx context.Context) error { return w.waitAnswers(ctx, true) }

// waitAnswers waits until the wing's screens answer (with 200, when
// healthy) and its site port is open.
func (w *Wing) waitAnswers(ctx context.Context, healthy bool) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if resp, err := http.Get(w.Screens + "/healthz"); err == nil {
			resp.Body.Close()
			if _, err := os.Stat(datadir.Dir(w.Data).SiteAddr()); err == nil && (resp.StatusCode == http.StatusOK || !healthy) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("siterun: wing %s did not become ready: %w", w.ID, ctx.Err())
		case <-w.Exited():
			return fmt.Errorf("siterun: wing %s %w", w.ID, errExited)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// CommandLine is how to start the wing by hand, with the binary given.
func (w *Wing) CommandLine(binary string) string {
	return binary + " " + strings.Join(w.args, " ")
}

// Exited is closed when the wing's process has ended (at once if it is not
// running).
func (w *Wing) Exited() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return w.done
}

// Pid is the process id of the wing's process, 0 when it is not running.
func (w *Wing) Pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// Kill ends the wing's process with SIGKILL, as a power cut would.
func (s *Site) Kill(id string) { s.signal(id, syscall.SIGKILL) }

// Stop ends the wing's process cleanly (SIGTERM) and waits.
func (s *Site) Stop(id string) { s.signal(id, syscall.SIGTERM) }

func (s *Site) signal(id string, sig syscall.Signal) {
	w := s.wings[id]
	w.mu.Lock()
	cmd, done := w.cmd, w.done
	w.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	w.mu.Lock()
	w.cmd, w.done = nil, nil
	w.mu.Unlock()
}

// Restart starts a stopped or killed wing again on the same data folder.
func (s *Site) Restart(ctx context.Context, id string, extra ...string) error {
	if err := s.run(s.wings[id], extra); err != nil {
		return err
	}
	return s.wings[id].WaitReady(ctx)
}

// RestartClockOffset starts a stopped wing again with its clock off by d
// (appliance/command's EnvClockOffset).
func (s *Site) RestartClockOffset(ctx context.Context, id string, d time.Duration) error {
	if err := s.runWith(s.wings[id], nil, nil, []string{command.EnvClockOffset + "=" + d.String()}); err != nil {
		return err
	}
	return s.wings[id].WaitReady(ctx)
}

// RestartLimited starts a wing whose files may not grow past fileLimit
// bytes (a soft limit, so Unlimit can lift it): its disk is, in effect,
// full (writes fail with EFBIG). It needs util-linux's prlimit.
func (s *Site) RestartLimited(ctx context.Context, id string, fileLimit int64) error {
	if err := s.runWith(s.wings[id], []string{"prlimit", "--fsize=" + strconv.FormatInt(fileLimit, 10) + ":"}, nil, nil); err != nil {
		return err
	}
	return s.wings[id].waitAnswers(ctx, false)
}

// Unlimit lifts the file size limit of a wing started by RestartLimited,
// while it runs: space on its disk is freed.
func (s *Site) Unlimit(id string) error {
	w := s.wings[id]
	w.mu.Lock()
	cmd := w.cmd
	w.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("siterun: wing %s is not running", id)
	}
	// prlimit set the limit and then became wingnode: same pid.
	out, err := exec.Command("prlimit", "--pid", strconv.Itoa(cmd.Process.Pid), "--fsize=unlimited:").CombinedOutput()
	if err != nil {
		return fmt.Errorf("siterun: prlimit: %w: %s", err, out)
	}
	return nil
}

// Close stops every wing and the proxies.
func (s *Site) Close() error {
	var wg sync.WaitGroup
	for id := range s.wings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.Stop(id)
		}()
	}
	wg.Wait()
	if s.Mesh != nil {
		return s.Mesh.Close()
	}
	return nil
}

// Status asks a running wing for its view of the site, over its site port
// with its own certificate.
func (s *Site) Status(ctx context.Context, id string) (site.Status, error) {
	w := s.wings[id]
	var st site.Status
	ident, err := trust.LoadIdentity(datadir.Dir(w.Data).Identity())
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+w.SiteAddr+"/site/v1/status", nil)
	resp, err := ident.HTTPClient(nil).Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return st, fmt.Errorf("status of %s: %s: %s", id, resp.Status, b)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// WaitConverged waits until every running wing has committed and holds
// every wing's events up to that wing's own newest: nothing waits to be
// shared and nothing is missing anywhere. It returns each wing's newest
// seq at that moment, or the last difference seen when ctx ends first.
func (s *Site) WaitConverged(ctx context.Context) (map[string]uint64, error) {
	var last error
	for {
		heads, err := s.converged(ctx)
		if last = err; last == nil {
			return heads, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("siterun: not converged: %w", last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Site) converged(ctx context.Context) (map[string]uint64, error) {
	statuses := map[string]site.Status{}
	for _, w := range s.Wings() {
		st, err := s.Status(ctx, w.ID)
		if err != nil {
			return nil, err
		}
		statuses[w.ID] = st
	}
	own := map[string]uint64{}
	for id, st := range statuses {
		for _, ws := range st.Wings {
			if ws.Wing == id {
				own[id] = ws.Held
			}
		}
	}
	for id, st := range statuses {
		for _, ws := range st.Wings {
			want, ok := own[ws.Wing]
			if !ok {
				continue
			}
			if ws.Committed != want || ws.Held != want {
				return nil, fmt.Errorf("wing %s has wing %s's events committed to %d and held to %d; %s holds %d", id, ws.Wing, ws.Committed, ws.Held, ws.Wing, want)
			}
		}
	}
	return own, nil
}

// prefixed writes each line of a process's output with the wing's id.
func prefixed(w io.Writer, id string) io.Writer {
	return &linePrefixer{w: w, prefix: []byte("[" + id + "] ")}
}

type linePrefixer struct {
	mu     sync.Mutex
	w      io.Writer
	prefix []byte
	buf    []byte
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		p.w.Write(append(append([]byte{}, p.prefix...), p.buf[:i+1]...))
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
