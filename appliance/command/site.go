package command

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"wingnode/appliance/datadir"
	"wingnode/appliance/roster"
	"wingnode/sync/member"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

const siteUsage = `wingnode site: a wing's membership of its site.

  wingnode site token [-data DIR] [-ttl D]
                     print a one-time enrolment token for a new wing
                     (on the wing that holds the site CA)
  wingnode site ca-backup [-data DIR] -out FILE [-passphrase-file FILE]
                     seal the site CA into FILE with a passphrase read from
                     standard input or the file (never the command line)
  wingnode site ca-restore [-data DIR] [-passphrase-file FILE] FILE
                     install the site CA from its backup on this wing of
                     the site, when the wing that held it is lost
  wingnode site status [-data DIR]
                     list the site's wings as this wing sees them
  wingnode site decommission [-data DIR] WING
                     remove WING from the site and refuse its certificate
  wingnode site replace [-data DIR] WING
                     let a new board enrol as WING, refusing its old certificate
  wingnode site roster [-data DIR] [-set FILE]
                     print or replace the site's officer roster (numbers and roles)
  wingnode site pin [-data DIR] OFFICER
                     set an officer's PIN, read from standard input
  wingnode site client-cert [-data DIR] [-out DIR] -role central|siteit NAME
                     issue and register a client certificate for the
                     off-board port (on the wing that holds the CA)
  wingnode site client-token [-data DIR] -role central|siteit NAME
                     make and register a bearer token for the off-board port
  wingnode site client-revoke [-data DIR] NAME
                     revoke a client's certificate or token on every wing
  wingnode site clients [-data DIR]
                     list the off-board port's clients

A new wing joins with 'wingnode run -join-file FILE' (FILE holding the
token, or - for standard input), or with a token provisioned into
DATA/site/enrol-token. All but token, ca-backup and ca-restore talk to
the running wingnode of DIR through the site port, with that wing's
certificate.

The site CA is held by one wing only: the one that formed the site, which
asks for a backup ('site ca-backup') until one is taken. If that wing is
lost, 'site ca-restore' on another wing of the site makes that wing the
one that issues tokens and serves enrolment.`

func (c Command) siteCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{status: 2, msg: "usage:\n" + siteUsage}
	}
	switch args[0] {
	case "token":
		return c.siteToken(args[1:])
	case "ca-backup":
		return c.siteCABackup(args[1:])
	case "ca-restore":
		return c.siteCARestore(args[1:])
	case "status":
		return c.siteStatus(ctx, args[1:])
	case "decommission":
		return c.siteDecommission(ctx, args[1:])
	case "roster":
		return c.siteRoster(ctx, args[1:])
	case "pin":
		return c.sitePIN(ctx, args[1:])
	case "replace":
		return c.siteReplace(ctx, args[1:])
	case "client-cert":
		return c.siteClientCert(ctx, args[1:])
	case "client-token":
		return c.siteClientToken(ctx, args[1:])
	case "client-revoke":
		return c.siteClientRevoke(ctx, args[1:])
	case "clients":
		return c.siteClients(ctx, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprintln(c.Stdout, siteUsage)
		return usageError{status: 0}
	}
	return usageError{status: 2, msg: fmt.Sprintf("unknown site command %q\n%s", args[0], siteUsage)}
}

func (c Command) siteToken(args []string) error {
	set := c.flags("token", "site token [-data DIR] [-ttl D]\n\nPrints a one-time enrolment token. Give it to the new wing's\n'wingnode run -join-file FILE' within its lifetime. The token carries this\nwing's site address and the site CA's fingerprint; only a hash of its\nsecret is kept here. Treat it like a password until it is used. Run it\non the wing that holds the site CA: the one that formed the site, or the\none its backup was restored on ('wingnode site ca-restore').")
	data := set.String("data", "data", "data `folder` of the wing that holds the site CA")
	ttl := set.Duration("ttl", 24*time.Hour, "how long the token stays valid (at most 7 days)")
	if err := parse(set, args); err != nil {
		return err
	}
	if *ttl <= 0 || *ttl > 7*24*time.Hour {
		return usageError{status: 2, msg: "-ttl: between 1s and 168h"}
	}
	tok, err := member.IssueToken(datadir.Dir(*data), *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, tok)
	return nil
}

// stdin is the command's standard input.
func (c Command) stdin() io.Reader {
	if c.Stdin == nil {
		return os.Stdin
	}
	return c.Stdin
}

// siteClient is the site API client of a wing's data folder, with its
// certificate, and the address of its site port.
func siteClient(data string) (site.Client, string, error) {
	dir := datadir.Dir(data)
	id, err := trust.LoadIdentity(dir.Identity())
	if err != nil {
		return site.Client{}, "", fmt.Errorf("%s is not a member of a site yet: %w", data, err)
	}
	addr, err := os.ReadFile(dir.SiteAddr())
	if err != nil {
		return site.Client{}, "", err
	}
	return site.Client{HTTP: id.HTTPClient(nil)}, strings.TrimSpace(string(addr)), nil
}

// siteStatusOf asks the running wingnode of a data folder for its view of
// the site.
func siteStatusOf(ctx context.Context, data string) (site.Status, []byte, error) {
	client, addr, err := siteClient(data)
	if err != nil {
		return site.Status{}, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, body, err := client.Status(ctx, addr)
	if err != nil {
		return st, nil, fmt.Errorf("is the wing running? %w", err)
	}
	return st, body, nil
}

// proposeCommand has the site commit cmd, through the running wingnode of
// a data folder and on to the leader.
func proposeCommand(ctx context.Context, data string, cmd site.Command) error {
	client, addr, err := siteClient(data)
	if err != nil {
		return err
	}
	return client.Propose(ctx, addr, cmd)
}

func (c Command) siteStatus(ctx context.Context, args []string) error {
	set := c.flags("status", "site status [-data DIR] [-json]\n\nAsks the running wingnode of DIR for its view of the site: the leader,\nevery wing with its link, vote and committed events, and the lockdown.")
	data := set.String("data", "data", "data `folder` of a running wing")
	asJSON := set.Bool("json", false, "print the status as JSON")
	if err := parse(set, args); err != nil {
		return err
	}
	st, body, err := siteStatusOf(ctx, *data)
	if err != nil {
		return err
	}
	if *asJSON {
		c.Stdout.Write(body)
		return nil
	}
	fmt.Fprintf(c.Stdout, "wing %s at %s; leader %q; applied index %d\n", st.Wing, st.Addr, st.Leader, st.Applied)
	if st.Isolated {
		fmt.Fprintf(c.Stdout, "ISOLATED since %s: %d local events waiting\n", st.IsolatedSince.Local().Format(time.DateTime), st.Waiting)
	}
	fmt.Fprintf(c.Stdout, "officer roster: %d officers\n", len(st.Agreed.Roster))
	if l := st.Agreed.Lockdown; l.Active {
		fmt.Fprintf(c.Stdout, "LOCKDOWN since %s by %s: %s\n", l.Since.Local().Format(time.DateTime), l.By, l.Reason)
	}
	for _, r := range st.Agreed.Refused {
		fmt.Fprintf(c.Stdout, "refused at index %d: %s from wing %s by %q: %s\n", r.Index, r.Op, r.From, r.By, r.Reason)
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WING\tLINK\tVOTER\tCOMMITTED\tHELD")
	for _, w := range st.Wings {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%d\n", w.Wing, w.Link, w.Voter, w.Committed, w.Held)
	}
	return tw.Flush()
}

func (c Command) siteDecommission(ctx context.Context, args []string) error {
	set := c.flags("decommission", "site decommission [-data DIR] WING\n\nRemoves WING from the site's raft membership and refuses its\ncertificate from then on. Its events stay in every wing's store. Run it\non any other wing of the site while the site has a leader.")
	data := set.String("data", "data", "data `folder` of a running wing")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if set.NArg() != 1 {
		return usageError{status: 2, msg: "name the wing to decommission: wingnode site decommission [-data DIR] WING"}
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpRemoveWing, By: site.SiteIT, Wing: set.Arg(0)}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wing %s decommissioned\n", set.Arg(0))
	return nil
}

func (c Command) siteRoster(ctx context.Context, args []string) error {
	set := c.flags("roster", `site roster [-data DIR] [-set FILE]

Prints the site's officer roster, agreed by the whole site: each officer
who may sign in on any wing's screen, as "NUMBER ROLE", one a line. With
-set, replaces it with the officers in FILE ('-' for standard input), in
the same form; blank lines and lines starting with # are ignored. Numbers
only, never names: letters, digits, '.', '_' and '-', at most 64
characters. Roles: officer, supervisor, siteit. Officers who stay keep
their PINs; set a new officer's PIN with 'wingnode site pin'.`)
	data := set.String("data", "data", "data `folder` of a running wing")
	file := set.String("set", "", "replace the roster with the officers in `file` ('-': standard input)")
	if err := parse(set, args); err != nil {
		return err
	}
	if *file == "" {
		st, _, err := siteStatusOf(ctx, *data)
		if err != nil {
			return err
		}
		for _, o := range st.Agreed.Roster {
			fmt.Fprintln(c.Stdout, o.ID, o.Role)
		}
		return nil
	}
	in := c.stdin()
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	officers, err := readRoster(*file, in)
	if err != nil {
		return err
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpRoster, By: site.SiteIT, Roster: officers}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "the site's roster has %d officers\n", len(officers))
	return nil
}

// readRoster reads officers as "NUMBER ROLE", one a line, naming the
// line of every one that is not.
func readRoster(name string, r io.Reader) (site.Roster, error) {
	var out site.Roster
	seen := map[string]int{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	var errs []error
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		id := fields[0]
		switch {
		case len(fields) > 2:
			errs = append(errs, fmt.Errorf("%s:%d: %.70q is not \"NUMBER ROLE\": an officer number has no spaces (numbers only, never names)", name, n, line))
		case !roster.ValidID(id):
			errs = append(errs, fmt.Errorf("%s:%d: %.70q is not an officer number (letters, digits, '.', '_', '-', at most %d; no names)", name, n, id, roster.MaxID))
		case len(fields) == 1:
			errs = append(errs, fmt.Errorf("%s:%d: officer %s has no role: want \"NUMBER ROLE\" (role officer, supervisor or siteit)", name, n, id))
		case seen[id] > 0:
			errs = append(errs, fmt.Errorf("%s:%d: %s is already on line %d", name, n, id, seen[id]))
		default:
			role, err := roster.ParseRole(fields[1])
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
				continue
			}
			seen[id] = n
			out = append(out, roster.Entry{ID: id, Role: role})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

func (c Command) sitePIN(ctx context.Context, args []string) error {
	set := c.flags("pin", `site pin [-data DIR] OFFICER

Sets the PIN of OFFICER, who must be on the site's roster. The PIN is
read from standard input, never from the command line: typed twice at a
terminal (not shown), or one line from a pipe. It has 4 to 12 digits. It
is hashed here (argon2id) and only the hash goes to the site.`)
	data := set.String("data", "data", "data `folder` of a running wing")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if set.NArg() != 1 {
		return usageError{status: 2, msg: "name the officer: wingnode site pin [-data DIR] OFFICER (the PIN is read from standard input)"}
	}
	id := set.Arg(0)
	if !roster.ValidID(id) {
		return usageError{status: 2, msg: fmt.Sprintf("%.70q is not an officer number (letters, digits, '.', '_', '-')", id)}
	}
	st, _, err := siteStatusOf(ctx, *data)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(st.Agreed.Roster, func(a roster.Actor) bool { return a.ID == id }) {
		return fmt.Errorf("officer %s is not on the site's roster: add them with 'wingnode site roster -set FILE' first", id)
	}
	pin, err := readPIN(c.stdin(), c.Stderr, id)
	if err != nil {
		return err
	}
	hash, err := roster.HashPIN(pin)
	if err != nil {
		return fmt.Errorf("the PIN was not set: %w", err)
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpOfficerPIN, By: site.SiteIT, Officer: &roster.Entry{ID: id, PINHash: hash}}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "officer %s's PIN is set on the whole site\n", id)
	return nil
}
