package command

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"wingnode/sync/export"
	"wingnode/sync/pull"
	"wingnode/sync/pull/pgsink"
	"wingnode/sync/trust"
)

const pullSynopsis = `pull -from URL[,URL...] -ca FILE -to DIR|postgres://... [flags]

Pulls the site's events in commit order from the first of the wings that
answers (failing over to the next when one is down or lags), verifies every
page against the site CA certificate (hashes, chains, signed heads) and keeps
them, with the cursor, so that a pull stopped or killed at any point resumes
without losing or repeating an event:

  -to DIR            rotating NDJSON files (events-NNNNNN.ndjson, the one
                     being written ….part), cursor.json and a copy of the
                     site CA certificate beside them; check them with
                     'wingnode verify-export DIR'
  -to postgres://…   tables wingnode_events and wingnode_pull (docs/central.md);
                     each page's events and the cursor in one transaction

It follows the site until interrupted, or with -once until it has caught up.
On the off-board port, authenticate with -cert/-key (from 'wingnode site
client-cert') or -token-file; a token is never taken on the command line.`

func (c Command) pull(ctx context.Context, args []string) error {
	fs := c.flags("pull", pullSynopsis)
	from := fs.String("from", "", "the wings' `URLs`, separated by commas, in order of preference: https://HOST:PORT of their off-board ports (or http://HOST:PORT of a screens' port)")
	caFile := fs.String("ca", "", "the site CA certificate `file` (site-ca.crt); default: the copy in DIR, when pulling into one")
	to := fs.String("to", "", "where to keep the events: a `DIR`ectory, or a postgres:// URL")
	creds := credentialFlags(fs)
	limit := fs.Int("limit", 1000, "events a page, 1 to 1000")
	wait := fs.Duration("wait", 30*time.Second, "long poll of each request when nothing is new (at most 60s)")
	rotate := fs.Int("rotate", 100_000, "with -to DIR: records a file before the next file starts")
	once := fs.Bool("once", false, "stop once caught up with the site instead of following it")
	level := fs.String("log-level", "info", "log `level`: debug, info, warn or error")
	if err := parse(fs, args); err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return usageError{status: 2, msg: fmt.Sprintf("-log-level %q: want debug, info, warn or error", *level)}
	}
	switch {
	case *from == "":
		return usageError{status: 2, msg: "-from: give the URL of at least one wing"}
	case *to == "":
		return usageError{status: 2, msg: "-to: give a folder or a postgres:// URL to keep the events in"}
	}
	postgres := strings.HasPrefix(*to, "postgres://") || strings.HasPrefix(*to, "postgresql://")
	if *caFile == "" {
		if postgres {
			return usageError{status: 2, msg: "-ca: give the site CA certificate file (site-ca.crt)"}
		}
		*caFile = filepath.Join(*to, export.CAFile)
	}
	ca, err := trust.ReadCA(*caFile)
	if err != nil {
		return fmt.Errorf("%w: give the site CA certificate with -ca (site IT hands it out with client certificates)", err)
	}
	httpClient, token, err := creds.client(ca)
	if err != nil {
		return err
	}
	if *once {
		*wait = -1
	}
	log := slog.New(slog.NewTextHandler(c.Stderr, &slog.HandlerOptions{Level: lvl}))
	client, err := pull.New(pull.Config{Wings: strings.Split(*from, ","), CA: ca, HTTP: httpClient,
		Token: token, Limit: *limit, Wait: *wait, Log: log})
	if err != nil {
		return err
	}
	var sink pull.Sink
	if postgres {
		s, err := pgsink.Open(ctx, *to, client.Site())
		if err != nil {
			return err
		}
		defer s.Close()
		sink = s
	} else {
		d, err := export.OpenDir(*to, ca, *rotate)
		if err != nil {
			return err
		}
		defer d.Close()
		sink = d
	}
	log.Info("pulling the site's events", "site", client.Site(), "from", *from, "cursor", sink.State().Cursor)
	err = client.Follow(ctx, sink, *once)
	st := sink.State()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	fmt.Fprintf(c.Stdout, "site %s: pulled up to %s (%s)\n", client.Site(), orStart(st.Cursor), wingSeqs(st.Wings, true))
	return err
}

func orStart(cursor string) string {
	if cursor == "" {
		return "the start"
	}
	return cursor
}

// credentials are the flags that authenticate a command on the
// off-board port.
type credentials struct{ cert, key, token *string }

func credentialFlags(fs *flag.FlagSet) credentials {
	return credentials{
		cert:  fs.String("cert", "", "client certificate `file` for the off-board port (with -key), from 'wingnode site client-cert'"),
		key:   fs.String("key", "", "its private key `file`"),
		token: fs.String("token-file", "", "`file` holding a bearer token for the off-board port, from 'wingnode site client-token' (a token is never taken on the command line)"),
	}
}

// client is an HTTP client for the off-board port that trusts the site CA
// ca and presents the certificate given, and the token given.
func (c credentials) client(ca *x509.Certificate) (*http.Client, string, error) {
	if (*c.cert == "") != (*c.key == "") {
		return nil, "", usageError{status: 2, msg: "-cert and -key go together"}
	}
	var cert *tls.Certificate
	if *c.cert != "" {
		kp, err := tls.LoadX509KeyPair(*c.cert, *c.key)
		if err != nil {
			return nil, "", fmt.Errorf("client certificate: %w", err)
		}
		cert = &kp
	}
	var token string
	if *c.token != "" {
		b, err := os.ReadFile(*c.token)
		if err != nil {
			return nil, "", fmt.Errorf("token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return pull.NewHTTPClient(ca, cert), token, nil
}

// wingSeqs lists each wing's seqs, from seq 1 or only up to its newest.
func wingSeqs(tips map[string]export.Tip, fromOne bool) string {
	var parts []string
	for _, w := range slices.Sorted(maps.Keys(tips)) {
		if fromOne {
			parts = append(parts, fmt.Sprintf("%s 1..%d", w, tips[w].Seq))
		} else {
			parts = append(parts, fmt.Sprintf("%s up to %d", w, tips[w].Seq))
		}
	}
	if len(parts) == 0 {
		return "no events"
	}
	return strings.Join(parts, ", ")
}

const verifyExportSynopsis = `verify-export [-ca FILE] FILE|DIR

Checks an export offline, against the site CA certificate: every record's
hash and its agreement with its body, each wing's chain with no gap, and
every signed head (its signature by a wing of the site; that the records
hold exactly the events it names at its place; and that no head lies beyond
the last record, which would mean the tail was cut). A DIR written by
'wingnode pull -to DIR' is checked from the start; a single FILE from the
state its first line gives. Prints a summary, or names the first bad record
and exits 1.`

func (c Command) verifyExport(args []string) error {
	fs := c.flags("verify-export", verifyExportSynopsis)
	caFile := fs.String("ca", "", "the site CA certificate `file` to trust (default: site-ca.crt beside the export, a copy the pull made: pass your own to be sure)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if fs.NArg() != 1 {
		return usageError{status: 2, msg: "give one export file or folder (see 'wingnode help verify-export')"}
	}
	path := fs.Arg(0)
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if *caFile == "" {
		dir := path
		if !fi.IsDir() {
			dir = filepath.Dir(path)
		}
		*caFile = filepath.Join(dir, export.CAFile)
		fmt.Fprintf(c.Stderr, "trusting the site CA in %s (the copy the pull made); pass -ca to check against your own\n", *caFile)
	}
	ca, err := trust.ReadCA(*caFile)
	if err != nil {
		return err
	}
	var rep export.Report
	if fi.IsDir() {
		rep, err = export.VerifyDir(ca, path)
	} else {
		rep, err = export.VerifyFile(ca, path)
	}
	if err != nil {
		return err
	}
	proven := "no signed head reached"
	if rep.Proven != "" {
		proven = "complete up to " + rep.Proven + ", as signed by the site"
	}
	from := "from the start"
	if rep.From.Cursor != "" {
		from = "from " + rep.From.Cursor + " (as the file's first line says; verify the whole folder to prove it)"
	}
	fmt.Fprintf(c.Stdout, "%s: site %s: %d records and %d signed heads verified %s; %s; chains intact: %s\n",
		path, rep.Site, rep.Records, rep.Heads, from, proven, wingSeqs(rep.Wings, rep.From.Cursor == ""))
	return nil
}
