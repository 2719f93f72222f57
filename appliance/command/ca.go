package command

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"wingnode/appliance/datadir"
	"wingnode/sync/trust"
)

const caBackupHelp = `site ca-backup [-data DIR] -out FILE [-passphrase-file FILE]

Seals the site CA this wing holds (its certificate and key, the hashes of
the enrolment tokens and the record of every certificate it issued) into
FILE, with a passphrase: argon2id, then XChaCha20-Poly1305. The site CA
lives on one wing only, never on the others (a wing that held it could
make certificates); without this backup, once that wing's board is lost
no board can enrol in the site again.

The passphrase is read from -passphrase-file or from standard input
(typed twice at a terminal, not shown; the first line of a pipe),
never from the command line; at least 12 characters. Keep FILE and the
passphrase apart and both off the wings. One backup is enough: the site's
own record of its wings keeps a restored CA from enrolling a wing twice.
FILE must not exist yet. The wing may be running or stopped.`

const caRestoreHelp = `site ca-restore [-data DIR] [-passphrase-file FILE] FILE

Installs the site CA from a backup made by 'wingnode site ca-backup' on
this wing, when the wing that held it is lost. DIR must be a wing of the
same site (its site/identity/site-ca.crt is the backup's CA), running or
stopped, and must not hold a site CA. Refused, with nothing written: a
backup of another site, a wrong passphrase, a file altered or damaged
since it was made. The passphrase is read from -passphrase-file or from
standard input (asked once at a terminal, not shown),
never from the command line.

From then on this wing issues enrolment tokens ('wingnode site token'),
'wingnode site replace' prints a token here, and this wing's site port
serves enrolment (a running wing takes the CA up at the next enrolment).
Tokens issued after the backup was taken are not known here: issue new
ones. Decommission or replace the lost wing so its certificate is
refused.`

func (c Command) siteCABackup(args []string) error {
	set := c.flags("ca-backup", caBackupHelp)
	data := set.String("data", "data", "data `folder` of the wing that holds the site CA")
	out := set.String("out", "", "the backup `file` to write (it must not exist)")
	passFile := set.String("passphrase-file", "", "read the passphrase from the first line of `file` instead of standard input")
	if err := parse(set, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{status: 2, msg: "name the backup file: wingnode site ca-backup -out FILE"}
	}
	dir := datadir.Dir(*data)
	ca, err := trust.LoadAuthority(dir.CA())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s holds no site CA: back it up on the wing that holds it (the one that formed the site, or the one it was restored on)", *data)
	}
	if err != nil {
		return err
	}
	if _, err := os.Lstat(*out); err == nil {
		return fmt.Errorf("%s exists: choose another name (nothing was written)", *out)
	}
	pass, err := c.passphrase(*passFile, true)
	if err != nil {
		return err
	}
	sealed, err := ca.Backup(pass)
	if err != nil {
		return err
	}
	if err := writeNew(*out, sealed); err != nil {
		return fmt.Errorf("write the backup: %w", err)
	}
	if err := ca.MarkBackedUp(); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%s: the site CA of site %s, sealed with the passphrase (CA fingerprint %x)\n", *out, ca.Site(), ca.Fingerprint())
	fmt.Fprintln(c.Stdout, "keep it off the wings, apart from its passphrase; restore it with 'wingnode site ca-restore' on another wing of the site if this one is lost")
	return nil
}

func (c Command) siteCARestore(args []string) error {
	set := c.flags("ca-restore", caRestoreHelp)
	data := set.String("data", "data", "data `folder` of a wing of the site, running or stopped")
	passFile := set.String("passphrase-file", "", "read the passphrase from the first line of `file` instead of standard input")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if set.NArg() != 1 {
		return usageError{status: 2, msg: "name the backup file: wingnode site ca-restore [-data DIR] FILE"}
	}
	dir := datadir.Dir(*data)
	id, err := trust.LoadIdentity(dir.Identity())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s is not a wing of a site yet (no site identity): enrol it first, then restore the CA there (nothing was written)", *data)
	}
	if err != nil {
		return err
	}
	f, err := os.Open(set.Arg(0))
	if err != nil {
		return err
	}
	b, err := io.ReadAll(io.LimitReader(f, trust.MaxBackup+1))
	f.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", set.Arg(0), err)
	}
	sealed, err := trust.ReadBackup(b)
	if err != nil {
		return fmt.Errorf("%s: %w (nothing was written)", set.Arg(0), err)
	}
	// The checks that need no passphrase come before asking for it.
	if sealed.CAFingerprint != trust.Fingerprint(id.CA()) {
		return fmt.Errorf("%s: %w (the backup is of site %q, wing %s is of site %q)", set.Arg(0), trust.ErrOtherSite, sealed.Site, id.Wing(), id.Site())
	}
	if _, err := trust.LoadAuthority(dir.CA()); err == nil {
		return fmt.Errorf("%w: %s already holds the site CA", trust.ErrHoldsCA, *data)
	}
	pass, err := c.passphrase(*passFile, false)
	if err != nil {
		return fmt.Errorf("%w (nothing was written)", err)
	}
	ca, err := sealed.Restore(dir.CA(), pass, id.CA())
	if err != nil {
		return err
	}
	addr := "its site address (known once it has run)"
	if a, err := os.ReadFile(dir.SiteAddr()); err == nil {
		addr = strings.TrimSpace(string(a))
	}
	fmt.Fprintf(c.Stdout, "the site CA of site %s is installed on wing %s\n", ca.Site(), id.Wing())
	fmt.Fprintf(c.Stdout, "this wing now issues enrolment tokens (wingnode site token -data %s) and serves enrolment at %s\n", *data, addr)
	fmt.Fprintln(c.Stdout, "tokens issued after the backup was taken are unknown here: issue new ones; decommission or replace the lost wing (wingnode site decommission|replace WING)")
	return nil
}

// passphrase reads a backup's passphrase from file, or else from standard
// input (confirmed at a terminal when confirm is set).
func (c Command) passphrase(file string, confirm bool) ([]byte, error) {
	if file == "" {
		return readPassphrase(c.stdin(), c.Stderr, confirm)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("-passphrase-file: %w", err)
	}
	defer f.Close()
	return readPassphrase(f, c.Stderr, false)
}

// writeNew writes b to a new file at path (0600), synced, refusing one
// that exists; a failed write leaves no file.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
