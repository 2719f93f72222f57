package firmware

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// signingContext is prefixed to the manifest bytes before signing, so a
// signature made for anything else can never pass as a manifest signature.
const signingContext = "wingnode firmware manifest v1\n"

// maxSignatures is how many signatures a manifest may carry: one per key
// of a rotation (current and next).
const maxSignatures = 2

// Signature is one ed25519 signature over a manifest. In manifest.sig each
// is a line "ed25519 <key id> <base64 signature>".
type Signature struct {
	KeyID string
	Sig   []byte
}

// Trust is the set of public keys a device accepts bundles from: one, or
// two while keys are being rotated (current and next).
type Trust struct {
	keys []PublicKey
}

// NewTrust returns a trust set of one or two distinct keys.
func NewTrust(keys ...PublicKey) (Trust, error) {
	if len(keys) == 0 || len(keys) > maxSignatures {
		return Trust{}, fmt.Errorf("%w: a trust set holds 1 or 2 keys, not %d", ErrKey, len(keys))
	}
	for i, k := range keys {
		if len(k.key) != ed25519.PublicKeySize {
			return Trust{}, fmt.Errorf("%w: trust key %d is empty", ErrKey, i+1)
		}
		if i == 1 && k.ID() == keys[0].ID() {
			return Trust{}, fmt.Errorf("%w: the same key %s is listed twice", ErrKey, k.ID())
		}
	}
	return Trust{keys: append([]PublicKey(nil), keys...)}, nil
}

// ParseTrust parses a trust file: one or two public key lines, with
// comment lines allowed.
func ParseTrust(b []byte) (Trust, error) {
	raws, err := parseKeyLines(b, publicKeyTag, ed25519.PublicKeySize)
	if err != nil {
		return Trust{}, err
	}
	keys := make([]PublicKey, len(raws))
	for i, raw := range raws {
		keys[i] = PublicKey{key: raw}
	}
	return NewTrust(keys...)
}

// IDs returns the key ids of the trusted keys.
func (t Trust) IDs() []string {
	ids := make([]string, len(t.keys))
	for i, k := range t.keys {
		ids[i] = k.ID()
	}
	return ids
}

// Sign signs a canonical manifest encoding with one or two keys (two while
// rotating, so devices trusting either key accept the bundle).
func Sign(manifest []byte, keys ...PrivateKey) ([]Signature, error) {
	if len(keys) == 0 || len(keys) > maxSignatures {
		return nil, fmt.Errorf("%w: sign with 1 or 2 keys, not %d", ErrKey, len(keys))
	}
	if len(keys) == 2 && keys[0].ID() == keys[1].ID() {
		return nil, fmt.Errorf("%w: the same key %s is given twice", ErrKey, keys[0].ID())
	}
	msg := append([]byte(signingContext), manifest...)
	sigs := make([]Signature, len(keys))
	for i, k := range keys {
		if len(k.key) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: signing key %d is empty", ErrKey, i+1)
		}
		sigs[i] = Signature{KeyID: k.ID(), Sig: ed25519.Sign(k.key, msg)}
	}
	return sigs, nil
}

// Verify checks that at least one signature over manifest was made by a
// trusted key and returns that key's id. Signatures by other keys are
// ignored, so a bundle signed by current and next keys passes on devices
// that trust either.
func (t Trust) Verify(manifest []byte, sigs []Signature) (string, error) {
	msg := append([]byte(signingContext), manifest...)
	for _, s := range sigs {
		for _, k := range t.keys {
			if k.ID() == s.KeyID && ed25519.Verify(k.key, msg, s.Sig) {
				return k.ID(), nil
			}
		}
	}
	signers := make([]string, len(sigs))
	for i, s := range sigs {
		signers[i] = s.KeyID
	}
	return "", fmt.Errorf("%w: signed by %s, trusted keys are %s: check the bundle came from your signing station and the device's trust file",
		ErrSignature, strings.Join(signers, ", "), strings.Join(t.IDs(), ", "))
}

// marshalSignatures encodes manifest.sig.
func marshalSignatures(sigs []Signature) []byte {
	var b bytes.Buffer
	for _, s := range sigs {
		fmt.Fprintf(&b, "ed25519 %s %s\n", s.KeyID, base64.StdEncoding.EncodeToString(s.Sig))
	}
	return b.Bytes()
}

// parseSignatures decodes manifest.sig strictly: one or two lines, each
// "ed25519 <16 hex key id> <base64 64-byte signature>", key ids distinct.
func parseSignatures(b []byte) ([]Signature, error) {
	var sigs []Signature
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Split(sc.Text(), " ")
		if len(f) != 3 || f[0] != "ed25519" || len(f[1]) != 16 || strings.Trim(f[1], "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%w: manifest.sig line %d is not \"ed25519 <key id> <signature>\"", ErrCorrupt, len(sigs)+1)
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(f[2])
		if err != nil || len(sig) != ed25519.SignatureSize {
			return nil, fmt.Errorf("%w: manifest.sig line %d: signature is not %d bytes of base64", ErrCorrupt, len(sigs)+1, ed25519.SignatureSize)
		}
		for _, s := range sigs {
			if s.KeyID == f[1] {
				return nil, fmt.Errorf("%w: manifest.sig names key %s twice", ErrCorrupt, f[1])
			}
		}
		sigs = append(sigs, Signature{KeyID: f[1], Sig: sig})
	}
	if len(sigs) == 0 || len(sigs) > maxSignatures || !bytes.HasSuffix(b, []byte("\n")) {
		return nil, fmt.Errorf("%w: manifest.sig must hold 1 or 2 newline-terminated signature lines", ErrCorrupt)
	}
	return sigs, nil
}
