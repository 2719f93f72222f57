package command

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/wingtest"
	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// envArgs, when set, makes the test binary run the command line it holds
// (JSON) and exit: the tests kill such a child at random points.
const envArgs = "WINGNODE_TEST_COMMAND_ARGS"

func TestMain(m *testing.M) {
	if v := os.Getenv(envArgs); v != "" {
		var args []string
		if err := json.Unmarshal([]byte(v), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(Command{Args: args, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}.Execute(context.Background()))
	}
	os.Exit(m.Run())
}

// child starts the command line in a child process.
func child(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	b, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envArgs+"="+string(b))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

func writeCA(t *testing.T, o *wingtest.Order) string {
	path := filepath.Join(t.TempDir(), "site-ca.crt")
	require.NoError(t, os.WriteFile(path, trust.CertificatePEM(o.CA), 0o644))
	return path
}

func TestPullIntoAFolderAndVerifyExport(t *testing.T) {
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 250)
	o.MustCommit(t, "B", 120)
	ca := writeCA(t, o)
	dir := filepath.Join(t.TempDir(), "export")
	status, out, errs := execute("pull", "-from", o.URL, "-ca", ca, "-to", dir, "-once", "-limit", "100", "-rotate", "150")
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "A 1..250, B 1..120")
	status, out, errs = execute("verify-export", dir)
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "370 records")
	assert.Contains(t, out, "complete up to")

	files, _ := filepath.Glob(filepath.Join(dir, "events-*.ndjson"))
	require.Len(t, files, 2)
	status, out, errs = execute("verify-export", "-ca", ca, files[1])
	require.Equal(t, 0, status, errs)
	assert.Contains(t, out, "as the file's first line says")

	// Copies with a flipped byte, a removed record and a removed tail are refused,
	// naming the first bad record.
	cases := map[string]func(lines []string) []string{
		"flipped byte": func(l []string) []string {
			b := []byte(l[40])
			b[len(b)/2] ^= 0x04
			l[40] = string(b)
			return l
		},
		"removed record": func(l []string) []string { return append(l[:40:40], l[41:]...) },
		"removed tail":   func(l []string) []string { return l[:len(l)-30] },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			copyDir := t.TempDir()
			for _, f := range []string{files[0], files[1], filepath.Join(dir, export.CAFile)} {
				b, err := os.ReadFile(f)
				require.NoError(t, err)
				if f == files[1] {
					lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
					b = []byte(strings.Join(change(lines), "\n") + "\n")
				}
				require.NoError(t, os.WriteFile(filepath.Join(copyDir, filepath.Base(f)), b, 0o644))
			}
			status, _, errs := execute("verify-export", "-ca", ca, copyDir)
			assert.Equal(t, 1, status)
			if name != "removed tail" {
				assert.Contains(t, errs, filepath.Base(files[1])+":41: record ", "the first bad line is named")
			} else {
				assert.Contains(t, errs, "the records after the end are missing")
			}
		})
	}
}

// TestPullExactlyOnceAcrossKills kills `wingnode pull` at random points
// while the site commits, then lets it finish, and checks that the sink
// holds every committed event exactly once: into a folder, and into a
// real PostgreSQL server.
func TestPullExactlyOnceAcrossKills(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes (and PostgreSQL); skipped in -short")
	}
	for _, sink := range []string{"dir", "postgres"} {
		t.Run(sink, func(t *testing.T) {
			o := wingtest.StartOrder(t)
			ca := writeCA(t, o)
			to := filepath.Join(t.TempDir(), "export")
			if sink == "postgres" {
				to = wingtest.Postgres(t)
			}
			wings := []string{"A", "B", "C"}
			for _, w := range wings {
				o.MustCommit(t, w, 3000)
			}
			seed := time.Now().UnixNano()
			rng := rand.New(rand.NewPCG(uint64(seed), 1))
			t.Logf("seed %d", seed)
			args := []string{"pull", "-from", o.URL, "-ca", ca, "-to", to, "-limit", "97", "-wait", "1s"}
			for kill := range 8 {
				cmd := child(t, args...)
				time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
				o.MustCommit(t, wings[kill%3], 200+rng.IntN(400))
				time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
				require.NoError(t, cmd.Process.Kill())
				cmd.Wait()
			}
			cmd := child(t, append(args, "-once")...)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "the last pull finishes: %s", cmd.Stdout)
			case <-time.After(2 * time.Minute):
				t.Fatal("the last pull did not catch up within 2 minutes")
			}
			want := map[string]uint64{}
			for _, w := range wings {
				want[w] = uint64(len(o.Chain(w)))
			}
			if sink == "dir" {
				rep, err := export.VerifyDir(o.CA, to)
				require.NoError(t, err)
				for _, w := range wings {
					assert.Equal(t, want[w], rep.Wings[w].Seq, "wing %s", w)
				}
				total := 0
				for _, n := range want {
					total += int(n)
				}
				assert.Equal(t, total, rep.Records, "every event exactly once")
				return
			}
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, to)
			require.NoError(t, err)
			defer conn.Close(ctx)
			for _, w := range wings {
				var n, maxSeq uint64
				var hashOK bool
				require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), max(seq), bool_and(length(hash) = 32) FROM wingnode_events WHERE wing = $1`, w).Scan(&n, &maxSeq, &hashOK))
				assert.Equal(t, want[w], n, "wing %s: every event once", w)
				assert.Equal(t, want[w], maxSeq, "wing %s: up to its newest", w)
				assert.True(t, hashOK)
			}
			var state []byte
			require.NoError(t, conn.QueryRow(ctx, `SELECT state FROM wingnode_pull`).Scan(&state))
			var st export.State
			require.NoError(t, json.Unmarshal(state, &st))
			assert.Equal(t, want["C"], st.Wings["C"].Seq, "the cursor stored with the rows")
		})
	}
}
