// Command wingsite runs a site of three simulated wings on this machine
// (`make site`): wing A forms the site, B and C join it with enrolment
// tokens, each wing's screen on its own loopback port. It prints the
// addresses and runs until interrupted; the data stays in the folder for
// the next run, which starts the site again on it. A wing that dies is
// started again while the others keep running.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"wingnode/sync/siterun"
)

func main() {
	fs := flag.NewFlagSet("wingsite", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: wingsite [flags]\n\nRuns a site of simulated wings on loopback until interrupted (Ctrl-C).\nWing i's screen is on 127.0.0.1:(screen-port+i), its site port on\n127.0.0.1:(site-port+i), its off-board port on 127.0.0.1:(api-port+i).")
		fs.PrintDefaults()
	}
	binary := fs.String("binary", "bin/wingnode", "the wingnode `executable` to run")
	dir := fs.String("dir", "site", "`folder` for the wings' data folders (kept between runs)")
	wings := fs.String("wings", "A,B,C", "comma-separated wing `ids`; the first forms the site")
	screenPort := fs.Int("screen-port", 8081, "first wing's screen `port`")
	sitePort := fs.Int("site-port", 9441, "first wing's site `port`")
	apiPort := fs.Int("api-port", 9451, "first wing's off-board `port` (HTTPS, for central systems and site IT)")
	verbose := fs.Bool("v", false, "show the wings' info logs, not only warnings")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		os.Exit(2)
	}
	ids := strings.Split(*wings, ",")
	level := "warn"
	if *verbose {
		level = "info"
	}
	if err := run(*binary, *dir, ids, *screenPort, *sitePort, *apiPort, level, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wingsite:", err)
		os.Exit(1)
	}
}

func run(binary, dir string, ids []string, screenPort, sitePort, apiPort int, level string, out io.Writer) error {
	if _, err := os.Stat(binary); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(out, "starting wings %s in %s ...\n", strings.Join(ids, ", "), abs)
	s, err := siterun.Start(ctx, siterun.Options{
		Binary: binary, Dir: abs, Wings: ids,
		ScreenPort: screenPort, SitePort: sitePort, APIPort: apiPort,
		Log: out, Args: []string{"-log-level", level},
	})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintln(out, "\nthe site is up:")
	for _, w := range s.Wings() {
		fmt.Fprintf(out, "  wing %s  screen %s  site port %s  off-board %s  data %s\n", w.ID, w.Screens, w.SiteAddr, w.API, w.Data)
	}
	fmt.Fprintf(out, "\nAlarms raised on one wing show in the site banner of the others; the Site\nscreen (/site) shows links, votes and data age. Status from the command line:\n  %s site status -data %s\nCtrl-C stops the site.\n\n", binary, s.Wings()[0].Data)
	// A wing that dies is started again, up to three times, while the
	// others keep running; after that the site runs on without it.
	exited := make(chan string, len(ids))
	watch := func(w *siterun.Wing) {
		select {
		case <-w.Exited():
			exited <- w.ID
		case <-ctx.Done():
		}
	}
	for _, w := range s.Wings() {
		go watch(w)
	}
	restarts := map[string]int{}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "stopping the site")
			return nil
		case id := <-exited:
			if ctx.Err() != nil {
				return nil
			}
			if restarts[id] == 3 {
				fmt.Fprintf(out, "wing %s stopped again; the other wings keep running. See its log above, then start it by hand:\n  %s\n", id, s.Wing(id).CommandLine(binary))
				continue
			}
			restarts[id]++
			fmt.Fprintf(out, "wing %s stopped; the other wings keep running; starting it again (%d of 3)\n", id, restarts[id])
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(2 * time.Second):
			}
			if err := s.Restart(ctx, id); err != nil {
				fmt.Fprintf(out, "wing %s did not start again: %v\n", id, err)
			}
			go watch(s.Wing(id))
		}
	}
}
