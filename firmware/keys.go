package firmware

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// Key file formats. Each key is one line of three fields separated by single
// spaces, then a newline:
//
//	wingnode-firmware-public-key <key id> <base64 of the 32-byte ed25519 public key>
//	wingnode-firmware-private-key <key id> <base64 of the 32-byte ed25519 seed>
//
// The key id is the first 8 bytes of SHA-256 of the public key, in
// lowercase hex; it is checked when a key is read. A trust file holds one
// or two public key lines; blank lines and lines starting with '#' are
// ignored there, so each key can be labelled ("# current", "# next").
const (
	publicKeyTag  = "wingnode-firmware-public-key"
	privateKeyTag = "wingnode-firmware-private-key"
)

// PublicKey is an ed25519 key that may sign bundles.
type PublicKey struct {
	key ed25519.PublicKey
}

// PrivateKey is an ed25519 signing key. Printing or logging it shows only
// its id: the secret leaves the process only through WritePrivateKey.
type PrivateKey struct {
	key ed25519.PrivateKey
}

// GenerateKey makes a new signing key from 32 bytes of rand; pass nil for
// a secure source (tests pass a fixed reader to get a fixed key).
func GenerateKey(rand io.Reader) (PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(rand)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("firmware: generate key: %w", err)
	}
	return PrivateKey{key: k}, nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// ID returns the key id.
func (k PublicKey) ID() string { return KeyID(k.key) }

// MarshalText returns the public key file line.
func (k PublicKey) MarshalText() ([]byte, error) {
	if len(k.key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: empty public key", ErrKey)
	}
	return fmt.Appendf(nil, "%s %s %s\n", publicKeyTag, k.ID(), base64.StdEncoding.EncodeToString(k.key)), nil
}

// Public returns the public half of the key.
func (k PrivateKey) Public() PublicKey {
	return PublicKey{key: k.key.Public().(ed25519.PublicKey)}
}

// ID returns the key id of the public half.
func (k PrivateKey) ID() string { return k.Public().ID() }

// String shows the key id only.
func (k PrivateKey) String() string {
	if len(k.key) != ed25519.PrivateKeySize {
		return "firmware private key (empty)"
	}
	return "firmware private key " + k.ID()
}

// Format makes every fmt verb (%v, %+v, %#v, %x...) print String.
func (k PrivateKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// LogValue makes log/slog print String.
func (k PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// ParsePublicKey parses a public key file: exactly one key line, comments allowed.
func ParsePublicKey(b []byte) (PublicKey, error) {
	keys, err := parseKeyLines(b, publicKeyTag, ed25519.PublicKeySize)
	if err != nil {
		return PublicKey{}, err
	}
	if len(keys) != 1 {
		return PublicKey{}, fmt.Errorf("%w: a public key file holds one key, this one holds %d", ErrKey, len(keys))
	}
	return PublicKey{key: keys[0]}, nil
}

// ParsePrivateKey parses a private key file: exactly one key line.
func ParsePrivateKey(b []byte) (PrivateKey, error) {
	seeds, err := parseKeyLines(b, privateKeyTag, ed25519.SeedSize)
	if err != nil {
		return PrivateKey{}, err
	}
	if len(seeds) != 1 {
		return PrivateKey{}, fmt.Errorf("%w: a private key file holds one key, this one holds %d", ErrKey, len(seeds))
	}
	return PrivateKey{key: ed25519.NewKeyFromSeed(seeds[0])}, nil
}

// parseKeyLines returns the key bytes of each line tagged tag. For a
// private key the bytes are the seed, and the id is checked against the
// public key it derives.
func parseKeyLines(b []byte, tag string, size int) ([][]byte, error) {
	if len(b) > 4096 {
		return nil, fmt.Errorf("%w: key file is over 4096 bytes", ErrKey)
	}
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, " ")
		if len(fields) != 3 || fields[0] != tag {
			return nil, fmt.Errorf("%w: line %d is not %q, a key id and a base64 key", ErrKey, n, tag)
		}
		raw, err := base64.StdEncoding.Strict().DecodeString(fields[2])
		if err != nil || len(raw) != size {
			return nil, fmt.Errorf("%w: line %d: the key is not %d bytes of base64", ErrKey, n, size)
		}
		pub := ed25519.PublicKey(raw)
		if tag == privateKeyTag {
			pub = ed25519.NewKeyFromSeed(raw).Public().(ed25519.PublicKey)
		}
		if KeyID(pub) != fields[1] {
			return nil, fmt.Errorf("%w: line %d: key id %q does not match the key; the file is damaged", ErrKey, n, fields[1])
		}
		keys = append(keys, raw)
	}
	return keys, nil
}

// WritePrivateKey writes k to a new file at path with mode 0600. It
// refuses to overwrite an existing file, so a key is never lost by mistake.
func WritePrivateKey(path string, k PrivateKey) error {
	if len(k.key) != ed25519.PrivateKeySize {
		return fmt.Errorf("%w: empty private key", ErrKey)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("firmware: write private key: %w; choose a new file name", err)
	}
	line := fmt.Appendf(nil, "%s %s %s\n", privateKeyTag, k.ID(), base64.StdEncoding.EncodeToString(k.key.Seed()))
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("firmware: write private key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("firmware: write private key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("firmware: write private key %s: %w", path, err)
	}
	return nil
}

// ReadPrivateKey reads a private key file, refusing one that other users
// can read (fix it with chmod 600).
func ReadPrivateKey(path string) (PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("firmware: read private key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return PrivateKey{}, fmt.Errorf("%w: %s has mode %v; others can read it: run chmod 600 %s and consider the key leaked", ErrKey, path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("firmware: read private key: %w", err)
	}
	k, err := ParsePrivateKey(b)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}
