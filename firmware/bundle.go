package firmware

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Bundle format: an uncompressed tar stream whose entries are, in this
// order and nothing else:
//
//	manifest.json   the canonical manifest (at most MaxManifestSize bytes)
//	manifest.sig    one or two lines "ed25519 <key id> <base64 signature>",
//	                each over "wingnode firmware manifest v1\n" + manifest.json
//	<payload name>  one regular file per manifest payload, in manifest order
//
// Because the manifest comes first and pins every payload's size and
// SHA-256, a reader checks the signature before reading any payload and
// checks each payload as it streams past, holding none of it in memory.
const (
	manifestEntry   = "manifest.json"
	signatureEntry  = "manifest.sig"
	maxSignatureLen = 1024
)

// Target is what a bundle must fit to be installed: the device's hardware,
// the version it runs, and its anti-rollback floor.
type Target struct {
	Hardware string
	Version  uint64 // a bundle must be newer than this
	Floor    uint64 // and never below this
}

// check applies the target's rules to a verified manifest.
func (t Target) check(m Manifest) error {
	switch {
	case m.Hardware != t.Hardware:
		return fmt.Errorf("%w: bundle is for %q, this device is %q: use the bundle built for %s", ErrHardware, m.Hardware, t.Hardware, t.Hardware)
	case m.Version < t.Floor:
		return fmt.Errorf("%w: version %d (%s) is below the anti-rollback floor %d: install a newer build", ErrDowngrade, m.Version, m.Display, t.Floor)
	case m.Version <= t.Version:
		return fmt.Errorf("%w: version %d (%s) is not newer than the running version %d: to go back, sign the old build again under a new build number", ErrDowngrade, m.Version, m.Display, t.Version)
	}
	return nil
}

// WriteBundle writes a signed bundle to w. m.Payloads must already hold
// each payload's name, size and SHA-256 (see HashPayload), and payloads
// must give the same bytes in the same order; they are checked again as
// they are copied, so a file that changed in between is caught.
func WriteBundle(w io.Writer, m Manifest, payloads []io.Reader, keys ...PrivateKey) error {
	manifest, err := m.Marshal()
	if err != nil {
		return err
	}
	if len(payloads) != len(m.Payloads) {
		return fmt.Errorf("firmware: write bundle: %d payloads given for %d in the manifest", len(payloads), len(m.Payloads))
	}
	sigs, err := Sign(manifest, keys...)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	add := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: size, ModTime: m.Created, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("firmware: write bundle %s: %w", name, err)
		}
		if _, err := io.Copy(tw, r); err != nil {
			return fmt.Errorf("firmware: write bundle %s: %w", name, err)
		}
		return nil
	}
	sig := marshalSignatures(sigs)
	if err := add(manifestEntry, int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	if err := add(signatureEntry, int64(len(sig)), bytes.NewReader(sig)); err != nil {
		return err
	}
	for i, p := range m.Payloads {
		if err := add(p.Name, p.Size, newPayloadReader(p, payloads[i])); err != nil {
			return fmt.Errorf("%w; hash the payload again: it changed since it was hashed", err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("firmware: write bundle: %w", err)
	}
	return nil
}

// Bundle is an open, signature-checked bundle being read as a stream.
type Bundle struct {
	Manifest Manifest
	SignedBy string // id of the trusted key whose signature was valid

	tr   *tar.Reader
	next int
	cur  *payloadReader
}

// Open reads a bundle's manifest and signatures from r, checks them
// against trust and the target, and returns the bundle positioned before
// its first payload. Errors wrap ErrCorrupt, ErrManifest, ErrSignature,
// ErrProduct, ErrHardware or ErrDowngrade.
func Open(r io.Reader, trust Trust, target Target) (*Bundle, error) {
	tr := tar.NewReader(r)
	manifest, err := readSmallEntry(tr, manifestEntry, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	sigBytes, err := readSmallEntry(tr, signatureEntry, maxSignatureLen)
	if err != nil {
		return nil, err
	}
	sigs, err := parseSignatures(sigBytes)
	if err != nil {
		return nil, err
	}
	// The signature is checked before the manifest is parsed: unsigned
	// bytes reach only the tar reader and the signature parser.
	signer, err := trust.Verify(manifest, sigs)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(manifest)
	if err != nil {
		return nil, err
	}
	if err := target.check(m); err != nil {
		return nil, err
	}
	return &Bundle{Manifest: m, SignedBy: signer, tr: tr}, nil
}

// Next returns the next payload's manifest entry and a reader of its
// bytes, or io.EOF after the last one (having checked that nothing
// follows it). The reader returns an error wrapping ErrCorrupt instead of
// io.EOF when the bytes do not match the manifest: trust a payload only
// once its reader has returned io.EOF.
func (b *Bundle) Next() (Payload, io.Reader, error) {
	if b.cur != nil && !b.cur.done {
		return Payload{}, nil, fmt.Errorf("firmware: payload %s was not read to its end", b.cur.want.Name)
	}
	if b.next == len(b.Manifest.Payloads) {
		if _, err := b.tr.Next(); err != io.EOF {
			return Payload{}, nil, fmt.Errorf("%w: data follows the last payload: rebuild the bundle", ErrCorrupt)
		}
		return Payload{}, nil, io.EOF
	}
	p := b.Manifest.Payloads[b.next]
	hdr, err := b.tr.Next()
	if err != nil {
		return Payload{}, nil, corrupt("payload "+p.Name, err)
	}
	if hdr.Name != p.Name || hdr.Typeflag != tar.TypeReg || hdr.Size != p.Size {
		return Payload{}, nil, fmt.Errorf("%w: expected payload %s of %d bytes, found entry %q of %d bytes: rebuild the bundle", ErrCorrupt, p.Name, p.Size, hdr.Name, hdr.Size)
	}
	b.next++
	b.cur = newPayloadReader(p, b.tr)
	return p, b.cur, nil
}

// Verify reads a whole bundle from r and checks its signature, target and
// every payload, writing nothing. It returns the manifest.
func Verify(r io.Reader, trust Trust, target Target) (Manifest, error) {
	b, err := Open(r, trust, target)
	if err != nil {
		return Manifest{}, err
	}
	for {
		_, pr, err := b.Next()
		if err == io.EOF {
			return b.Manifest, nil
		}
		if err != nil {
			return Manifest{}, err
		}
		if _, err := io.Copy(io.Discard, pr); err != nil {
			return Manifest{}, err
		}
	}
}

// readSmallEntry reads the next tar entry, which must be the regular file
// name of at most limit bytes.
func readSmallEntry(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	hdr, err := tr.Next()
	if err != nil {
		return nil, corrupt(name, err)
	}
	if hdr.Name != name || hdr.Typeflag != tar.TypeReg || hdr.Size < 0 || hdr.Size > limit {
		return nil, fmt.Errorf("%w: expected %s (at most %d bytes), found entry %q of %d bytes: is this a wingnode bundle?", ErrCorrupt, name, limit, hdr.Name, hdr.Size)
	}
	b := make([]byte, hdr.Size)
	if _, err := io.ReadFull(tr, b); err != nil {
		return nil, corrupt(name, err)
	}
	return b, nil
}

// corrupt wraps a read error: truncation and tar format errors become
// ErrCorrupt, other errors (a failing disk or network) keep their cause.
func corrupt(what string, err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) ||
		errors.Is(err, tar.ErrFieldTooLong) || errors.Is(err, tar.ErrInsecurePath) {
		return fmt.Errorf("%w: reading %s: %w: the bundle is truncated or not a bundle; copy it again", ErrCorrupt, what, err)
	}
	return fmt.Errorf("firmware: reading %s: %w", what, err)
}

// payloadReader hashes the bytes it passes on (an io.TeeReader into
// SHA-256) and, at the end, turns io.EOF into ErrCorrupt when the size or
// hash is not the manifest's.
type payloadReader struct {
	want Payload
	r    io.Reader
	h    hash.Hash
	n    int64
	done bool
}

func newPayloadReader(p Payload, r io.Reader) *payloadReader {
	h := sha256.New()
	return &payloadReader{want: p, r: io.TeeReader(r, h), h: h}
}

func (pr *payloadReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.n += int64(n)
	if err == io.EOF {
		if pr.n != pr.want.Size {
			return n, fmt.Errorf("%w: payload %s is %d bytes, the manifest says %d: copy the bundle again", ErrCorrupt, pr.want.Name, pr.n, pr.want.Size)
		}
		if got := hex.EncodeToString(pr.h.Sum(nil)); got != pr.want.SHA256 {
			return n, fmt.Errorf("%w: payload %s has SHA-256 %s, the manifest says %s: copy the bundle again", ErrCorrupt, pr.want.Name, got, pr.want.SHA256)
		}
		pr.done = true
	} else if err != nil {
		err = corrupt("payload "+pr.want.Name, err)
	}
	return n, err
}

// Copy copies a bundle from r to dst while it verifies it, as an upload
// that must be kept arrives: the manifest's signatures and its target are
// checked before any payload byte is read, each payload against its size
// and SHA-256 as it passes, and no more is read than the manifest's sizes
// and the tar framing allow, so a forged or oversized upload costs at most
// the manifest's bytes. It returns the manifest; on an error, what dst got
// must be thrown away.
func Copy(dst io.Writer, r io.Reader, trust Trust, target Target) (Manifest, error) {
	// Before the manifest is known: the two small entries and their tar
	// headers.
	lr := &io.LimitedReader{R: r, N: MaxManifestSize + maxSignatureLen + 4*512}
	b, err := Open(io.TeeReader(lr, dst), trust, target)
	if err != nil {
		return Manifest{}, err
	}
	// Now the payloads and their framing: a header and padding each, and
	// the end of the archive.
	more := int64(len(b.Manifest.Payloads)+1)*1024 + 10240
	for _, p := range b.Manifest.Payloads {
		more += p.Size
	}
	lr.N = more
	for {
		_, pr, err := b.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Manifest{}, err
		}
		if _, err := io.Copy(io.Discard, pr); err != nil {
			return Manifest{}, err
		}
	}
	// What the tar reader left of the end of the archive, within the bound.
	if _, err := io.Copy(dst, lr); err != nil {
		return Manifest{}, corrupt("the end of the bundle", err)
	}
	if lr.N <= 0 {
		if n, _ := r.Read(make([]byte, 1)); n > 0 {
			return Manifest{}, fmt.Errorf("%w: data follows the end of the bundle: rebuild it", ErrCorrupt)
		}
	}
	return b.Manifest, nil
}
