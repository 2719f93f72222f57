package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"wingnode/appliance/wingtest"
	"wingnode/sync/export"
	"wingnode/sync/pull"
	"wingnode/sync/pull/pgsink"
)

// centralEvents is the size of the order the central figures read.
const centralEvents = 1_000_000

// counter is a sink that keeps only the state, as a central system that
// verifies and discards would.
type counter struct {
	state  export.State
	events int
}

func (c *counter) State() export.State { return c.state }
func (c *counter) Write(p export.Page, after export.State) error {
	c.events += len(p.Records)
	c.state = after
	return nil
}

// central measures what central systems see of a wing holding 1,000,000
// committed events of three wings: pulling them all over loopback TLS with
// every page verified (binary pages, ECDSA heads, chains), landing them in
// PostgreSQL, and taking a backup of the store.
func central(ctx context.Context, dir string) ([]figure, error) {
	o, err := wingtest.NewOrder(dir)
	if err != nil {
		return nil, err
	}
	defer o.Close()
	wings := []string{"A", "B", "C"}
	for n := 0; n < centralEvents; n += 1000 {
		if err := o.Commit(wings[n/1000%3], 1000); err != nil {
			return nil, err
		}
	}
	srv := httptest.NewUnstartedServer(o.Pull)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{o.ID.ServerCertificate()}}
	srv.StartTLS()
	defer srv.Close()
	client, err := pull.New(pull.Config{Wings: []string{srv.URL}, CA: o.CA, HTTP: pull.NewHTTPClient(o.CA, nil), Wait: -1, Log: quiet})
	if err != nil {
		return nil, err
	}
	var figs []figure

	sink := &counter{}
	start := time.Now()
	if err := client.Follow(ctx, sink, true); err != nil {
		return nil, err
	}
	took := time.Since(start)
	if sink.events != centralEvents {
		return nil, fmt.Errorf("pulled %d events, want %d", sink.events, centralEvents)
	}
	figs = append(figs, figure{"export_events_per_s", float64(centralEvents) / took.Seconds(), "events/s"})

	start = time.Now()
	f, err := os.Create(filepath.Join(dir, "backup.db"))
	if err != nil {
		return nil, err
	}
	if _, err := o.Store.Backup(f, nil); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	figs = append(figs, figure{"backup_1m_events_s", time.Since(start).Seconds(), "s"})

	pgDir, err := os.MkdirTemp("", "wingbench-pg-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(pgDir)
	url, stop, err := wingtest.StartPostgres(pgDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "wingbench: pull_postgres_events_per_s not measured:", err)
		return figs, nil
	}
	defer stop()
	pg, err := pgsink.Open(ctx, url, client.Site())
	if err != nil {
		return nil, err
	}
	defer pg.Close()
	start = time.Now()
	if err := client.Follow(ctx, pg, true); err != nil {
		return nil, err
	}
	figs = append(figs, figure{"pull_postgres_events_per_s", float64(centralEvents) / time.Since(start).Seconds(), "events/s"})
	return figs, nil
}
