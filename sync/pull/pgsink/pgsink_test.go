package pgsink_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/wingtest"
	"wingnode/sync/pull"
	"wingnode/sync/pull/pgsink"
)

func TestSinkLandsEventsWithTheCursor(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped in -short")
	}
	url := wingtest.Postgres(t)
	o := wingtest.StartOrder(t)
	o.MustCommit(t, "A", 1500)
	o.MustCommit(t, "B", 10)
	ctx := context.Background()
	c, err := pull.New(pull.Config{Wings: []string{o.URL}, CA: o.CA, Wait: -1, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)

	s, err := pgsink.Open(ctx, url, c.Site())
	require.NoError(t, err)
	require.NoError(t, c.Follow(ctx, s, true))
	require.NoError(t, s.Close())

	o.MustCommit(t, "B", 5)
	s, err = pgsink.Open(ctx, url, c.Site())
	require.NoError(t, err)
	assert.Equal(t, uint64(10), s.State().Wings["B"].Seq, "the cursor is read back")
	require.NoError(t, c.Follow(ctx, s, true))
	require.NoError(t, s.Close())

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var n int
	var kind, data string
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM wingnode_events`).Scan(&n))
	assert.Equal(t, 1515, n)
	require.NoError(t, conn.QueryRow(ctx, `SELECT kind, data->>'n' FROM wingnode_events WHERE wing = 'B' AND seq = 15`).Scan(&kind, &data))
	assert.Equal(t, "alarm.raised", kind)
	assert.Equal(t, "15", data)
	var body, hash []byte
	require.NoError(t, conn.QueryRow(ctx, `SELECT body, hash FROM wingnode_events WHERE wing = 'A' AND seq = 1500`).Scan(&body, &hash))
	want := o.Chain("A")[1499]
	assert.Equal(t, want.Body(), body)
	assert.Equal(t, want.Hash[:], hash)
}
