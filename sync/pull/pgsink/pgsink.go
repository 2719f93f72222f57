// Package pgsink lands a site's events in PostgreSQL for `wingnode pull
// --to postgres://...`: each page's events and the pull's cursor are
// written in one transaction, so a pull killed at any point resumes from
// exactly the events the database holds, and none is lost or repeated.
// The schema is in Schema and docs/central.md.
package pgsink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"wingnode/sync/export"
)

// Schema creates the sink's tables if they are missing. Events are keyed
// by (site, wing, seq), so the database itself refuses a repeat; site and
// wing are ids, compared by bytes rather than through the database's
// locale, which would make indexing each event much slower. The pull's
// state (cursor and each wing's newest event) sits in
// wingnode_pull, one row per site, written in the same transaction as the
// events it covers.
const Schema = `
CREATE TABLE IF NOT EXISTS wingnode_events (
	site          text        COLLATE "C" NOT NULL,
	wing          text        COLLATE "C" NOT NULL,
	seq           bigint      NOT NULL,
	commit_index  bigint      NOT NULL,
	commit_n      integer     NOT NULL,
	kind          text        NOT NULL,
	subject       text        NOT NULL,
	actor         text        NOT NULL,
	hlc_wall_ns   bigint      NOT NULL,
	hlc_logical   bigint      NOT NULL,
	wall          timestamptz NOT NULL,
	clock_trusted boolean     NOT NULL,
	data          jsonb,
	prev          bytea       NOT NULL,
	hash          bytea       NOT NULL,
	body          bytea       NOT NULL,
	PRIMARY KEY (site, wing, seq)
);
CREATE TABLE IF NOT EXISTS wingnode_pull (
	site    text        PRIMARY KEY,
	state   jsonb       NOT NULL,
	head    jsonb,
	updated timestamptz NOT NULL DEFAULT now()
);`

// Sink writes pages into PostgreSQL.
type Sink struct {
	conn  *pgx.Conn
	site  string
	state export.State
	buf   []byte // the COPY of the last page, kept for the next
}

// Open connects to the database at url (postgres://...), creates the
// tables when missing and reads where the pull of site stands.
func Open(ctx context.Context, url, site string) (*Sink, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("pgsink: connect: %w: check the URL, and that the server runs and takes this user", err)
	}
	if _, err := conn.Exec(ctx, Schema); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("pgsink: create the tables: %w: the user needs CREATE on the database, or create them first (docs/central.md)", err)
	}
	s := &Sink{conn: conn, site: site, state: export.State{Site: site}}
	var state []byte
	switch err := conn.QueryRow(ctx, `SELECT state FROM wingnode_pull WHERE site = $1`, site).Scan(&state); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		conn.Close(ctx)
		return nil, fmt.Errorf("pgsink: read the pull's state: %w", err)
	default:
		if err := json.Unmarshal(state, &s.state); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("pgsink: the pull's state of site %s is unreadable: %w: delete its wingnode_pull row and its events to pull again", site, err)
		}
	}
	return s, nil
}

// State is where the pull stands.
func (s *Sink) State() export.State { return s.state.Clone() }

// Write stores a page's events and the state after it in one
// transaction.
func (s *Sink) Write(p export.Page, after export.State) error {
	if len(p.Records) == 0 && after.Cursor == s.state.Cursor {
		return nil // an idle poll: nothing to keep
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	state, err := json.Marshal(after)
	if err != nil {
		return fmt.Errorf("pgsink: %w", err)
	}
	head, err := json.Marshal(p.Head)
	if err != nil {
		return fmt.Errorf("pgsink: %w", err)
	}
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgsink: begin: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, does nothing
	if len(p.Records) > 0 {
		rows, err := appendRows(s.buf[:0], s.site, p.Records)
		if err != nil {
			return err
		}
		s.buf = rows
		if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(rows), copyEvents); err != nil {
			return fmt.Errorf("pgsink: store %d events: %w", len(p.Records), err)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO wingnode_pull (site, state, head, updated) VALUES ($1, $2, $3, now())
		ON CONFLICT (site) DO UPDATE SET state = EXCLUDED.state, head = EXCLUDED.head, updated = now()`, s.site, state, head); err != nil {
		return fmt.Errorf("pgsink: store the cursor: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgsink: commit: %w", err)
	}
	s.state = after.Clone()
	return nil
}

// Close ends the connection.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.conn.Close(ctx)
}
