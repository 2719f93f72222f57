// Package wingtest starts wings and sites for tests: one way to run an
// appliance on simulated hardware on a free loopback port, to enrol wings
// into a site and wait for its voters, and the fakes around them (a fake
// board's update machinery, signed bundles, a log a test can read).
// Production code never imports it.
package wingtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
	"wingnode/sync/member"
	"wingnode/sync/site"
	"wingnode/ui"
)

// Wing is an appliance running on simulated pins, serving its screens on
// a free loopback port. It is the appliance and, embedded, what its
// screens see (ui.Wing).
type Wing struct {
	*appliance.Appliance
	ui.Wing
	// HTTP is the screens' address, host:port.
	HTTP string
	// Data is the wing's data folder.
	Data datadir.Dir

	stop func() error
}

// Run runs an appliance with cfg on simulated hardware, its screens and
// site port on free loopback ports and its log discarded unless cfg has
// one, until Stop. It waits until every door has reported its first
// reading, so a caller sees only its own changes. The bench uses it; a
// test uses Start.
func Run(ctx context.Context, cfg appliance.Config) (*Wing, error) {
	cfg.Simulate = true
	cfg.Listen = "127.0.0.1:0"
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := appliance.New(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			stopErr = errors.Join(<-done, a.Close())
		})
		return stopErr
	}
	addrCtx, stopWait := context.WithTimeout(ctx, 10*time.Second)
	defer stopWait()
	addr, err := a.Addr(addrCtx)
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	w := &Wing{Appliance: a, Wing: a.Screens(), HTTP: addr, Data: datadir.Dir(cfg.DataDir), stop: stop}
	err = WaitFor(ctx, 60*time.Second, "every door to read at start (after a rebuild, if the wing rebuilds)", func() bool {
		s := w.State()
		settled := 0
		for _, d := range w.Layout().Doors {
			if _, ok := s.Doors[d.ID]; ok || s.Inputs[d.ID].Faulted {
				settled++
			}
		}
		return settled == len(w.Layout().Doors)
	})
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	return w, nil
}

// Start runs a wing as Run does, its data in a temporary folder unless cfg
// names one, and stops it at the end of the test.
func Start(t testing.TB, cfg appliance.Config) *Wing {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	w, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { w.Stop() })
	return w
}

// Stop stops the wing (once; later calls do nothing) and closes it.
func (w *Wing) Stop() error { return w.stop() }

// Set changes a simulated input and waits past its debounce, as a person
// pressing a button would, so that the next change is not a bounce.
func (w *Wing) Set(t testing.TB, pin string, active bool) {
	t.Helper()
	require.NoError(t, w.Sim().SetInput(pin, active))
	time.Sleep(3 * config.DefaultDebounce)
}

// Eventually waits up to 5 s for cond to hold of the wing's state.
func (w *Wing) Eventually(t testing.TB, what string, cond func(*wing.State) bool) {
	t.Helper()
	require.Eventually(t, func() bool { return cond(w.State()) }, 5*time.Second, 5*time.Millisecond, what)
}

// SiteAddr waits until the wing's site port is open and returns its address.
func (w *Wing) SiteAddr(t testing.TB) string {
	t.Helper()
	require.Eventually(t, func() bool { _, ok := w.SiteStatus(); return ok }, 10*time.Second, 10*time.Millisecond, "the site port opens")
	b, err := os.ReadFile(w.Data.SiteAddr())
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// Token issues an enrolment token on a wing that holds the site CA, once
// its site port is open.
func (w *Wing) Token(t testing.TB) string {
	t.Helper()
	tok, err := w.issueToken(context.Background())
	require.NoError(t, err)
	return tok
}

// Voters lists the wings that vote, as w sees its site.
func (w *Wing) Voters() []string { return w.Status().Voters() }

// RunSite runs a wing for each of ids, as Run does, the first forming the
// site and the others joining it with tokens, each with the configuration
// cfg gives it (SimulatedWing and the join token are set here; cfg may be
// nil), and waits until voters of them vote. On an error it stops the
// wings it started.
func RunSite(ctx context.Context, ids []string, voters int, cfg func(id string) appliance.Config) ([]*Wing, error) {
	var wings []*Wing
	fail := func(err error) ([]*Wing, error) {
		for i := len(wings) - 1; i >= 0; i-- {
			err = errors.Join(err, wings[i].Stop())
		}
		return nil, err
	}
	for i, id := range ids {
		c := appliance.Config{}
		if cfg != nil {
			c = cfg(id)
		}
		c.SimulatedWing = id
		if i > 0 {
			tok, err := wings[0].issueToken(ctx)
			if err != nil {
				return fail(err)
			}
			c.Site.JoinToken = tok
		}
		w, err := Run(ctx, c)
		if err != nil {
			return fail(err)
		}
		wings = append(wings, w)
	}
	err := WaitFor(ctx, 60*time.Second, fmt.Sprintf("%d wings, %d of them voting", len(ids), voters), func() bool {
		st := wings[0].Status()
		return len(st.Wings) == len(ids) && len(st.Voters()) == voters
	})
	if err != nil {
		return fail(err)
	}
	return wings, nil
}

// StartSite runs a site as RunSite does, each wing's data in a temporary
// folder unless cfg names one, and stops it at the end of the test.
func StartSite(t testing.TB, ids []string, voters int, cfg func(id string) appliance.Config) []*Wing {
	t.Helper()
	wings, err := RunSite(context.Background(), ids, voters, func(id string) appliance.Config {
		c := appliance.Config{}
		if cfg != nil {
			c = cfg(id)
		}
		if c.DataDir == "" {
			c.DataDir = t.TempDir()
		}
		return c
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		for i := len(wings) - 1; i >= 0; i-- {
			wings[i].Stop()
		}
	})
	return wings
}

// issueToken issues an enrolment token once the wing's site port is open.
func (w *Wing) issueToken(ctx context.Context) (string, error) {
	if err := WaitFor(ctx, 30*time.Second, "the site port of "+w.Layout().ID, func() bool { _, ok := w.SiteStatus(); return ok }); err != nil {
		return "", err
	}
	return member.IssueToken(w.Data, time.Hour)
}

// WaitFor polls cond every 5 ms until it holds, limit passes or ctx ends.
func WaitFor(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("waiting for %s: gave up after %s", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// Status is the wing's view of its site; zero before it has one.
func (w *Wing) Status() site.Status {
	st, _ := w.SiteStatus()
	return st
}

// Officer and Supervisor are signed-in actors for tests.
func Officer(id string) roster.Actor    { return roster.Actor{ID: id, Role: roster.Officer} }
func Supervisor(id string) roster.Actor { return roster.Actor{ID: id, Role: roster.Supervisor} }
