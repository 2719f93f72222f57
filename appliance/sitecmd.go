package appliance

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"wingnode/sync/site"
	"wingnode/sync/trust"
)

const siteUsage = `wingnode site: a wing's membership of its site.

  wingnode site token [-data DIR] [-ttl D]
                     print a one-time enrolment token for a new wing
                     (on the wing that formed the site, which holds the CA)
  wingnode site status [-data DIR]
                     list the site's wings as this wing sees them
  wingnode site decommission [-data DIR] WING
                     remove WING from the site and refuse its certificate
  wingnode site roster [-data DIR] [-set FILE]
                     print or replace the site's officer roster

A new wing joins with 'wingnode run -join TOKEN' (or a token provisioned
into DATA/site/enrol-token). status, decommission and roster talk to the running
wingnode of DIR through the site port, with that wing's certificate.`

func (c Command) siteCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageError{status: 2, msg: "usage:\n" + siteUsage}
	}
	switch args[0] {
	case "token":
		return c.siteToken(args[1:])
	case "status":
		return c.siteStatus(ctx, args[1:])
	case "decommission":
		return c.siteDecommission(ctx, args[1:])
	case "roster":
		return c.siteRoster(ctx, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprintln(c.Stdout, siteUsage)
		return usageError{status: 0}
	}
	return usageError{status: 2, msg: fmt.Sprintf("unknown site command %q\n%s", args[0], siteUsage)}
}

func (c Command) siteToken(args []string) error {
	set := c.flags("token", "site token [-data DIR] [-ttl D]\n\nPrints a one-time enrolment token. Give it to the new wing's\n'wingnode run -join TOKEN' within its lifetime. The token carries this\nwing's site address and the site CA's fingerprint; only a hash of its\nsecret is kept here. Treat it like a password until it is used.")
	data := set.String("data", "data", "data `folder` of the wing that holds the site CA")
	ttl := set.Duration("ttl", 24*time.Hour, "how long the token stays valid (at most 7 days)")
	if err := parse(set, args); err != nil {
		return err
	}
	if *ttl <= 0 || *ttl > 7*24*time.Hour {
		return usageError{status: 2, msg: "-ttl: between 1s and 168h"}
	}
	tok, err := IssueEnrolmentToken(*data, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.Stdout, tok)
	return nil
}

// siteClient is the site API client of a wing's data folder.
func siteClient(data string) (*http.Client, string, error) {
	id, err := trust.LoadIdentity(filepath.Join(data, identityFolder))
	if err != nil {
		return nil, "", fmt.Errorf("%s is not a member of a site yet: %w", data, err)
	}
	addr, err := os.ReadFile(filepath.Join(data, addrFile))
	if err != nil {
		return nil, "", err
	}
	return id.HTTPClient(nil), "https://" + strings.TrimSpace(string(addr)), nil
}

func (c Command) siteStatus(ctx context.Context, args []string) error {
	set := c.flags("status", "site status [-data DIR] [-json]\n\nAsks the running wingnode of DIR for its view of the site: the leader,\nevery wing with its link, vote and committed events, and the lockdown.")
	data := set.String("data", "data", "data `folder` of a running wing")
	asJSON := set.Bool("json", false, "print the status as JSON")
	if err := parse(set, args); err != nil {
		return err
	}
	body, err := getSite(ctx, *data, "/site/v1/status")
	if err != nil {
		return err
	}
	if *asJSON {
		c.Stdout.Write(body)
		return nil
	}
	var st site.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wing %s at %s; leader %q; applied index %d\n", st.Wing, st.Addr, st.Leader, st.Applied)
	if st.Isolated {
		fmt.Fprintf(c.Stdout, "ISOLATED since %s: %d local events waiting\n", st.IsolatedSince.Local().Format(time.DateTime), st.Waiting)
	}
	fmt.Fprintf(c.Stdout, "officer roster: %d officers\n", len(st.Agreed.Roster))
	if l := st.Agreed.Lockdown; l.Active {
		fmt.Fprintf(c.Stdout, "LOCKDOWN since %s by %s: %s\n", l.Since.Local().Format(time.DateTime), l.By, l.Reason)
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
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpRemoveWing, Wing: set.Arg(0)}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wing %s decommissioned\n", set.Arg(0))
	return nil
}

// maxOfficerID bounds an officer identifier on the roster.
const maxOfficerID = 64

func (c Command) siteRoster(ctx context.Context, args []string) error {
	set := c.flags("roster", "site roster [-data DIR] [-set FILE]\n\nPrints the site's officer roster: the officer identifiers that may sign\nin on any wing, agreed by the whole site. With -set, replaces it with the\nidentifiers in FILE ('-' for standard input): one a line, blank lines\nand lines starting with # ignored. Identifiers only, never names: letters,\ndigits, '.', '_' and '-', at most 64 characters.")
	data := set.String("data", "data", "data `folder` of a running wing")
	file := set.String("set", "", "replace the roster with the identifiers in `file` ('-': standard input)")
	if err := parse(set, args); err != nil {
		return err
	}
	if *file == "" {
		st, err := fetchStatus(ctx, *data)
		if err != nil {
			return err
		}
		for _, id := range st.Agreed.Roster {
			fmt.Fprintln(c.Stdout, id)
		}
		return nil
	}
	in := io.Reader(os.Stdin)
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	roster, err := readRoster(*file, in)
	if err != nil {
		return err
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpRoster, Roster: roster}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "the site's roster has %d officers\n", len(roster))
	return nil
}

// readRoster reads officer identifiers, one a line, naming the line of any
// that is not one.
func readRoster(name string, r io.Reader) ([]string, error) {
	var out []string
	seen := map[string]int{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	var errs []error
	for n := 1; sc.Scan(); n++ {
		id := strings.TrimSpace(sc.Text())
		if id == "" || strings.HasPrefix(id, "#") {
			continue
		}
		switch {
		case len(id) > maxOfficerID:
			errs = append(errs, fmt.Errorf("%s:%d: %d characters; an officer identifier has at most %d", name, n, len(id), maxOfficerID))
		case strings.IndexFunc(id, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-')
		}) >= 0:
			errs = append(errs, fmt.Errorf("%s:%d: %q is not an officer identifier (letters, digits, '.', '_', '-'; no names or spaces)", name, n, id))
		case seen[id] > 0:
			errs = append(errs, fmt.Errorf("%s:%d: %s is already on line %d", name, n, id, seen[id]))
		default:
			seen[id] = n
			out = append(out, id)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, errors.Join(errs...)
}

// fetchStatus asks the running wingnode of a data folder for its view of
// the site.
func fetchStatus(ctx context.Context, data string) (site.Status, error) {
	var st site.Status
	body, err := getSite(ctx, data, "/site/v1/status")
	if err == nil {
		err = json.Unmarshal(body, &st)
	}
	return st, err
}

// getSite GETs a path of the site API from the running wingnode of a data
// folder, with its certificate.
func getSite(ctx context.Context, data, path string) ([]byte, error) {
	client, base, err := siteClient(data)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("is the wing running? %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	return body, nil
}

// proposeCommand has the site commit cmd, through the running wingnode of
// a data folder and on to the leader.
func proposeCommand(ctx context.Context, data string, cmd site.Command) error {
	client, base, err := siteClient(data)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(cmd)
	for range 3 {
		ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/site/v1/command", strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			cancel()
			return fmt.Errorf("is the wing running? %w", err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		cancel()
		switch {
		case resp.StatusCode/100 == 2:
			return nil
		case resp.StatusCode == http.StatusMisdirectedRequest && resp.Header.Get("Location") != "":
			base = resp.Header.Get("Location")
		default:
			return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(msg)))
		}
	}
	return errors.New("the site's leader could not be reached")
}

// routeFlag collects -site-route ADDR=VIA flags.
type routeFlag map[string]string

func (r *routeFlag) String() string { return fmt.Sprint(map[string]string(*r)) }

func (r *routeFlag) Set(v string) error {
	addr, via, ok := strings.Cut(v, "=")
	if !ok || addr == "" || via == "" {
		return fmt.Errorf("want ADDR=VIA, e.g. 127.0.0.1:8443=127.0.0.1:9443")
	}
	if *r == nil {
		*r = routeFlag{}
	}
	(*r)[addr] = via
	return nil
}

// IssueEnrolmentToken issues a one-time enrolment token on the wing whose
// data folder is data: it must hold the site CA and have run once, so that
// its site address is known.
func IssueEnrolmentToken(data string, ttl time.Duration) (string, error) {
	ca, err := trust.LoadAuthority(filepath.Join(data, caFolder))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s holds no site CA: issue tokens on the wing that formed the site", data)
	}
	if err != nil {
		return "", err
	}
	addr, err := os.ReadFile(filepath.Join(data, addrFile))
	if err != nil {
		return "", fmt.Errorf("the site address of %s is not known yet: start the wing once ('wingnode run'), then issue tokens: %w", data, err)
	}
	return ca.IssueToken(strings.TrimSpace(string(addr)), ttl)
}
