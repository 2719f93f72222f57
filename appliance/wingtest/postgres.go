package wingtest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// ErrNoPostgres: Debian's postgresql package is not installed.
var ErrNoPostgres = errors.New("wingtest: PostgreSQL's server is not installed (no /usr/lib/postgresql/*/bin/initdb): run 'make deps' as root, or apt-get install postgresql")

// postgresBin returns the folder of the newest installed PostgreSQL's
// programs.
func postgresBin() (string, error) {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", ErrNoPostgres
	}
	sort.Strings(found)
	return filepath.Dir(found[len(found)-1]), nil
}

// StartPostgres starts a throw-away PostgreSQL server in dir on a free
// loopback port, with trust authentication for user "wing", and returns
// its URL (database postgres) and how to stop it. As root it runs the
// server as the postgres user, which PostgreSQL requires.
func StartPostgres(dir string) (url string, stop func() error, err error) {
	bin, err := postgresBin()
	if err != nil {
		return "", nil, err
	}
	run := func(args ...string) *exec.Cmd { return exec.Command(args[0], args[1:]...) }
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return "", nil, fmt.Errorf("wingtest: running as root, PostgreSQL needs the postgres user: %w", err)
		}
		if out, err := exec.Command("chown", "-R", pg.Username, dir).CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("wingtest: chown %s: %w: %s", dir, err, out)
		}
		run = func(args ...string) *exec.Cmd {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "wing", "--no-sync").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("wingtest: initdb: %w: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	opts := fmt.Sprintf("-k %s -c listen_addresses=127.0.0.1 -p %d -c fsync=on", dir, port)
	if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		return "", nil, fmt.Errorf("wingtest: pg_ctl start: %w: %s %s", err, out, strings.TrimSpace(string(log)))
	}
	stop = func() error {
		if out, err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
			return fmt.Errorf("wingtest: pg_ctl stop: %w: %s", err, out)
		}
		return nil
	}
	return fmt.Sprintf("postgres://wing@127.0.0.1:%d/postgres?sslmode=disable", port), stop, nil
}

// Postgres starts a PostgreSQL server for the test and returns its URL;
// it stops when the test ends. Without the server installed the test is
// skipped, or fails under CI=true.
func Postgres(t testing.TB) string {
	t.Helper()
	if _, err := postgresBin(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	dir, err := os.MkdirTemp("", "wingtest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	url, stop, err := StartPostgres(dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
		os.RemoveAll(dir)
	})
	return url
}
