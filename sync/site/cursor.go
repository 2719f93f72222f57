package site

import (
	"fmt"
	"strconv"
	"strings"
)

// Cursor is a place in the site's commit order: the raft log index of an
// entry and the place of an event within it. The order is the same on
// every wing, so a cursor from one wing is valid on all of them. Its text
// form is "INDEX.N"; the zero Cursor, "", is the start.
type Cursor struct {
	Index uint64
	N     uint32
}

// ParseCursor reads a cursor's text form; "" is the start.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	i, nstr, ok := strings.Cut(s, ".")
	index, err1 := strconv.ParseUint(i, 10, 64)
	n, err2 := strconv.ParseUint(nstr, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return Cursor{}, fmt.Errorf("after: %q is not a cursor; use the next value of the previous page, or nothing to start", s)
	}
	return Cursor{Index: index, N: uint32(n)}, nil
}

// String is the cursor's text form, "INDEX.N".
func (c Cursor) String() string { return fmt.Sprintf("%d.%d", c.Index, c.N) }
