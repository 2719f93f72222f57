package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/event"
)

// mappedKB is how much of the file at path this process holds resident
// through its memory maps, from /proc/self/smaps.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") {
			in = strings.HasSuffix(line, " "+path)
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			total += n
		}
	}
	require.NoError(t, sc.Err())
	return total
}

// What reading the store brings into the process's resident memory goes
// back to the kernel on ReleaseMapped, and the store reads the same after.
func TestReleaseMappedGivesTheReadPagesBack(t *testing.T) {
	s, path := openTemp(t, Options{})
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := range 250 {
				_, err := s.Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: fmt.Sprintf("W%02d", w),
					Actor: event.SystemActor, Data: map[string]string{"note": strings.Repeat("x", 200), "i": strconv.Itoa(i)}})
				if !assert.NoError(t, err) {
					return
				}
			}
		})
	}
	wg.Wait()
	read := func() int {
		n := 0
		require.NoError(t, s.Scan(0, func(event.Record) error { n++; return nil }))
		return n
	}
	require.Equal(t, 8000, read())
	before := mappedKB(t, path)
	require.Greater(t, before, 1024, "reading 8,000 events maps more than 1 MB of the file")

	require.NoError(t, s.ReleaseMapped())
	after := mappedKB(t, path)
	assert.Less(t, after, before/4, "the read pages went back (%d kB resident before, %d after)", before, after)

	assert.Equal(t, 8000, read(), "the store reads the same after")
	_, err := s.Append(context.Background(), door("A1-01", true))
	require.NoError(t, err)
	assert.Equal(t, 8001, read())
}
