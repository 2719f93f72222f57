// Command wingbench measures the appliance and prints one figure per line
// as "name value unit", for `make bench`. Figures are measured on the
// machine it runs on; targets are in the README, never in tests.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance"
	"wingnode/appliance/wingtest"
)

type figure struct {
	name  string
	value float64
	unit  string
}

type bench struct {
	name string
	run  func(ctx context.Context, dir string) ([]figure, error)
}

var benches = []bench{
	{"ingest", ingest},
	{"append", steadyAppend},
	{"edge", edgeToScreen},
	{"rss", rssAfterMillion},
	{"storm", sensorStorm},
	{"input", inputToEvent},
	{"site", siteCommit},
	{"crosswing", crossWing},
	{"catchup", catchUp},
	{"alarm", alarmToEveryWing},
	{"pin", pinVerify},
	{"handover", handoverDraft},
	{"timeline", timeline},
	{"central", central},
	{"soak", soak},
}

// Set by flags: the soak's length, and the wingnode executable it runs.
var (
	soakFor        time.Duration
	wingnodeBinary string
)

// quiet discards the appliance's own logging during measurements.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var realClock = clockwork.NewRealClock()

func main() {
	if len(os.Args) == 3 && os.Args[1] == rssChildArg {
		rssChild(os.Args[2])
		return
	}
	only := flag.String("only", "", "comma-separated benches to run: ingest, append, edge, rss, storm, input, site, crosswing, catchup, alarm, pin, handover, timeline, central, soak (default all)")
	flag.DurationVar(&soakFor, "soak-for", 10*time.Minute, "how long the soak runs")
	flag.StringVar(&wingnodeBinary, "binary", "bin/wingnode", "the wingnode `executable` the soak runs as a site of processes")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the benches run to `file` (go tool pprof)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "wingbench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	failed := false
	for _, b := range benches {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), b.name) {
			continue
		}
		dir, err := os.MkdirTemp("", "wingbench-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "wingbench:", err)
			os.Exit(1)
		}
		start := time.Now()
		figs, err := b.run(ctx, dir)
		os.RemoveAll(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "wingbench: %s: %v\n", b.name, err)
			failed = true
			continue
		}
		for _, f := range figs {
			fmt.Printf("%s %s %s\n", f.name, format(f.value), f.unit)
		}
		fmt.Fprintf(os.Stderr, "# %s took %s\n", b.name, time.Since(start).Round(time.Millisecond))
	}
	if failed {
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func format(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// percentile returns the p-th percentile (0..100) of the durations, in ms.
func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return float64(s[i]) / float64(time.Millisecond)
}

// running starts an appliance and returns it with a function that stops
// it and closes it.
func running(ctx context.Context, cfg appliance.Config) (*wingtest.Wing, func(), error) {
	cfg.Log = quiet
	w, err := wingtest.Run(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return w, func() { w.Stop() }, nil
}
