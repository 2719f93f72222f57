package firmware

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testKey returns a deterministic signing key; different seeds give different keys.
func testKey(t testing.TB, seed byte) PrivateKey {
	t.Helper()
	k, err := GenerateKey(bytes.NewReader(bytes.Repeat([]byte{seed}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testTrust(t testing.TB, keys ...PrivateKey) Trust {
	t.Helper()
	pubs := make([]PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.Public()
	}
	tr, err := NewTrust(pubs...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// testManifest returns a valid manifest for one payload of the given bytes.
func testManifest(t testing.TB, version, minVersion uint64, payload []byte) Manifest {
	t.Helper()
	p, err := HashPayload(RootfsPayload, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	return Manifest{
		Format:     ManifestFormat,
		Product:    Product,
		Hardware:   "amd64-uefi",
		Version:    version,
		Display:    "2026.11." + string(rune('0'+version%10)),
		MinVersion: minVersion,
		Created:    time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Payloads:   []Payload{p},
	}
}

// testBundle writes a signed bundle of m with the given payload bytes.
func testBundle(t testing.TB, m Manifest, payloads [][]byte, keys ...PrivateKey) []byte {
	t.Helper()
	var rs []io.Reader
	for _, p := range payloads {
		rs = append(rs, bytes.NewReader(p))
	}
	var b bytes.Buffer
	if err := WriteBundle(&b, m, rs, keys...); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// slotFile makes a temporary file standing in for a slot partition.
func slotFile(t testing.TB, name string, content []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fileBytes(t testing.TB, f *os.File) []byte {
	t.Helper()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pseudoRandom returns n reproducible, incompressible-looking bytes.
func pseudoRandom(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}
