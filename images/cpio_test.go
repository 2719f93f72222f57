package images

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one entry of a newc archive, as readCPIO decodes it.
type cpioEntry struct {
	name         string
	mode         uint32
	rmajor, rmin uint32
	data         string
}

// readCPIO decodes a newc archive up to its trailer, checking the magic
// and the 4-byte alignment of every header and data block.
func readCPIO(b []byte) ([]cpioEntry, error) {
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 || off+110 > len(b) {
			return nil, fmt.Errorf("header at %d: misaligned or truncated", off)
		}
		h := string(b[off : off+110])
		if h[:6] != "070701" {
			return nil, fmt.Errorf("header at %d: magic %q", off, h[:6])
		}
		field := func(i int) uint32 {
			v, _ := strconv.ParseUint(h[6+8*i:14+8*i], 16, 32)
			return uint32(v)
		}
		size, nameSize := int(field(6)), int(field(11))
		name := string(b[off+110 : off+110+nameSize-1])
		if b[off+110+nameSize-1] != 0 {
			return nil, fmt.Errorf("%s: name not NUL-terminated", name)
		}
		off = (off + 110 + nameSize + 3) &^ 3
		if name == "TRAILER!!!" {
			if off != len(b) {
				return nil, fmt.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out, nil
		}
		out = append(out, cpioEntry{name, field(1), field(9), field(10), string(b[off : off+size])})
		off = (off + size + 3) &^ 3
	}
}

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	a := newCPIOWriter(&buf)
	a.dir("dev", 0o755)
	a.charDev("dev/console", 0o600, 5, 1)
	for _, data := range []string{"", "a", "ab", "abc", "abcd", "abcde"} {
		a.file("f"+strconv.Itoa(len(data)), 0o644, int64(len(data)), strings.NewReader(data))
	}
	if err := a.close(); err != nil {
		t.Fatal(err)
	}
	// The first header, field by field: ino 1, mode 040755, uid, gid,
	// nlink 2, mtime, size, devmajor, devminor, rdevmajor, rdevminor,
	// name size 4, check.
	wantHdr := "070701" + "00000001" + "000041ed" + "00000000" + "00000000" + "00000002" + "00000000" + "00000000" +
		"00000000" + "00000000" + "00000000" + "00000000" + "00000004" + "00000000" + "dev\x00"
	if got := buf.String()[:len(wantHdr)]; got != wantHdr {
		t.Errorf("first header\n got %q\nwant %q", got, wantHdr)
	}
	got, err := readCPIO(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want := []cpioEntry{
		{name: "dev", mode: 0o40755},
		{name: "dev/console", mode: 0o20600, rmajor: 5, rmin: 1},
		{name: "f0", mode: 0o100644},
		{name: "f1", mode: 0o100644, data: "a"},
		{name: "f2", mode: 0o100644, data: "ab"},
		{name: "f3", mode: 0o100644, data: "abc"},
		{name: "f4", mode: 0o100644, data: "abcd"},
		{name: "f5", mode: 0o100644, data: "abcde"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("archive holds\n%v\nwant\n%v", got, want)
	}
}

func TestCPIOWriterShortReader(t *testing.T) {
	a := newCPIOWriter(&bytes.Buffer{})
	err := a.file("f", 0o644, 10, strings.NewReader("short"))
	if err == nil || !strings.Contains(err.Error(), "wrote 5 of 10 bytes") {
		t.Fatalf("file with a short reader: %v, want a short-write error", err)
	}
	if a.close() != err {
		t.Errorf("close did not return the first error")
	}
}
