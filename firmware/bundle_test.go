package firmware

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"
)

// rawBundle writes a tar of the given entries, for bundles WriteBundle refuses to make.
func rawBundle(t *testing.T, entries ...[2][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: string(e[0]), Mode: 0o644, Size: int64(len(e[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func signedEntries(t *testing.T, m Manifest, keys ...PrivateKey) [][2][]byte {
	t.Helper()
	mb, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := Sign(mb, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return [][2][]byte{{[]byte(manifestEntry), mb}, {[]byte(signatureEntry), marshalSignatures(sigs)}}
}

func TestVerifySignatures(t *testing.T) {
	current, next, stranger := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	payload := pseudoRandom(100_000, 1)
	m := testManifest(t, 8, 5, payload)
	target := Target{Hardware: "amd64-uefi", Version: 7, Floor: 5}

	signedBy := func(keys ...PrivateKey) []byte { return testBundle(t, m, [][]byte{payload}, keys...) }
	tamperedManifest := bytes.Replace(signedBy(current), []byte(`"display":"2026.11.8"`), []byte(`"display":"2026.11.9"`), 1)
	tamperedPayload := signedBy(current)
	tamperedPayload[bytes.Index(tamperedPayload, payload)+50_000] ^= 1

	for _, tc := range []struct {
		name   string
		bundle []byte
		trust  Trust
		want   error
		signer PrivateKey
	}{
		{"good", signedBy(current), testTrust(t, current), nil, current},
		{"wrong key", signedBy(stranger), testTrust(t, current), ErrSignature, PrivateKey{}},
		{"untrusted key during rotation", signedBy(stranger), testTrust(t, current, next), ErrSignature, PrivateKey{}},
		{"tampered manifest", tamperedManifest, testTrust(t, current), ErrSignature, PrivateKey{}},
		{"tampered payload", tamperedPayload, testTrust(t, current), ErrCorrupt, PrivateKey{}},
		{"rotation: signed by next, both trusted", signedBy(next), testTrust(t, current, next), nil, next},
		{"rotation: signed by both, old device", signedBy(current, next), testTrust(t, current), nil, current},
		{"rotation: signed by both, new device", signedBy(current, next), testTrust(t, next), nil, next},
		{"rotation: stranger and next", signedBy(stranger, next), testTrust(t, next), nil, next},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Verify(bytes.NewReader(tc.bundle), tc.trust, target)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err == nil && got.Version != 8 {
				t.Fatalf("Verify returned manifest version %d", got.Version)
			}
			if err != nil {
				return
			}
			b, err := Open(bytes.NewReader(tc.bundle), tc.trust, target)
			if err != nil || b.SignedBy != tc.signer.ID() {
				t.Fatalf("Open: signed by %v (%v), want %s", b, err, tc.signer.ID())
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	key := testKey(t, 1)
	trust := testTrust(t, key)
	payload := pseudoRandom(10_000, 2)
	target := Target{Hardware: "amd64-uefi", Version: 7, Floor: 5}
	m := testManifest(t, 8, 5, payload)
	good := testBundle(t, m, [][]byte{payload}, key)

	otherHardware := m
	otherHardware.Hardware = "rpi4"
	belowFloor := testManifest(t, 4, 1, payload) // floor 5, version 4
	notNewer := testManifest(t, 7, 5, payload)
	twoPayloads := m
	kernel, err := HashPayload("kernel", bytes.NewReader([]byte("vmlinuz")))
	if err != nil {
		t.Fatal(err)
	}
	twoPayloads.Payloads = append([]Payload{kernel}, m.Payloads...)
	wrongSize := m
	wrongSize.Payloads = []Payload{{Name: RootfsPayload, SHA256: m.Payloads[0].SHA256, Size: 10_001}}

	for _, tc := range []struct {
		name   string
		bundle []byte
		want   error
	}{
		{"empty", nil, ErrCorrupt},
		{"not a tar", []byte("wingnode firmware, honest"), ErrCorrupt},
		{"cut in the manifest", good[:700], ErrCorrupt},
		{"cut before the payload", good[:bytes.Index(good, payload)-512], ErrCorrupt},
		{"cut in the payload", good[:bytes.Index(good, payload)+5000], ErrCorrupt},
		{"wrong hardware", testBundle(t, otherHardware, [][]byte{payload}, key), ErrHardware},
		{"below the floor", testBundle(t, belowFloor, [][]byte{payload}, key), ErrDowngrade},
		{"not newer", testBundle(t, notNewer, [][]byte{payload}, key), ErrDowngrade},
		{"payloads out of order", rawBundle(t, append(signedEntries(t, twoPayloads, key),
			[2][]byte{[]byte("rootfs"), payload}, [2][]byte{[]byte("kernel"), []byte("vmlinuz")})...), ErrCorrupt},
		{"payload size differs from manifest", rawBundle(t, append(signedEntries(t, wrongSize, key),
			[2][]byte{[]byte("rootfs"), payload})...), ErrCorrupt},
		{"entry after the payloads", rawBundle(t, append(signedEntries(t, m, key),
			[2][]byte{[]byte("rootfs"), payload}, [2][]byte{[]byte("extra"), []byte("x")})...), ErrCorrupt},
		{"signature first", rawBundle(t, signedEntries(t, m, key)[1], signedEntries(t, m, key)[0]), ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(bytes.NewReader(tc.bundle), trust, target)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestWriteBundleRechecksPayloads(t *testing.T) {
	key := testKey(t, 1)
	payload := pseudoRandom(4096, 3)
	m := testManifest(t, 8, 5, payload)
	changed := append([]byte(nil), payload...)
	changed[0] ^= 1
	for name, p := range map[string][]byte{"changed": changed, "longer": append(payload, 0), "shorter": payload[1:]} {
		var out bytes.Buffer
		if err := WriteBundle(&out, m, []io.Reader{bytes.NewReader(p)}, key); err == nil {
			t.Errorf("%s payload: WriteBundle succeeded", name)
		}
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// TestCopyChecksBeforeItKeeps: a good bundle is copied byte for byte; a
// forged one is refused having read no more than its manifest, however
// large; what follows a bundle, or a payload longer than its manifest
// says, is refused.
func TestCopyChecksBeforeItKeeps(t *testing.T) {
	key, stranger := testKey(t, 1), testKey(t, 3)
	payload := pseudoRandom(200_000, 1)
	m := testManifest(t, 8, 5, payload)
	target := Target{Hardware: "amd64-uefi", Version: 7, Floor: 5}
	good := testBundle(t, m, [][]byte{payload}, key)

	var out bytes.Buffer
	got, err := Copy(&out, bytes.NewReader(good), testTrust(t, key), target)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 8 || !bytes.Equal(out.Bytes(), good) {
		t.Fatalf("Copy kept %d bytes of version %d, want the bundle's %d bytes of version 8", out.Len(), got.Version, len(good))
	}

	forged := &countingReader{r: io.MultiReader(bytes.NewReader(testBundle(t, m, [][]byte{payload}, stranger)), bytes.NewReader(make([]byte, 50<<20)))}
	out.Reset()
	if _, err := Copy(&out, forged, testTrust(t, key), target); !errors.Is(err, ErrSignature) && !errors.Is(err, ErrKey) {
		t.Fatalf("a bundle signed by a stranger: %v, want a signature error", err)
	}
	if forged.n > MaxManifestSize+maxSignatureLen+4*512 || int64(out.Len()) > forged.n {
		t.Fatalf("a forged bundle read %d bytes and kept %d before it was refused: the payload was read", forged.n, out.Len())
	}

	trailing := &countingReader{r: io.MultiReader(bytes.NewReader(good), bytes.NewReader(make([]byte, 1<<20)))}
	if _, err := Copy(io.Discard, trailing, testTrust(t, key), target); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a bundle followed by a megabyte: %v, want ErrCorrupt", err)
	}
	if trailing.n > int64(len(good))+20<<10 {
		t.Fatalf("read %d bytes of a %d-byte bundle with data after it", trailing.n, len(good))
	}
	if _, err := Copy(io.Discard, bytes.NewReader(good[:len(good)/2]), testTrust(t, key), target); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("half a bundle: %v, want ErrCorrupt", err)
	}
}
