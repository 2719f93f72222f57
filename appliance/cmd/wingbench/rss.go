package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"wingnode/appliance"
	"wingnode/appliance/datadir"
)

const rssChildArg = "-rss-child"

// rssAfterMillion stores one million events through the appliance, then
// starts a fresh process that opens the store, rebuilds the wing state and
// reports its resident memory, as an appliance restarting on that disk would.
func rssAfterMillion(ctx context.Context, dir string) ([]figure, error) {
	const total, writers = 1_000_000, 256
	a, err := appliance.New(appliance.Config{DataDir: dir, Log: quiet})
	if err != nil {
		return nil, err
	}
	err = appendConcurrently(ctx, a.Store(), writers, total)
	if cerr := a.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, self, rssChildArg, dir).Output()
	if err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	var rssKB, rebuildMS float64
	if _, err := fmt.Sscan(string(out), &rssKB, &rebuildMS); err != nil {
		return nil, fmt.Errorf("child said %q: %w", out, err)
	}
	fi, err := os.Stat(datadir.Dir(dir).Store())
	if err != nil {
		return nil, err
	}
	return []figure{
		{"rss_mb_1m_events", rssKB / 1024, "MB"},
		{"restart_1m_events_ms", rebuildMS, "ms"},
		{"store_mb_1m_events", float64(fi.Size()) / (1 << 20), "MB"},
	}, nil
}

// rssChild opens the appliance in dir and prints "rssKB rebuildMS".
func rssChild(dir string) {
	start := time.Now()
	a, err := appliance.New(appliance.Config{DataDir: dir, Log: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	took := time.Since(start)
	if n := len(a.Screens().State().Doors); n == 0 {
		fmt.Fprintln(os.Stderr, "no doors after rebuild")
		os.Exit(1)
	}
	runtime.GC()
	fmt.Println(vmRSSKB(), took.Milliseconds())
	a.Close()
}

// vmRSSKB is this process's resident memory in kB, or -1.
func vmRSSKB() int { return processRSSKB(os.Getpid()) }
