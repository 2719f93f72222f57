package command

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"wingnode/appliance/datadir"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

// clientArgs parses a client command's flags and its one argument, NAME.
func (c Command) clientArgs(set *flag.FlagSet, args []string, synopsis string) (string, error) {
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", usageError{status: 0}
		}
		return "", usageError{status: 2}
	}
	if set.NArg() != 1 {
		return "", usageError{status: 2, msg: "name the client: wingnode " + synopsis}
	}
	return set.Arg(0), nil
}

func checkRole(role string) error {
	if role != site.RoleCentral && role != site.RoleSiteIT {
		return usageError{status: 2, msg: fmt.Sprintf("-role %q: use %s (reads events, metrics and health) or %s (also backups)", role, site.RoleCentral, site.RoleSiteIT)}
	}
	return nil
}

func (c Command) siteClientCert(ctx context.Context, args []string) error {
	const synopsis = "site client-cert [-data DIR] [-out DIR] -role central|siteit NAME"
	set := c.flags("client-cert", synopsis+"\n\nIssues a client certificate for the wings' off-board ports to NAME, a\ncentral system or site IT's tooling, and registers it with the site, which\nagrees on it through raft, so every wing takes it. Writes NAME.crt,\nNAME.key (0600: hand it over like a password) and site-ca.crt into -out.\nIssuing again under the same name replaces the old certificate.\nRun it on the wing that formed the site (it holds the CA), while it runs.")
	data := set.String("data", "data", "data `folder` of the running wing that holds the site CA")
	out := set.String("out", ".", "`folder` to write the certificate, key and site CA certificate into")
	role := set.String("role", "", "the client's `role`: central or siteit")
	name, err := c.clientArgs(set, args, synopsis)
	if err != nil {
		return err
	}
	if err := checkRole(*role); err != nil {
		return err
	}
	ca, err := trust.LoadAuthority(datadir.Dir(*data).CA())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s holds no site CA: issue client certificates on the wing that formed the site", *data)
	}
	if err != nil {
		return err
	}
	certPEM, keyPEM, serial, err := ca.IssueClient(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	// Register first: a certificate the site does not know opens nothing.
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpAddClient, By: site.SiteIT, Client: name,
		ClientRecord: &site.ClientRecord{Role: *role, Serial: serial.String()}}); err != nil {
		return fmt.Errorf("register client %s with the site: %w", name, err)
	}
	for _, f := range []struct {
		name string
		b    []byte
		perm os.FileMode
	}{{name + ".key", keyPEM, 0o600}, {name + ".crt", certPEM, 0o644}, {"site-ca.crt", trust.CertificatePEM(ca.Certificate()), 0o644}} {
		if err := datadir.WriteFile(filepath.Join(*out, f.name), f.b, f.perm); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.Stdout, "client %s (%s): %s, %s and site-ca.crt written to %s\n", name, *role, name+".crt", name+".key", *out)
	return nil
}

func (c Command) siteClientToken(ctx context.Context, args []string) error {
	const synopsis = "site client-token [-data DIR] -role central|siteit NAME"
	set := c.flags("client-token", synopsis+"\n\nMakes a bearer token for the wings' off-board ports for NAME and registers\nits SHA-256 with the site (the token itself is kept nowhere); prints the\ntoken once. Making one again under the same name replaces the old token.\nRun it on any running wing of the site.")
	data := set.String("data", "data", "data `folder` of a running wing")
	role := set.String("role", "", "the client's `role`: central or siteit")
	name, err := c.clientArgs(set, args, synopsis)
	if err != nil {
		return err
	}
	if err := checkRole(*role); err != nil {
		return err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	token := "wnc_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpAddClient, By: site.SiteIT, Client: name,
		ClientRecord: &site.ClientRecord{Role: *role, TokenHash: hex.EncodeToString(sum[:])}}); err != nil {
		return fmt.Errorf("register client %s with the site: %w", name, err)
	}
	fmt.Fprintln(c.Stdout, token)
	return nil
}

func (c Command) siteClientRevoke(ctx context.Context, args []string) error {
	const synopsis = "site client-revoke [-data DIR] NAME"
	set := c.flags("client-revoke", synopsis+"\n\nRevokes client NAME's certificate or token on every wing of the site.")
	data := set.String("data", "data", "data `folder` of a running wing")
	name, err := c.clientArgs(set, args, synopsis)
	if err != nil {
		return err
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpRevokeClient, By: site.SiteIT, Client: name}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "client %s revoked\n", name)
	return nil
}

func (c Command) siteClients(ctx context.Context, args []string) error {
	set := c.flags("clients", "site clients [-data DIR]\n\nLists the site's off-board clients: name, role, credential, and whether\nrevoked.")
	data := set.String("data", "data", "data `folder` of a running wing")
	if err := parse(set, args); err != nil {
		return err
	}
	st, _, err := siteStatusOf(ctx, *data)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tROLE\tCREDENTIAL\tREVOKED")
	for _, name := range slices.Sorted(maps.Keys(st.Agreed.Clients)) {
		r := st.Agreed.Clients[name]
		cred := "token"
		if r.Serial != "" {
			cred = "certificate"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", name, r.Role, cred, r.Revoked)
	}
	return tw.Flush()
}
