package pgsink

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"wingnode/sync/export"
)

// copyHeader opens PostgreSQL's binary COPY format: the signature, no
// flags, no header extension.
var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyEvents is the COPY that the rows of appendRows feed, column for
// column.
const copyEvents = `COPY wingnode_events (site, wing, seq, commit_index, commit_n, kind, subject, actor,
	hlc_wall_ns, hlc_logical, wall, clock_trusted, data, prev, hash, body) FROM STDIN (FORMAT binary)`

// y2k is PostgreSQL's epoch for timestamps.
var y2k = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// appendRows appends the events of records as the binary COPY of
// copyEvents, header and trailer included.
func appendRows(b []byte, site string, records []export.Record) ([]byte, error) {
	b = append(b, copyHeader...)
	for _, r := range records {
		c, err := export.ParseCursor(r.Cursor)
		if err != nil {
			return nil, fmt.Errorf("pgsink: %w", err)
		}
		e := r.Event
		b = binary.BigEndian.AppendUint16(b, 16)
		b = appendText(b, site)
		b = appendText(b, e.Wing)
		b = appendInt64(b, int64(e.Seq))
		b = appendInt64(b, int64(c.Index))
		b = binary.BigEndian.AppendUint32(b, 4)
		b = binary.BigEndian.AppendUint32(b, c.N)
		b = appendText(b, string(e.Kind))
		b = appendText(b, e.Subject)
		b = appendText(b, e.Actor)
		b = appendInt64(b, e.HLC.WallNanos)
		b = appendInt64(b, int64(e.HLC.Logical))
		// timestamptz: microseconds since 2000, as pgx writes a time.Time.
		b = appendInt64(b, (e.Wall.Unix()-y2k)*1_000_000+int64(e.Wall.Nanosecond())/1000)
		b = binary.BigEndian.AppendUint32(b, 1)
		if e.ClockTrusted {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		if len(e.Data) == 0 {
			b = binary.BigEndian.AppendUint32(b, 0xffffffff) // NULL
		} else {
			at := len(b)
			b = append(b, 0, 0, 0, 0, 1) // the length, then jsonb's version
			b = appendJSONObject(b, e.Data)
			binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
		}
		b = appendBytes(b, e.Prev[:])
		b = appendBytes(b, e.Hash[:])
		b = appendBytes(b, r.Body)
	}
	return binary.BigEndian.AppendUint16(b, 0xffff), nil
}

func appendInt64(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendText(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func appendBytes(b, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// appendJSONObject appends m as a JSON object, keys in order.
func appendJSONObject(b []byte, m map[string]string) []byte {
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. An event's strings are
// UTF-8 (its decoding checks); a byte that is not would be written as
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
