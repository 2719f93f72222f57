package update

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"

	"wingnode/appliance/datadir"
)

// NewSiteITToken makes a random site IT token for the firmware endpoint
// and writes its SHA-256, in hex, to path (mode 0600, whole or not at
// all), replacing the previous token. The token is returned, to be shown
// once; it is never stored.
func NewSiteITToken(path string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := "wnsit_" + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	if err := datadir.WriteFile(path, []byte(hex.EncodeToString(sum[:])+"\n"), 0o600); err != nil {
		return "", err
	}
	return token, nil
}
