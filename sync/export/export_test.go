package export_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// siteOrder is a commit order of a made-up site, served in pages with
// signed heads as a wing would.
type siteOrder struct {
	id      *trust.Identity
	ca      *x509.Certificate
	records []export.Record
	tips    []map[string]export.Tip // tips[i]: after records[i]
}

func newOrder(t testing.TB, perWing map[string]int) *siteOrder {
	t.Helper()
	dir := t.TempDir()
	ca, err := trust.InitSite(filepath.Join(dir, "ca"), "test")
	require.NoError(t, err)
	id, err := trust.NewIdentity(filepath.Join(dir, "id"), "A", ca)
	require.NoError(t, err)
	o := &siteOrder{id: id, ca: ca.Certificate()}
	tag := export.SiteTag(id.SiteID())
	prev := map[string]event.Hash{}
	seq := map[string]uint64{}
	tips := map[string]export.Tip{}
	index := uint64(0)
	for more := true; more; {
		more = false
		for _, w := range []string{"A", "B", "C"} {
			if int(seq[w]) >= perWing[w] {
				continue
			}
			more = true
			index++
			for n := range 3 {
				if int(seq[w]) >= perWing[w] {
					break
				}
				seq[w]++
				e := event.Event{Wing: w, Seq: seq[w], HLC: event.HLC{WallNanos: int64(index)*1e9 + int64(n)}, Wall: time.Unix(int64(index), 0).UTC(),
					Kind: event.DoorOpened, Subject: w + "-DOOR", Actor: event.SystemActor}
				e.Seal(prev[w])
				prev[w] = e.Hash
				tips[w] = export.Tip{Seq: e.Seq, Hash: e.Hash}
				c := export.Cursor{Index: index, N: uint32(n), Site: tag}
				o.records = append(o.records, export.Record{Cursor: c.String(), Event: e, Body: e.Body()})
				snapshot := map[string]export.Tip{}
				for k, v := range tips {
					snapshot[k] = v
				}
				o.tips = append(o.tips, snapshot)
			}
		}
	}
	return o
}

// head signs the head after the first n records.
func (o *siteOrder) head(t testing.TB, n int) export.Head {
	t.Helper()
	at := export.Cursor{Site: export.SiteTag(o.id.SiteID())}
	tips := map[string]export.Tip{}
	if n > 0 {
		at, _ = export.ParseCursor(o.records[n-1].Cursor)
		tips = o.tips[n-1]
	}
	h, err := export.SignHead(o.id.SiteID(), "A", at, tips, time.Now(), o.id.Certificate().Raw, o.id.Sign)
	require.NoError(t, err)
	return h
}

// pages cuts the order into pages of size records, each signed at the
// end of the order as it stood when served: upto records.
func (o *siteOrder) pages(t testing.TB, size, upto int) []export.Page {
	var out []export.Page
	head := o.head(t, upto)
	for i := 0; i < upto; i += size {
		j := min(i+size, upto)
		out = append(out, export.Page{Site: o.id.SiteID(), Records: o.records[i:j], Next: o.records[j-1].Cursor, Head: head})
	}
	return out
}

func verify(o *siteOrder, from export.State, records []export.Record, heads map[int]export.Head) (export.Report, error) {
	v := export.NewVerifier(o.ca, from)
	if h, ok := heads[0]; ok {
		if err := v.Head(h); err != nil {
			return export.Report{}, err
		}
	}
	for i, r := range records {
		if err := v.Record(r); err != nil {
			return export.Report{}, err
		}
		if h, ok := heads[i+1]; ok {
			if err := v.Head(h); err != nil {
				return export.Report{}, err
			}
		}
	}
	return v.Finish()
}

func TestVerifierAcceptsAWholeExport(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 10, "B": 7, "C": 4})
	n := len(o.records)
	rep, err := verify(o, export.State{}, o.records, map[int]export.Head{5: o.head(t, n), n: o.head(t, n)})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Records)
	assert.Equal(t, o.records[n-1].Cursor, rep.Proven)
	assert.Equal(t, uint64(7), rep.Wings["B"].Seq)
}

func TestVerifierNamesTheFirstBadRecord(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 10, "B": 7, "C": 4})
	n := len(o.records)
	end := map[int]export.Head{n: o.head(t, n)}
	problem := func(t *testing.T, records []export.Record, heads map[int]export.Head) *export.Problem {
		t.Helper()
		_, err := verify(o, export.State{}, records, heads)
		var p *export.Problem
		require.ErrorAs(t, err, &p)
		assert.True(t, errors.Is(err, export.ErrBad))
		return p
	}
	t.Run("flipped byte in a body", func(t *testing.T) {
		recs := append([]export.Record{}, o.records...)
		recs[4].Body = bytes.Clone(recs[4].Body)
		recs[4].Body[3] ^= 0x20
		p := problem(t, recs, end)
		assert.Equal(t, 5, p.Record)
		assert.Equal(t, recs[4].Cursor, p.Cursor)
	})
	t.Run("altered field", func(t *testing.T) {
		recs := append([]export.Record{}, o.records...)
		recs[2].Event.Subject = "X"
		p := problem(t, recs, end)
		assert.Equal(t, 3, p.Record)
		assert.Contains(t, p.Reason, "do not say what its body says")
	})
	t.Run("removed record", func(t *testing.T) {
		recs := append(append([]export.Record{}, o.records[:6]...), o.records[7:]...)
		p := problem(t, recs, end)
		assert.Equal(t, 7, p.Record)
		assert.Contains(t, p.Reason, "missing")
	})
	t.Run("removed last record of a wing", func(t *testing.T) {
		// C's last event is not followed by another of C: only the head
		// shows it is gone.
		last := -1
		for i, r := range o.records {
			if r.Event.Wing == "C" {
				last = i
			}
		}
		recs := append(append([]export.Record{}, o.records[:last]...), o.records[last+1:]...)
		p := problem(t, recs, map[int]export.Head{len(recs): o.head(t, n)})
		assert.Contains(t, p.Reason, "wing C's newest committed event here is seq 4")
	})
	t.Run("removed tail", func(t *testing.T) {
		p := problem(t, o.records[:n-4], map[int]export.Head{5: o.head(t, n)})
		assert.Contains(t, p.Reason, "the export ends at "+o.records[n-5].Cursor)
		assert.Contains(t, p.Reason, "missing")
	})
	t.Run("altered head", func(t *testing.T) {
		h := o.head(t, n)
		h.Committed = map[string]export.Tip{"A": h.Committed["A"]}
		p := problem(t, o.records, map[int]export.Head{n: h})
		assert.Contains(t, p.Reason, "do not say what its signed body says")
	})
	t.Run("repeated record", func(t *testing.T) {
		recs := append(append([]export.Record{}, o.records[:3]...), o.records[2:]...)
		p := problem(t, recs, end)
		assert.Equal(t, 4, p.Record)
	})
}

func TestVerifierResumesFromAState(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 6, "B": 6})
	v := export.NewVerifier(o.ca, export.State{})
	for _, r := range o.records[:5] {
		require.NoError(t, v.Record(r))
	}
	rest, err := verify(o, v.State(), o.records[5:], map[int]export.Head{len(o.records) - 5: o.head(t, len(o.records))})
	require.NoError(t, err)
	assert.Equal(t, len(o.records)-5, rest.Records)
}

func TestBinaryPageRoundTrip(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 4, "B": 2})
	p := o.pages(t, 100, len(o.records))[0]
	b, err := export.AppendBinary(nil, p)
	require.NoError(t, err)
	got, err := export.ReadBinary(b)
	require.NoError(t, err)
	assert.Equal(t, p.Next, got.Next)
	require.Len(t, got.Records, len(p.Records))
	for i := range p.Records {
		assert.Equal(t, p.Records[i].Cursor, got.Records[i].Cursor)
		assert.Equal(t, p.Records[i].Event.Hash, got.Records[i].Event.Hash)
	}
	_, err = export.ReadBinary(b[:len(b)-3])
	assert.Error(t, err, "a cut page is refused")
}

// writeDir writes pages into an export folder, rotating every rotate records.
func writeDir(t *testing.T, o *siteOrder, dir string, pages []export.Page, rotate int) {
	t.Helper()
	d, err := export.OpenDir(dir, o.ca, rotate)
	require.NoError(t, err)
	defer d.Close()
	for _, p := range pages {
		v := export.NewVerifier(o.ca, d.State())
		for _, r := range p.Records {
			require.NoError(t, v.Record(r))
		}
		require.NoError(t, d.Write(p, v.State()))
	}
}

func TestDirExportVerifiesAndRejectsTampering(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 30, "B": 20, "C": 10})
	dir := t.TempDir()
	writeDir(t, o, dir, o.pages(t, 7, len(o.records)), 20)
	rep, err := export.VerifyDir(o.ca, dir)
	require.NoError(t, err)
	assert.Equal(t, len(o.records), rep.Records)
	files, _ := filepath.Glob(filepath.Join(dir, "events-*.ndjson"))
	require.GreaterOrEqual(t, len(files), 2, "files rotate")

	// Each complete file verifies alone, from the state it opens with.
	one, err := export.VerifyFile(o.ca, files[1])
	require.NoError(t, err)
	assert.Positive(t, one.Records)

	tamper := func(t *testing.T, change func(lines [][]byte) [][]byte) error {
		t.Helper()
		copyDir := t.TempDir()
		for _, name := range mustList(t, dir) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			if name == filepath.Base(files[0]) {
				lines := bytes.SplitAfter(b, []byte("\n"))
				b = bytes.Join(change(lines), nil)
			}
			require.NoError(t, os.WriteFile(filepath.Join(copyDir, name), b, 0o644))
		}
		_, err := export.VerifyDir(o.ca, copyDir)
		return err
	}
	t.Run("flipped byte", func(t *testing.T) {
		for _, at := range []int{10, 40, 90, 150} {
			err := tamper(t, func(lines [][]byte) [][]byte {
				l := bytes.Clone(lines[3])
				l[at%(len(l)-1)] ^= 0x01
				lines[3] = l
				return lines
			})
			require.Error(t, err, "byte %d of line 4", at)
			assert.Contains(t, err.Error(), filepath.Base(files[0])+":4")
		}
	})
	t.Run("removed record", func(t *testing.T) {
		err := tamper(t, func(lines [][]byte) [][]byte { return append(lines[:5:5], lines[6:]...) })
		require.Error(t, err)
		assert.Contains(t, err.Error(), ":6")
	})
	t.Run("removed tail", func(t *testing.T) {
		// The whole export cut after the first file's records, the later files gone.
		cut := t.TempDir()
		b, err := os.ReadFile(files[0])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(cut, filepath.Base(files[0])), b, 0o644))
		_, err = export.VerifyDir(o.ca, cut)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "records after the end are missing")
	})
}

func mustList(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestDirCutsAPageAKillLeftHalfWritten(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 12, "B": 12})
	pages := o.pages(t, 5, len(o.records))
	dir := t.TempDir()
	writeDir(t, o, dir, pages[:2], 1000)
	// A kill mid-page: lines beyond the cursor.
	part, err := filepath.Glob(filepath.Join(dir, "*.part"))
	require.NoError(t, err)
	require.Len(t, part, 1)
	f, err := os.OpenFile(part[0], os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	line, err := export.RecordLine(pages[2].Records[0])
	require.NoError(t, err)
	_, err = f.Write(line[:len(line)/2])
	require.NoError(t, err)
	f.Close()

	d, err := export.OpenDir(dir, o.ca, 1000)
	require.NoError(t, err)
	assert.Equal(t, pages[1].Next, d.State().Cursor, "the pull resumes after the last page written whole")
	d.Close()
	writeDir(t, o, dir, pages[2:], 1000)
	rep, err := export.VerifyDir(o.ca, dir)
	require.NoError(t, err)
	assert.Equal(t, len(o.records), rep.Records, "every record once")
}

func TestDirRefusesAnotherSite(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 3})
	other := newOrder(t, map[string]int{"A": 3})
	dir := t.TempDir()
	writeDir(t, o, dir, o.pages(t, 3, 3), 10)
	_, err := export.OpenDir(dir, other.ca, 10)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "another folder"), fmt.Sprint(err))
}

func TestVerifierReadsBinaryPagesAndChecksThem(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 20, "B": 12, "C": 5})
	n := len(o.records)
	state := export.State{}
	for _, p := range o.pages(t, 10, n) {
		b, err := export.AppendBinary(nil, p)
		require.NoError(t, err)
		next, err := export.BinaryNext(b)
		require.NoError(t, err)
		assert.Equal(t, p.Next, next)

		v := export.NewVerifier(o.ca, state)
		got, err := v.ReadBinary(b)
		require.NoError(t, err)
		require.Len(t, got.Records, len(p.Records))
		for i, r := range p.Records {
			assert.Equal(t, r, got.Records[i], "each record's event is its body's")
		}
		state = v.State()
		assert.Equal(t, p.Next, state.Cursor)
	}
	assert.Equal(t, uint64(12), state.Wings["B"].Seq)

	page := o.pages(t, 10, n)[1]
	check := func(p export.Page, from export.State) error {
		b, err := export.AppendBinary(nil, p)
		require.NoError(t, err)
		got, err := export.NewVerifier(o.ca, from).ReadBinary(b)
		if err != nil {
			assert.Empty(t, got.Records, "a page that does not verify is not returned")
		}
		return err
	}
	first := export.NewVerifier(o.ca, export.State{})
	require.NoError(t, first.Page(o.pages(t, 10, n)[0]))
	from := first.State()
	require.NoError(t, check(page, from))

	altered := page
	altered.Records = slices.Clone(page.Records)
	altered.Records[3].Body = bytes.Replace(bytes.Clone(page.Records[3].Body), []byte("-DOOR"), []byte("-WALL"), 1)
	err := check(altered, from)
	require.ErrorIs(t, err, export.ErrBad)
	var problem *export.Problem
	require.ErrorAs(t, err, &problem)
	// A binary record's hash is its body's: the altered body breaks the
	// chain at the wing's next event.
	assert.Equal(t, page.Records[4].Cursor, problem.Cursor)
	assert.Equal(t, page.Records[3].Event.Wing, page.Records[4].Event.Wing)

	gap := page
	gap.Records = page.Records[1:]
	assert.ErrorContains(t, check(gap, from), "are missing")

	other := newOrder(t, map[string]int{"A": 1})
	_, err = export.NewVerifier(other.ca, from).ReadBinary(must(export.AppendBinary(nil, page)))
	assert.ErrorContains(t, err, "is of site", "a page of another site")
}

func TestVerifierPageBeginsAtTheFloor(t *testing.T) {
	o := newOrder(t, map[string]int{"A": 9, "B": 9})
	n := len(o.records)
	p := o.pages(t, n, n)[0]
	p.Records = p.Records[6:]
	p.Floor = o.tips[5]
	v := export.NewVerifier(o.ca, export.State{})
	require.NoError(t, v.Page(p), "a page from the start that names a floor chains on from it")
	assert.Equal(t, uint64(9), v.State().Wings["A"].Seq)

	p.Floor = nil
	assert.ErrorContains(t, export.NewVerifier(o.ca, export.State{}).Page(p), "are missing", "without the floor the chains do not begin")

	json := o.pages(t, 10, n)[0]
	json.Records = slices.Clone(json.Records)
	json.Records[2].Event.Subject = "elsewhere"
	assert.ErrorContains(t, export.NewVerifier(o.ca, export.State{}).Page(json), "do not say what its body says")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCursorTextRoundTrip(t *testing.T) {
	for _, c := range []export.Cursor{
		{Index: 1, N: 0, Site: "0123456789abcdef"},
		{Index: 18446744073709551615, N: 4294967295, Site: "0123456789abcdef"},
		{Index: 7, N: 3},
		{Site: "0123456789abcdef"},
	} {
		got, err := export.ParseCursor(c.String())
		require.NoError(t, err, c.String())
		assert.Equal(t, c, got)
	}
	assert.Equal(t, "18446744073709551615.4294967295.0123456789abcdef", export.Cursor{Index: 18446744073709551615, N: 4294967295, Site: "0123456789abcdef"}.String())
	assert.Equal(t, "7.3", export.Cursor{Index: 7, N: 3}.String())
	assert.Empty(t, export.Cursor{}.String(), "the start")
}
