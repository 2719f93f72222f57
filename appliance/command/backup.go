package command

import (
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
	"time"

	"wingnode/appliance/datadir"
	"wingnode/appliance/store"
	"wingnode/sync/member"
	"wingnode/sync/site"
	"wingnode/sync/trust"
)

const backupSynopsis = `backup -from URL -ca FILE (-cert FILE -key FILE | -token-file FILE) -out FILE

Downloads a consistent copy of a running wing's event store over its
off-board port (GET /api/v1/backup, site IT clients only), taken in one read
transaction while the wing goes on recording, checks the copy as 'wingnode
verify' does, and only then puts it at FILE. It holds the events and the
site's agreed state, no keys: restore it with 'wingnode restore'.`

func (c Command) backup(ctx context.Context, args []string) error {
	set := c.flags("backup", backupSynopsis)
	from := set.String("from", "", "the wing's off-board `URL`, https://HOST:PORT")
	caFile := set.String("ca", "", "the site CA certificate `file` (site-ca.crt)")
	out := set.String("out", "", "the backup `file` to write")
	creds := credentialFlags(set)
	if err := parse(set, args); err != nil {
		return err
	}
	switch {
	case *from == "" || *caFile == "" || *out == "":
		return usageError{status: 2, msg: "-from, -ca and -out are needed (see 'wingnode help backup')"}
	}
	ca, err := trust.ReadCA(*caFile)
	if err != nil {
		return err
	}
	client, token, err := creds.client(ca)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(*from, "/")+"/api/v1/backup", nil)
	if err != nil {
		return usageError{status: 2, msg: fmt.Sprintf("-from %q: %v", *from, err)}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	began := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("backup: %s answered %d: %s", *from, resp.StatusCode, e.Error)
	}
	n, err := writeChecked(*out, resp.Body, resp.ContentLength)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%s: wing %s, %d events, %d bytes in %s\n", *out, n.Wing, n.Events, n.size, time.Since(began).Round(time.Millisecond))
	return nil
}

// checkedCopy is what writeChecked wrote.
type checkedCopy struct {
	store.Report
	size int64
}

// writeChecked copies a store file from r into path: into a temporary
// file beside it, synced, checked with store.Verify, then renamed, so
// that path is a whole, verified store or is left as it was.
func writeChecked(path string, r io.Reader, want int64) (checkedCopy, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return checkedCopy{}, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return checkedCopy{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // nothing to remove after the rename
	n, err := io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return checkedCopy{}, fmt.Errorf("copy the store: %w", err)
	}
	if want >= 0 && n != want {
		return checkedCopy{}, fmt.Errorf("the copy is %d bytes but should be %d: it was cut short; try again", n, want)
	}
	rep, err := store.Verify(tmp)
	if err != nil {
		return checkedCopy{}, fmt.Errorf("the copy does not verify, so it was not kept: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return checkedCopy{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return checkedCopy{}, err
	}
	return checkedCopy{Report: rep, size: n}, nil
}

const restoreSynopsis = `restore -data DIR FILE

Puts a backup made by 'wingnode backup' in place as the event store of a
new (or wiped) board's data folder, after checking it as 'wingnode verify'
does, and marks the wing to rebuild: at its next start it fetches from the
site everything it recorded or received since the backup, before it records
anything. Refuses a folder that already holds a store.

Then, if the board has no site identity (a new board): on a running wing of
the site, 'wingnode site replace WING' (it prints an enrolment token when
run on the wing that holds the CA), and start this board with
'wingnode run -data DIR -join-file FILE' and its wing's configuration.`

func (c Command) restore(args []string) error {
	set := c.flags("restore", restoreSynopsis)
	data := set.String("data", "data", "data `folder` of the board to restore onto")
	if err := set.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return usageError{status: 0}
		}
		return usageError{status: 2}
	}
	if set.NArg() != 1 {
		return usageError{status: 2, msg: "give the backup file: wingnode restore -data DIR FILE"}
	}
	dir := datadir.Dir(*data)
	if _, err := os.Stat(dir.Store()); err == nil {
		return fmt.Errorf("%s already holds a store: move it aside first (nothing was changed)", dir.Store())
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	in, err := os.Open(set.Arg(0))
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		return err
	}
	rep, err := writeChecked(dir.Store(), in, -1)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir.Rebuild()), 0o700); err != nil {
		return err
	}
	if err := datadir.WriteFile(dir.Rebuild(), []byte("restored from a backup: rebuild from the site before recording\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%s: wing %s restored, %d events; at its next start it rebuilds from the site before recording\n", dir.Store(), rep.Wing, rep.Events)
	if _, err := trust.LoadIdentity(dir.Identity()); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.Stdout, "this board has no site identity: run 'wingnode site replace %s' on a running wing of the site, then 'wingnode run -data %s -join-file FILE' with the token it prints\n", rep.Wing, *data)
	}
	return nil
}

func (c Command) siteReplace(ctx context.Context, args []string) error {
	const synopsis = "site replace [-data DIR] [-ttl D] WING"
	set := c.flags("replace", synopsis+"\n\nLets a new board take WING's place: the site refuses WING's old certificate\nfrom then on, takes away its vote until the new board has caught up, and\nlets WING enrol again. Run it on a running wing of the site (not WING); on\nthe wing that holds the site CA it also prints an enrolment token for the\nnew board, which starts with 'wingnode run -join-file FILE -rebuild' (or, after\n'wingnode restore', with -join-file FILE) and rebuilds WING's events from the\nsite before it records, continuing WING's chain.")
	data := set.String("data", "data", "data `folder` of a running wing of the site")
	ttl := set.Duration("ttl", 24*time.Hour, "how long the printed enrolment token stays valid (at most 7 days)")
	wing, err := c.clientArgs(set, args, synopsis)
	if err != nil {
		return err
	}
	if err := proposeCommand(ctx, *data, site.Command{Op: site.OpReplaceWing, By: site.SiteIT, Wing: wing}); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wing %s may enrol again on a new board; its old certificate is refused\n", wing)
	if _, err := trust.LoadAuthority(datadir.Dir(*data).CA()); errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintln(c.Stdout, "issue the new board's enrolment token on the wing that holds the site CA (wingnode site token), or restore the CA's backup here first (wingnode site ca-restore)")
		return nil
	}
	tok, err := member.IssueToken(datadir.Dir(*data), *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "enrolment token for the new board (put it in a file: wingnode run -join-file FILE -rebuild):\n%s\n", tok)
	return nil
}

func (c Command) compact(args []string) error {
	set := c.flags("compact", "compact [-data DIR]\n\nGives back the disk space that retention and raft's log compaction freed:\nrewrites the event store (after checking it as 'wingnode verify' does) and\nraft's log file, each into a compacted copy that replaces it. Stop the\nwing first: a running one holds the files.")
	data := set.String("data", "data", "data `folder` of a stopped wing")
	if err := parse(set, args); err != nil {
		return err
	}
	dir := datadir.Dir(*data)
	if _, err := store.Verify(dir.Store()); err != nil {
		return fmt.Errorf("%w: compact only a store that verifies", err)
	}
	for _, path := range []string{dir.Store(), filepath.Join(dir.Raft(), "raft.db")} {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		before, after, err := store.CompactFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s: %d MB, now %d MB\n", path, before>>20, after>>20)
	}
	if _, err := store.Verify(dir.Store()); err != nil {
		return fmt.Errorf("the compacted store does not verify: %w", err)
	}
	return nil
}
