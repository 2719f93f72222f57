// Package wingtest starts wings and sites for tests: one way to run an
// appliance on simulated hardware on a free loopback port, to enrol wings
// into a site and wait for its voters, and the fakes around them (a fake
// board's update machinery, signed bundles, a log a test can read).
// Production code never imports it.
package wingtest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
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

// Start runs an appliance with cfg on simulated hardware, its data in a
// temporary folder unless cfg names one, its screens and site port on
// free loopback ports, and its log discarded unless cfg has one. It waits
// until every door has reported its first reading, so the test sees only
// its own changes, and stops the wing at the end of the test.
func Start(t testing.TB, cfg appliance.Config) *Wing {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.Simulate = true
	cfg.Listen = "127.0.0.1:0"
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a, err := appliance.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	addrCtx, stopWait := context.WithTimeout(ctx, 10*time.Second)
	defer stopWait()
	addr, err := a.Addr(addrCtx)
	require.NoError(t, err)
	w := &Wing{Appliance: a, Wing: a.Screens(), HTTP: addr, Data: datadir.Dir(cfg.DataDir)}
	stopped := false
	w.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return errors.Join(<-done, a.Close())
	}
	t.Cleanup(func() { w.Stop() })
	require.Eventually(t, func() bool {
		s := w.State()
		settled := 0
		for _, d := range w.Layout().Doors {
			if _, ok := s.Doors[d.ID]; ok || s.Inputs[d.ID].Faulted {
				settled++
			}
		}
		return settled == len(w.Layout().Doors)
	}, 10*time.Second, 10*time.Millisecond, "every door reads at start")
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
	w.SiteAddr(t)
	tok, err := member.IssueToken(w.Data, time.Hour)
	require.NoError(t, err)
	return tok
}

// Voters lists the wings that vote, as w sees its site.
func (w *Wing) Voters() []string { return w.Status().Voters() }

// StartSite starts a wing for each of ids, the first forming the site and
// the others joining it with tokens, each with the configuration cfg gives
// it (SimulatedWing and the join token are set here; cfg may be nil), and
// waits until voters of them vote.
func StartSite(t testing.TB, ids []string, voters int, cfg func(id string) appliance.Config) []*Wing {
	t.Helper()
	var wings []*Wing
	for i, id := range ids {
		c := appliance.Config{}
		if cfg != nil {
			c = cfg(id)
		}
		c.SimulatedWing = id
		if i > 0 {
			c.Site.JoinToken = wings[0].Token(t)
		}
		wings = append(wings, Start(t, c))
	}
	require.Eventually(t, func() bool {
		st, _ := wings[0].SiteStatus()
		return len(st.Wings) == len(ids) && len(st.Voters()) == voters
	}, 30*time.Second, 50*time.Millisecond, "%d wings, %d of them voting", len(ids), voters)
	return wings
}

// Status is the wing's view of its site; zero before it has one.
func (w *Wing) Status() site.Status {
	st, _ := w.SiteStatus()
	return st
}
