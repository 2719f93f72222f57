package store

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeWithCheckpoint makes a closed store of 200 events whose state
// checkpoint holds a recognisable marker, and returns its path.
func storeWithCheckpoint(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wing.db")
	s, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	appendEvents(t, s, 200)
	require.NoError(t, s.SaveCheckpoint(150, []byte(`{"checkpoint-marker":"0123456789"}`)))
	require.NoError(t, s.Close())
	return path
}

func flip(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	b[at] ^= 0x01
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

func TestVerifyFindsAFlippedByteInTheCheckpoint(t *testing.T) {
	path := storeWithCheckpoint(t)
	_, err := Verify(path)
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	i := bytes.Index(b, []byte("0123456789"))
	require.Positive(t, i)
	flip(t, path, int64(i+3))
	_, err = Verify(path)
	require.ErrorIs(t, err, ErrDamaged)
	assert.Contains(t, err.Error(), "the state checkpoint does not match its checksum")
	assert.Regexp(t, `SHA-256 [0-9a-f]{64}, recorded [0-9a-f]{64}`, err.Error(), "both hashes in full")

	// The appliance rebuilds from every event instead: Checkpoint says so.
	s, err := Open(path, Options{Wing: "A"})
	require.NoError(t, err)
	defer s.Close()
	_, _, err = s.Checkpoint()
	assert.ErrorIs(t, err, ErrDamaged)
}

func TestVerifyFindsADamagedMetaPage(t *testing.T) {
	for _, page := range []int64{0, 1} {
		path := storeWithCheckpoint(t)
		flip(t, path, page*int64(os.Getpagesize())+16+48) // the txid of that meta page
		_, err := Verify(path)
		require.ErrorIs(t, err, ErrDamaged, "meta page %d", page)
		assert.Contains(t, err.Error(), "does not match its checksum")
		assert.Contains(t, err.Error(), "meta page")
	}
}
