package firmware

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Product is the only product name a wingnode manifest may carry.
const Product = "wingnode"

// ManifestFormat is the manifest encoding version this package writes and reads.
const ManifestFormat = 1

// Limits on what a manifest may hold; they bound the memory a hostile
// bundle can make the parser use.
const (
	MaxManifestSize = 64 << 10 // bytes of manifest.json
	MaxPayloads     = 8
	MaxPayloadSize  = 64 << 30 // bytes of one payload
)

// Manifest describes one update. Its encoding is canonical (see Marshal),
// and the signatures cover those exact bytes, so the payload hashes it pins
// are signed too.
//
// The struct fields are declared in the sorted order of their JSON names:
// that is what makes encoding/json's output canonical.
type Manifest struct {
	Created    time.Time `json:"created"`     // UTC, whole seconds
	Display    string    `json:"display"`     // version for people, such as "2026.11.3"
	Format     int       `json:"format"`      // ManifestFormat
	Hardware   string    `json:"hardware"`    // such as "amd64-uefi" or "rpi4"
	MinVersion uint64    `json:"min_version"` // anti-rollback floor once this version is confirmed
	Payloads   []Payload `json:"payloads"`    // in bundle order
	Product    string    `json:"product"`     // Product
	Version    uint64    `json:"version"`     // monotonic build number
}

// Payload is one file of a bundle, pinned by size and SHA-256.
type Payload struct {
	Name   string `json:"name"`   // such as "rootfs"
	SHA256 string `json:"sha256"` // lowercase hex
	Size   int64  `json:"size"`
}

var (
	namePattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
	displayPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9 ._+-]{0,63}$`)
	sha256Pattern  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks every rule a manifest must keep, whatever its source.
func (m Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrManifest, fmt.Sprintf(format, args...))
	}
	if m.Product != Product {
		return fmt.Errorf("%w: %w: product %q is not %q", ErrManifest, ErrProduct, m.Product, Product)
	}
	switch {
	case m.Format != ManifestFormat:
		return bad("format %d is not %d; use a wingnode release that reads it", m.Format, ManifestFormat)
	case !namePattern.MatchString(m.Hardware):
		return bad("hardware %q must be 1 to 32 of a-z, 0-9 and '-'", m.Hardware)
	case !displayPattern.MatchString(m.Display):
		return bad("display version %q must be 1 to 64 letters, digits, spaces or ._+-", m.Display)
	case m.Version == 0:
		return bad("version must be a build number above 0")
	case m.MinVersion > m.Version:
		return bad("minimum version %d is above the version %d itself", m.MinVersion, m.Version)
	case m.Created.IsZero() || m.Created.Location() != time.UTC || m.Created.Nanosecond() != 0:
		return bad("created time must be set, in UTC, to whole seconds")
	case len(m.Payloads) == 0 || len(m.Payloads) > MaxPayloads:
		return bad("%d payloads; a bundle carries 1 to %d", len(m.Payloads), MaxPayloads)
	}
	seen := make(map[string]bool, len(m.Payloads))
	for i, p := range m.Payloads {
		switch {
		case !namePattern.MatchString(p.Name):
			return bad("payload %d: name %q must be 1 to 32 of a-z, 0-9 and '-'", i, p.Name)
		case seen[p.Name]:
			return bad("payload %q appears twice", p.Name)
		case p.Size < 0 || p.Size > MaxPayloadSize:
			return bad("payload %q: size %d is outside 0 to %d bytes", p.Name, p.Size, int64(MaxPayloadSize))
		case !sha256Pattern.MatchString(p.SHA256):
			return bad("payload %q: sha256 must be 64 lowercase hex digits", p.Name)
		}
		seen[p.Name] = true
	}
	return nil
}

// Marshal returns the canonical encoding of a valid manifest: compact JSON,
// keys sorted, integers only, no trailing newline. It is what gets signed.
func (m Manifest) Marshal() ([]byte, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	return b, nil
}

// ParseManifest parses a manifest strictly: unknown fields, values that
// break a rule, and any encoding other than the canonical one are refused,
// so one manifest has exactly one byte form.
func ParseManifest(b []byte) (Manifest, error) {
	if len(b) > MaxManifestSize {
		return Manifest{}, fmt.Errorf("%w: %d bytes is over the %d-byte limit", ErrManifest, len(b), MaxManifestSize)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %w", ErrManifest, err)
	}
	canonical, err := m.Marshal()
	if err != nil {
		return Manifest{}, err
	}
	if !bytes.Equal(canonical, b) {
		return Manifest{}, fmt.Errorf("%w: not in canonical form (compact, sorted keys, no duplicates); make it with wingnode firmware sign", ErrManifest)
	}
	return m, nil
}

// HashPayload reads r to its end and returns the payload entry for it.
func HashPayload(name string, r io.Reader) (Payload, error) {
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return Payload{}, fmt.Errorf("firmware: hash payload %s: %w", name, err)
	}
	return Payload{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}
