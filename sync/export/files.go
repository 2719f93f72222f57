package export

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"wingnode/appliance/datadir"
	"wingnode/sync/trust"
)

// An export file is NDJSON, one JSON object a line, as `wingnode pull`
// writes it:
//
//	{"start":{"site":…,"cursor":…,"wings":{…}}}   first line: where the file begins
//	{"cursor":…,"event":{…},"body":…}              a record, as in a page
//	{"head":{…}}                                   a signed head, after its page's records
//
// Every line is in the form this package writes (compact, fields in
// order), so that a changed byte anywhere is found: a line that decodes
// but would not be written so is refused.

// line is any line of an export file: a start, a head, or else a record.
type line struct {
	Start *State `json:"start,omitempty"`
	Head  *Head  `json:"head,omitempty"`
}

// StartLine is the first line of a file that begins at s.
func StartLine(s State) ([]byte, error) {
	return marshalLine(struct {
		Start State `json:"start"`
	}{s})
}

// RecordLine is the line of a record.
func RecordLine(r Record) ([]byte, error) { return marshalLine(r) }

// HeadLine is the line of a signed head.
func HeadLine(h Head) ([]byte, error) {
	return marshalLine(struct {
		Head Head `json:"head"`
	}{h})
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return append(b, '\n'), nil
}

// Names in an export folder.
const (
	filePrefix = "events-"
	fileSuffix = ".ndjson"
	partSuffix = ".part" // after fileSuffix: the file being written
	// CursorFile is beside the files: where the pull stands.
	CursorFile = "cursor.json"
	// CAFile is a copy of the site CA certificate the pull trusted.
	CAFile = "site-ca.crt"
)

func fileName(n int) string { return fmt.Sprintf("%s%06d%s", filePrefix, n, fileSuffix) }

// VerifyFile checks one export file on its own, against the site CA
// certificate ca: from the state its first line gives, which the file
// alone cannot prove (VerifyDir proves it from the start).
func VerifyFile(ca *x509.Certificate, path string) (Report, error) {
	var v *Verifier
	err := readFile(path, -1, func(s State) error {
		v = NewVerifier(ca, s)
		return nil
	}, func() *Verifier { return v })
	if err != nil {
		return Report{}, err
	}
	return v.Finish()
}

// VerifyDir checks a folder written by `wingnode pull --to DIR` against
// the site CA certificate ca: every file in order from the first, each
// beginning where the one before it ended, the file being written up to
// what the cursor beside it says was written whole.
func VerifyDir(ca *x509.Certificate, dir string) (Report, error) {
	files, part, err := listFiles(dir)
	if err != nil {
		return Report{}, err
	}
	limit := int64(-1)
	if part != "" {
		c, err := readCursorFile(dir)
		if err != nil {
			return Report{}, err
		}
		limit = c.Offset
	}
	first := part
	if len(files) > 0 {
		first = files[0]
	}
	if first != "" && !strings.HasPrefix(filepath.Base(first), fileName(1)) {
		return Report{}, &Problem{Where: first, Reason: fmt.Sprintf("the export's first file, %s, is missing", fileName(1))}
	}
	var v *Verifier
	check := func(s State) error {
		if v == nil {
			// The first file begins at the start, or at the retention floor.
			v = NewVerifier(ca, s)
			return nil
		}
		if s.Cursor != v.state.Cursor || !tipsEqual(s.Wings, v.state.Wings) || s.Filtered != v.state.Filtered {
			return fmt.Errorf("the file begins at %q, but the files before it end at %q (a file is missing or out of place)", s.Cursor, v.state.Cursor)
		}
		return nil
	}
	for _, f := range files {
		if err := readFile(f, -1, check, func() *Verifier { return v }); err != nil {
			return Report{}, err
		}
	}
	if part != "" && limit != 0 {
		if err := readFile(part, limit, check, func() *Verifier { return v }); err != nil {
			return Report{}, err
		}
	}
	if v == nil {
		return Report{}, fmt.Errorf("export: %s holds no export files (%s*%s): point at a folder written by 'wingnode pull --to DIR'", dir, filePrefix, fileSuffix)
	}
	return v.Finish()
}

// listFiles returns the complete files of a folder in order, and the file
// being written ("" if none).
func listFiles(dir string) (files []string, part string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, "", fmt.Errorf("export: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case !strings.HasPrefix(name, filePrefix):
		case strings.HasSuffix(name, fileSuffix):
			files = append(files, filepath.Join(dir, name))
		case strings.HasSuffix(name, fileSuffix+partSuffix):
			if part != "" {
				return nil, "", fmt.Errorf("export: %s holds two files being written (%s and %s): keep the newer", dir, part, name)
			}
			part = filepath.Join(dir, name)
		}
	}
	slices.Sort(files)
	return files, part, nil
}

// readFile reads an export file up to limit bytes (all of it when
// negative): start gets its first line, then each record and head goes to
// the verifier verifier returns. Problems name the file and line.
func readFile(path string, limit int64, start func(State) error, verifier func() *Verifier) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	var r io.Reader = f
	if limit >= 0 {
		r = io.LimitReader(f, limit)
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	where := func() string { return fmt.Sprintf("%s:%d", path, n) }
	bad := func(err error) error {
		var p *Problem
		if errors.As(err, &p) {
			p.Where = where()
			return p
		}
		rec := 0
		if v := verifier(); v != nil {
			rec = v.rep.Records + 1
		}
		return &Problem{Where: where(), Record: rec, Reason: err.Error()}
	}
	for sc.Scan() {
		n++
		text := sc.Bytes()
		var l line
		if err := json.Unmarshal(text, &l); err != nil {
			return bad(fmt.Errorf("not a JSON line of an export: %v", err))
		}
		var canonical []byte
		switch {
		case n == 1:
			if l.Start == nil {
				return bad(errors.New("the first line of an export file is its start"))
			}
			if err := start(*l.Start); err != nil {
				return bad(err)
			}
			canonical, err = StartLine(*l.Start)
		case l.Start != nil:
			return bad(errors.New("a start line in the middle of a file"))
		case l.Head != nil:
			if err := verifier().Head(*l.Head); err != nil {
				return bad(err)
			}
			canonical, err = HeadLine(*l.Head)
		default:
			var rec Record
			if err := json.Unmarshal(text, &rec); err != nil {
				return bad(fmt.Errorf("not a record: %v", err))
			}
			if err := verifier().Record(rec); err != nil {
				return bad(err)
			}
			canonical, err = RecordLine(rec)
		}
		if err != nil {
			return bad(err)
		}
		if !bytes.Equal(canonical[:len(canonical)-1], text) {
			return bad(errors.New("the line is not as the pull wrote it (a byte was changed)"))
		}
	}
	if err := sc.Err(); err != nil {
		return bad(fmt.Errorf("read: %v", err))
	}
	if n == 0 {
		return bad(errors.New("the file is empty: an export file begins with its start line"))
	}
	return nil
}

func tipsEqual(a, b map[string]Tip) bool {
	if len(a) != len(b) {
		return false
	}
	for w, t := range a {
		if b[w] != t {
			return false
		}
	}
	return true
}

// dirCursor is the cursor file beside an export's files.
type dirCursor struct {
	State
	// File is the number of the file being written and Offset how much
	// of it is written whole; Records counts its records.
	File    int   `json:"file"`
	Offset  int64 `json:"offset"`
	Records int   `json:"records"`
	// HeadAt is the place of the last head written, so that an idle
	// pull does not write the same head again and again.
	HeadAt string `json:"head_at,omitempty"`
}

func readCursorFile(dir string) (dirCursor, error) {
	var c dirCursor
	b, err := os.ReadFile(filepath.Join(dir, CursorFile))
	if err != nil {
		return c, fmt.Errorf("export: the cursor beside the files: %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("export: %s: %w: the cursor is damaged; move the folder aside and pull again", filepath.Join(dir, CursorFile), err)
	}
	return c, nil
}

// Dir writes an export into a folder: numbered NDJSON files of up to a
// number of records each, the one being written named ….part, and the
// cursor beside them. A page is written whole or not at all: its lines
// are appended and synced, then the cursor moves past them in one atomic
// file write; on opening, whatever lies beyond the cursor (a page cut off
// by a kill) is cut away. So the folder holds every record once, in
// order, across kills. A full file is renamed to its final name, so a
// reader of the folder never sees half a file under that name.
// Its methods may be called from several goroutines.
type Dir struct {
	path   string
	rotate int
	mu     sync.Mutex // guards f and cur
	f      *os.File
	cur    dirCursor
}

// OpenDir opens or creates an export folder for site (whose CA
// certificate ca is copied beside the files as CAFile), rotating files
// every rotate records.
func OpenDir(path string, ca *x509.Certificate, rotate int) (*Dir, error) {
	if rotate <= 0 {
		rotate = 100_000
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	site := trust.SiteID(ca)
	caPath := filepath.Join(path, CAFile)
	switch held, err := trust.ReadCA(caPath); {
	case err == nil && trust.SiteID(held) != site:
		return nil, fmt.Errorf("export: %s holds the export of site %s, not of %s: pull into another folder", path, trust.SiteID(held), site)
	case errors.Is(err, os.ErrNotExist):
		if err := datadir.WriteFile(caPath, trust.CertificatePEM(ca), 0o644); err != nil {
			return nil, fmt.Errorf("export: %w", err)
		}
	case err != nil:
		return nil, err
	}
	d := &Dir{path: path, rotate: rotate}
	switch c, err := readCursorFile(path); {
	case err == nil:
		d.cur = c
	case errors.Is(err, os.ErrNotExist):
		d.cur = dirCursor{State: State{Site: site}, File: 1}
	default:
		return nil, err
	}
	if d.cur.Site != site {
		return nil, fmt.Errorf("export: %s holds the export of site %s, not of %s: pull into another folder", path, d.cur.Site, site)
	}
	if err := d.recover(); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Dir) partPath() string { return filepath.Join(d.path, fileName(d.cur.File)+partSuffix) }

// recover opens the file being written, cutting away what lies beyond the
// cursor; it finishes a rotation a kill interrupted.
func (d *Dir) recover() error {
	part := d.partPath()
	fi, err := os.Stat(part)
	if errors.Is(err, os.ErrNotExist) && d.cur.Offset > 0 {
		// Killed between renaming the full file and moving the cursor on.
		done, err := os.Stat(filepath.Join(d.path, fileName(d.cur.File)))
		if err != nil || done.Size() != d.cur.Offset {
			return fmt.Errorf("export: %s is missing, or not the size the cursor says (%d bytes): the folder was changed; move it aside and pull again", part, d.cur.Offset)
		}
		d.cur.File, d.cur.Offset, d.cur.Records = d.cur.File+1, 0, 0
		if err := d.saveCursor(); err != nil {
			return err
		}
		part = d.partPath()
	} else if err == nil && fi.Size() < d.cur.Offset {
		return fmt.Errorf("export: %s is %d bytes but the cursor says %d were written: the folder was changed; move it aside and pull again", part, fi.Size(), d.cur.Offset)
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := f.Truncate(d.cur.Offset); err != nil {
		f.Close()
		return fmt.Errorf("export: cut %s back to its cursor: %w", part, err)
	}
	if _, err := f.Seek(d.cur.Offset, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("export: %w", err)
	}
	d.f = f
	return nil
}

// Path is the export's folder.
func (d *Dir) Path() string { return d.path }

// State is where the export stands: the cursor to pull after, and each
// wing's newest event in it.
func (d *Dir) State() State {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cur.State.Clone()
}

// Write appends a page's records, and its head when it is at a new place,
// and moves the cursor to after, the verified state after the page.
func (d *Dir) Write(p Page, after State) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var buf []byte
	if d.cur.Offset == 0 {
		start := d.cur.State
		if start.Cursor == "" && len(start.Wings) == 0 && len(p.Floor) > 0 {
			start.Wings = p.Floor // the export begins at the retention floor
		}
		l, err := StartLine(start)
		if err != nil {
			return err
		}
		buf = l
	}
	for _, r := range p.Records {
		l, err := RecordLine(r)
		if err != nil {
			return err
		}
		buf = append(buf, l...)
	}
	headAt := d.cur.HeadAt
	if p.Head.At != d.cur.HeadAt {
		l, err := HeadLine(p.Head)
		if err != nil {
			return err
		}
		buf, headAt = append(buf, l...), p.Head.At
	}
	if len(p.Records) == 0 && headAt == d.cur.HeadAt {
		return nil
	}
	if _, err := d.f.Write(buf); err != nil {
		return fmt.Errorf("export: write %s: %w", d.partPath(), err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("export: sync %s: %w", d.partPath(), err)
	}
	next := d.cur
	next.State = after.Clone()
	next.Site = d.cur.Site
	next.Offset += int64(len(buf))
	next.Records += len(p.Records)
	next.HeadAt = headAt
	prev := d.cur
	d.cur = next
	if err := d.saveCursor(); err != nil {
		d.cur = prev
		return err
	}
	if d.cur.Records >= d.rotate {
		return d.rotateFile()
	}
	return nil
}

// rotateFile gives the full file its final name and starts the next.
func (d *Dir) rotateFile() error {
	part := d.partPath()
	if err := d.f.Close(); err != nil {
		return fmt.Errorf("export: close %s: %w", part, err)
	}
	d.f = nil
	if err := os.Rename(part, filepath.Join(d.path, fileName(d.cur.File))); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if dir, err := os.Open(d.path); err == nil {
		_ = dir.Sync() // not every file system syncs a folder; the cursor file's write syncs it again
		dir.Close()
	}
	d.cur.File, d.cur.Offset, d.cur.Records = d.cur.File+1, 0, 0
	if err := d.saveCursor(); err != nil {
		return err
	}
	return d.recover()
}

func (d *Dir) saveCursor() error {
	b, err := json.MarshalIndent(d.cur, "", "  ")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := datadir.WriteFile(filepath.Join(d.path, CursorFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("export: save the cursor: %w", err)
	}
	return nil
}

// Close closes the file being written; everything written is kept.
func (d *Dir) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}
