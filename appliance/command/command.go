// Package command is the wingnode command line: run a wing, verify its
// store, check a configuration, probe the board's hardware, manage the
// site membership, and sign, verify and install firmware. Its fields carry
// what a process takes from the OS, so tests run it in-process.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"periph.io/x/conn/v3/i2c/i2creg"

	"wingnode/appliance"
	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
	"wingnode/appliance/hardware"
	"wingnode/appliance/store"
	"wingnode/sensors/scenario"
)

// Command is the wingnode command line. Its fields carry what a process
// would take from the OS, so tests run it in-process.
type Command struct {
	Args []string // without the program name
	// Stdin is the process's standard input; nil means os.Stdin.
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Version string
	// Getenv reads the process's environment (os.Getenv); nil reads none.
	Getenv func(string) string
	// Board is what periph's host drivers found (the binary loads them);
	// zero when they were not loaded.
	Board hardware.Board
}

const usage = `wingnode: the wing appliance. It records every door, alarm point and input
fault of one prison wing in a local event store and serves the wing's
touchscreen; it keeps working with no network.

Usage:
  wingnode run [flags]          record the wing and serve its screens
  wingnode verify [-data DIR]   check every stored event and name the first bad one
  wingnode config check FILE    check a wing configuration file
  wingnode config example       print the built-in simulated wing's configuration
  wingnode hw probe [-config FILE]
                                list the board's GPIO chips, I2C buses and the
                                devices answering, and the configured points
                                that cannot be found
  wingnode pull -from URL -ca FILE -to DIR|postgres://...
                                pull the site's events for a central system,
                                verified, exactly once across stops and kills
  wingnode verify-export [-ca FILE] FILE|DIR
                                check an export offline: hashes, chains,
                                signed heads; name the first bad record
  wingnode backup -from URL -ca FILE -out FILE
                                download a running wing's store, checked
  wingnode restore -data DIR FILE
                                put a backup in place on a new board
  wingnode compact [-data DIR]  give back the space retention freed (wing stopped)
  wingnode site token|status|decommission|replace|roster|pin|client-cert|client-token|client-revoke|clients|ca-backup|ca-restore
                                enrol a new wing, see the site's wings and links,
                                remove or replace a wing, set the officer roster
                                and officers' PINs, manage the off-board port's clients,
                                back up the site CA and restore it on another wing
  wingnode firmware keygen|sign|verify|install|siteit-token
                                make signing keys, sign an update bundle, check
                                one, install one into the inactive root slot,
                                or make the site IT token for a wing's updates
  wingnode version              print the version
  wingnode help [COMMAND]       show help

Exit status: 0 on success, 1 when the work failed (for verify and
verify-export: the store or export is damaged; for hw probe: a configured
point was not found), 2 when the command line is wrong.
`

// Fault injection for the site's fault tests (sync/siterun), read from the
// environment by `wingnode run`: never set in service, so not flags.
const (
	// EnvClockOffset is a duration added to the system clock for event
	// time stamps: a wing whose clock is wrong.
	EnvClockOffset = "WINGNODE_FAULT_CLOCK_OFFSET"
	// EnvRoutes is ADDR=VIA[,ADDR=VIA...]: reach the wing at ADDR
	// through VIA, a fault proxy.
	EnvRoutes = "WINGNODE_FAULT_ROUTES"
)

// faults applies the fault injection the environment asks for.
func (c Command) faults(cfg *appliance.Config) error {
	if c.Getenv == nil {
		return nil
	}
	if v := c.Getenv(EnvClockOffset); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want a duration such as -2h", EnvClockOffset, v)
		}
		cfg.ClockOffset = d
	}
	if v := c.Getenv(EnvRoutes); v != "" {
		cfg.Site.Routes = map[string]string{}
		for _, r := range strings.Split(v, ",") {
			addr, via, ok := strings.Cut(r, "=")
			if !ok || addr == "" || via == "" {
				return fmt.Errorf("%s: %q: want ADDR=VIA, e.g. 127.0.0.1:8443=127.0.0.1:9443", EnvRoutes, r)
			}
			cfg.Site.Routes[addr] = via
		}
	}
	return nil
}

// Execute runs the command and returns the process's exit status.
func (c Command) Execute(ctx context.Context) int {
	if len(c.Args) == 0 {
		fmt.Fprint(c.Stderr, usage)
		return 2
	}
	name, args := c.Args[0], c.Args[1:]
	var err error
	switch name {
	case "run":
		err = c.run(ctx, args)
	case "verify":
		err = c.verify(args)
	case "config":
		err = c.config(args)
	case "hw":
		err = c.hardware(args)
	case "firmware":
		err = c.firmwareCmd(args)
	case "site":
		err = c.siteCmd(ctx, args)
	case "pull":
		err = c.pull(ctx, args)
	case "verify-export":
		err = c.verifyExport(args)
	case "backup":
		err = c.backup(ctx, args)
	case "restore":
		err = c.restore(args)
	case "compact":
		err = c.compact(args)
	case "version":
		fmt.Fprintln(c.Stdout, c.Version)
	case "help", "-h", "-help", "--help":
		if len(args) > 0 && args[0] != "help" {
			topic := []string{args[0], "-help"}
			switch args[0] {
			case "hw":
				topic = []string{"hw", "probe", "-help"}
			case "site":
				fmt.Fprintln(c.Stdout, siteUsage)
				for _, verb := range []string{"token", "status", "decommission", "replace", "roster", "pin", "client-cert", "client-token", "client-revoke", "clients", "ca-backup", "ca-restore"} {
					fmt.Fprintln(c.Stdout)
					Command{Args: []string{"site", verb, "-help"}, Stdout: c.Stdout, Stderr: c.Stdout}.Execute(ctx)
				}
				return 0
			case "firmware":
				c.helpFirmware()
				return 0
			}
			return Command{Args: topic, Stdout: c.Stdout, Stderr: c.Stdout, Version: c.Version}.Execute(ctx)
		}
		fmt.Fprint(c.Stdout, usage)
	default:
		fmt.Fprintf(c.Stderr, "wingnode: unknown command %q\n\n%s", name, usage)
		return 2
	}
	var uerr usageError
	switch {
	case errors.As(err, &uerr):
		if uerr.msg != "" {
			fmt.Fprintf(c.Stderr, "wingnode %s: %s\n", name, uerr.msg)
		}
		return uerr.status
	case err != nil:
		fmt.Fprintf(c.Stderr, "wingnode %s: %v\n", name, err)
		return 1
	}
	return 0
}

// usageError ends a command with a status: 0 after -help, 2 for a bad command line.
type usageError struct {
	status int
	msg    string
}

func (e usageError) Error() string { return e.msg }

func (c Command) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: wingnode %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if fs.NArg() > 0 {
		return usageError{status: 2, msg: fmt.Sprintf("unexpected argument %q (see 'wingnode help %s')", fs.Arg(0), fs.Name())}
	}
	return nil
}

// readJoinToken reads an enrolment token from path ("-": standard input;
// "": none), refusing anything longer than a token can be.
func (c Command) readJoinToken(path string) (string, error) {
	var r io.Reader
	switch path {
	case "":
		return "", nil
	case "-":
		r = c.Stdin
		if r == nil {
			r = os.Stdin
		}
	default:
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("-join-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", fmt.Errorf("-join-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" || len(b) == 4096 {
		return "", usageError{status: 2, msg: "-join-file: no enrolment token in " + path + " (it holds one line, wnt1-…)"}
	}
	return token, nil
}

func (c Command) run(ctx context.Context, args []string) error {
	fs := c.flags("run", "run [flags]\n\nRecords the wing's inputs and serves its touchscreen and API until\ninterrupted (SIGINT or SIGTERM), then records a clean stop.")
	cfgFile := fs.String("config", "", "wing configuration `file` (default: the built-in simulated wing of 3 landings of 20 cells)")
	data := fs.String("data", "data", "data `folder` for the event store")
	listen := fs.String("listen", "127.0.0.1:8080", "`address` for the screens and API; the default serves this machine only")
	simulate := fs.Bool("simulate", false, "read simulated hardware instead of the board's GPIO and I2C, playing the built-in scenario (or -scenario FILE)")
	wingID := fs.String("wing", "A", "`id` of the built-in simulated wing, when no -config is given")
	scenarioFile := fs.String("scenario", "", "with -simulate: play this scenario `file` (default: the built-in ten-minute day; see docs/scenarios.md)")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	siteListen := fs.String("site-listen", "127.0.0.1:8443", "`address` of the site port (raft and the site API between wings, mutual TLS); use :8443 on a board, with -site-advertise")
	siteAdvertise := fs.String("site-advertise", "", "`host:port` other wings reach this wing's site port at (default: the -site-listen address)")
	siteName := fs.String("site-name", "site", "`name` of a new site, when this wing forms one (first start without -join-file)")
	joinFile := fs.String("join-file", "", "`file` holding an enrolment token from a wing of an existing site ('wingnode site token' there), or - to read it from standard input; used once, at the first start. Never put the token itself on the command line: every local user sees it there")
	join := fs.String("join", "", "refused: put the token in a file and give -join-file")
	retain := fs.Duration("retain", 0, "keep events this `long` (e.g. 2160h for 90 days): older ones go once the site has committed them, every registered central client has pulled them and every wing has applied them; 0 keeps every event")
	rebuild := fs.Bool("rebuild", false, "this board replaces a wing of the site ('wingnode site replace' first): fetch its events from the site before recording anything")
	apiListen := fs.String("api-listen", "", "`address` of the off-board port (HTTPS with the wing's site certificate, for central systems and site IT, with client certificates or tokens; see docs/central.md); off when empty; on a board :9443")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *join != "" {
		return usageError{status: 2, msg: "-join puts the enrolment token on the command line, where every user of the machine sees it (ps): write it to a file and give -join-file FILE, or -join-file - and send it on standard input"}
	}
	token, err := c.readJoinToken(*joinFile)
	if err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageError{status: 2, msg: fmt.Sprintf("-log-level %q: want debug, info, warn or error", *level)}
	}
	log := slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg := appliance.Config{DataDir: *data, Listen: *listen, Simulate: *simulate, SimulatedActivity: *simulate, DemoRoster: *simulate, SimulatedWing: *wingID, Version: c.Version, Log: log,
		Site: appliance.SiteConfig{Listen: *siteListen, Advertise: *siteAdvertise, Name: *siteName, JoinToken: token}, PinByName: c.Board.PinByName,
		API: appliance.APIConfig{Listen: *apiListen}, Rebuild: *rebuild, Retain: *retain}
	if err := c.faults(&cfg); err != nil {
		return usageError{status: 2, msg: err.Error()}
	}
	if *cfgFile != "" {
		w, err := config.Load(*cfgFile)
		if err != nil {
			return err
		}
		cfg.Wing = w
	}
	if *scenarioFile != "" {
		if !*simulate {
			return usageError{status: 2, msg: "-scenario plays on simulated hardware: add -simulate"}
		}
		f, err := os.Open(*scenarioFile)
		if err != nil {
			return err
		}
		sc, err := scenario.Parse(*scenarioFile, f)
		f.Close()
		if err != nil {
			return err
		}
		cfg.Scenario = sc
	}
	a, err := appliance.New(cfg)
	if err != nil {
		return err
	}
	err = a.Run(ctx)
	return errors.Join(err, a.Close())
}

func (c Command) verify(args []string) error {
	fs := c.flags("verify", "verify [-data DIR]\n\nReads the whole event store without changing it: both meta pages, the\nfile structure, every event's hash, every wing's chain, the indexes and\nthe state checkpoint. Prints a summary, or names the\nfirst bad event and exits 1. Stop the appliance first: a running one\nholds the file.")
	data := fs.String("data", "data", "data `folder` holding wing.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	path := datadir.Dir(*data).Store()
	rep, err := store.Verify(path)
	if err != nil {
		return err
	}
	var wings []string
	for w, seq := range rep.Wings {
		wings = append(wings, fmt.Sprintf("%s (seq 1..%d)", w, seq))
	}
	fmt.Fprintf(c.Stdout, "%s: %d events verified; chains intact: %s\n", path, rep.Events, strings.Join(wings, ", "))
	return nil
}

func (c Command) config(args []string) error {
	const synopsis = "config check FILE | config example"
	switch {
	case len(args) == 2 && args[0] == "check":
		w, err := config.Load(args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s: wing %s (%s): %d doors, %d alarm points, %d landings: OK\n", args[1], w.ID, w.Name, len(w.Doors), len(w.AlarmPoints), len(w.Landings))
		return nil
	case len(args) == 1 && args[0] == "example":
		fmt.Fprint(c.Stdout, config.SimulatedText("A", 3, 20))
		return nil
	case len(args) == 1 && (args[0] == "-help" || args[0] == "-h" || args[0] == "--help"):
		fmt.Fprintf(c.Stdout, "Usage: wingnode %s\n\nThe file format is described in docs/wing-config.md.\n", synopsis)
		return usageError{status: 0}
	}
	return usageError{status: 2, msg: "usage: wingnode " + synopsis}
}

func (c Command) hardware(args []string) error {
	if len(args) == 0 || args[0] != "probe" {
		return usageError{status: 2, msg: "usage: wingnode hw probe [-config FILE] [-simulate]"}
	}
	fs := c.flags("probe", "hw probe [-config FILE] [-simulate]\n\nLists what periph finds on this board: drivers, GPIO chips and lines,\nI2C buses and the addresses answering on them. With -config, also checks\nthat every configured point's GPIO line, ADC and sensor is there, and\nexits 1 when one is not.")
	cfgFile := fs.String("config", "", "wing configuration `file` whose wiring to check")
	simulated := fs.Bool("simulate", false, "register the simulated wing hardware first (to see how a complete board reports)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	var w *config.Wing
	switch {
	case *cfgFile != "":
		cw, err := config.Load(*cfgFile)
		if err != nil {
			return err
		}
		w = &cw
	case *simulated:
		cw, err := config.Simulated("A")
		if err != nil {
			return err
		}
		w = &cw
	}
	buses := i2creg.All()
	if *simulated {
		sim, err := hardware.NewSimulation(*w, nil)
		if err != nil {
			return err
		}
		defer sim.Close()
		buses = sim.BusRefs()
	}
	p := hardware.ProbeBoard(c.Board, buses, w)
	p.Print(c.Stdout)
	if len(p.Missing) > 0 {
		return fmt.Errorf("%d of %d configured points not found", len(p.Missing), p.Checked)
	}
	return nil
}
