package pgsink_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/appliance/wingtest"
	"wingnode/sync/export"
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
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'wingnode_events' AND column_name IN ('site', 'wing') AND collation_name = 'C'`).Scan(&n))
	assert.Equal(t, 2, n, "the key's ids compare by bytes, not through the locale")
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

func TestSinkStoresEveryColumnAsTheEventSaysIt(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL; skipped in -short")
	}
	url := wingtest.Postgres(t)
	ctx := context.Background()
	site := strings.Repeat("ab", 32)
	tag := export.SiteTag(site)
	var records []export.Record
	prev := event.Hash{}
	for i, e := range []event.Event{
		{Wing: "A", Seq: 1, HLC: event.HLC{WallNanos: 1_780_000_000_123_456_789, Logical: 7}, Wall: time.Unix(1_780_000_000, 123_456_789).UTC(), ClockTrusted: true,
			Kind: event.AlarmRaised, Subject: "A1-01-CALL", Actor: event.SystemActor,
			Data: map[string]string{"quote": `say "hi"\now`, "ctl": "bell\x07tab\tnl\n", "unicode": "Zelle 7 – Süd ✓", "": "empty key"}},
		{Wing: "A", Seq: 2, HLC: event.HLC{WallNanos: -5}, Wall: time.Date(1999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
			Kind: event.DoorOpened, Subject: "A1-02", Actor: "officer-1"},
	} {
		e.Seal(prev)
		prev = e.Hash
		records = append(records, export.Record{Cursor: export.Cursor{Index: uint64(10 + i), N: uint32(i), Site: tag}.String(), Event: e, Body: e.Body()})
	}
	s, err := pgsink.Open(ctx, url, site)
	require.NoError(t, err)
	defer s.Close()
	after := export.State{Site: site, Cursor: records[1].Cursor, Wings: map[string]export.Tip{"A": {Seq: 2, Hash: prev}}}
	require.NoError(t, s.Write(export.Page{Site: site, Records: records, Next: records[1].Cursor}, after))

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT site, wing, seq, commit_index, commit_n, kind, subject, actor, hlc_wall_ns, hlc_logical,
		wall, clock_trusted, data::text, prev, hash, body FROM wingnode_events ORDER BY seq`)
	require.NoError(t, err)
	i := 0
	for ; rows.Next(); i++ {
		var (
			gotSite, wing, kind, subject, actor string
			seq, index, wallNs, logical         int64
			n                                   int32
			wall                                time.Time
			trusted                             bool
			data                                *string
			prevHash, hash, body                []byte
		)
		require.NoError(t, rows.Scan(&gotSite, &wing, &seq, &index, &n, &kind, &subject, &actor, &wallNs, &logical, &wall, &trusted, &data, &prevHash, &hash, &body))
		e := records[i].Event
		assert.Equal(t, site, gotSite)
		assert.Equal(t, e.Wing, wing)
		assert.EqualValues(t, e.Seq, seq)
		assert.EqualValues(t, 10+i, index)
		assert.EqualValues(t, i, n)
		assert.Equal(t, string(e.Kind), kind)
		assert.Equal(t, e.Subject, subject)
		assert.Equal(t, e.Actor, actor)
		assert.Equal(t, e.HLC.WallNanos, wallNs)
		assert.EqualValues(t, e.HLC.Logical, logical)
		assert.True(t, e.Wall.Truncate(time.Microsecond).Equal(wall), "wall %s, stored %s: to the microsecond", e.Wall, wall)
		assert.Equal(t, e.ClockTrusted, trusted)
		if len(e.Data) == 0 {
			assert.Nil(t, data, "no data is NULL")
		} else {
			require.NotNil(t, data)
			var m map[string]string
			require.NoError(t, json.Unmarshal([]byte(*data), &m))
			assert.Equal(t, e.Data, m)
		}
		assert.Equal(t, e.Prev[:], prevHash)
		assert.Equal(t, e.Hash[:], hash)
		assert.Equal(t, records[i].Body, body)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, i)
}
