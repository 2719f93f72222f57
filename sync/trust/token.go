package trust

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/datadir"
)

// tokenPrefix starts every enrolment token; the digit is the format version.
const tokenPrefix = "wnt1-"

const (
	secretLen   = 32
	checkLen    = 4
	maxAddrLen  = 255
	usedSuffix  = ".used"
	usedKeepFor = 30 * 24 * time.Hour
)

var tokenEncoding = base64.RawURLEncoding.Strict()

// Token is a parsed enrolment token. Its secret is unexported, and String
// and GoString never print it.
type Token struct {
	// Addr is host:port of the site port to enrol at.
	Addr string
	// CAFingerprint is the SHA-256 of the site CA certificate, so the joiner
	// can pin the CA before it holds it.
	CAFingerprint [32]byte

	secret [secretLen]byte
}

// String describes the token without its secret.
func (t Token) String() string {
	return fmt.Sprintf("enrolment token for %s (site CA %x…)", t.Addr, t.CAFingerprint[:6])
}

// GoString is String, so %#v cannot print the secret either.
func (t Token) GoString() string { return t.String() }

// encode is the inverse of ParseToken.
func (t Token) encode() string {
	raw := make([]byte, 0, 32+secretLen+len(t.Addr)+checkLen)
	raw = append(raw, t.CAFingerprint[:]...)
	raw = append(raw, t.secret[:]...)
	raw = append(raw, t.Addr...)
	sum := sha256.Sum256(raw)
	raw = append(raw, sum[:checkLen]...)
	return tokenPrefix + tokenEncoding.EncodeToString(raw)
}

// ErrBadToken is returned (wrapped) by ParseToken for a string that is not
// an enrolment token, most often one that was not copied whole.
var ErrBadToken = errors.New("not a wingnode enrolment token")

// ParseToken reads a token as printed by `wingnode site token`. White space
// anywhere is ignored, so a token wrapped across lines still parses. Errors
// never quote the input.
func ParseToken(s string) (Token, error) {
	var t Token
	s = strings.Join(strings.Fields(s), "")
	body, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok {
		return t, fmt.Errorf("%w: it should start with %q", ErrBadToken, tokenPrefix)
	}
	raw, err := tokenEncoding.DecodeString(body)
	if err != nil {
		return t, fmt.Errorf("%w: it was changed or cut short; copy it again", ErrBadToken)
	}
	if len(raw) < 32+secretLen+checkLen+3 || len(raw) > 32+secretLen+maxAddrLen+checkLen {
		return t, fmt.Errorf("%w: wrong length; copy it again", ErrBadToken)
	}
	n := len(raw) - checkLen
	sum := sha256.Sum256(raw[:n])
	if !bytes.Equal(sum[:checkLen], raw[n:]) {
		return t, fmt.Errorf("%w: its check digits do not match; copy it again", ErrBadToken)
	}
	copy(t.CAFingerprint[:], raw[:32])
	copy(t.secret[:], raw[32:32+secretLen])
	t.Addr = string(raw[32+secretLen : n])
	if err := checkAddr(t.Addr); err != nil {
		return Token{}, fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	return t, nil
}

// checkAddr accepts host:port with a non-empty host and a numeric port.
func checkAddr(addr string) error {
	if len(addr) > maxAddrLen {
		return errors.New("enrolment address too long")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || strings.ContainsAny(host, " \t\r\n/") {
		return fmt.Errorf("enrolment address %q is not host:port", addr)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 || strconv.FormatUint(p, 10) != port {
		return fmt.Errorf("enrolment address %q has no valid port", addr)
	}
	return nil
}

func secretHash(secret []byte) string {
	h := sha256.Sum256(secret)
	return hex.EncodeToString(h[:])
}

// IssueToken issues a one-time enrolment token that lets one wing enrol at
// enrolAddr (host:port of the initialising wing's site port) within ttl.
// Only the SHA-256 of the token's secret and the expiry are stored.
func (a *Authority) IssueToken(enrolAddr string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("trust: issue token: lifetime %v must be positive", ttl)
	}
	if err := checkAddr(enrolAddr); err != nil {
		return "", fmt.Errorf("trust: issue token: %w", err)
	}
	t := Token{Addr: enrolAddr, CAFingerprint: a.Fingerprint()}
	if _, err := rand.Read(t.secret[:]); err != nil {
		return "", fmt.Errorf("trust: issue token: %w", err)
	}
	now := a.now()
	a.pruneTokens(now)
	expiry := now.Add(ttl).UTC().Format(time.RFC3339Nano)
	path := filepath.Join(a.dir, tokensDir, secretHash(t.secret[:]))
	if err := datadir.WriteFile(path, []byte(expiry+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("trust: issue token: %w", err)
	}
	return t.encode(), nil
}

// Token refusals, as EnrolHandler tells a joiner.
var (
	errTokenUnknown = errors.New("the enrolment token is unknown: it was issued by another site, or mistyped; ask site IT for a new one (wingnode site token)")
	errTokenUsed    = errors.New("the enrolment token was already used; ask site IT for a new one (wingnode site token)")
	errTokenExpired = errors.New("the enrolment token has expired; ask site IT for a new one (wingnode site token)")
)

// checkToken reports whether secret is a live token. The caller holds the
// folder lock.
func (a *Authority) checkToken(secret []byte) error {
	path := filepath.Join(a.dir, tokensDir, secretHash(secret))
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if ok, _ := exists(path + usedSuffix); ok {
			return errTokenUsed
		}
		return errTokenUnknown
	}
	if err != nil {
		return fmt.Errorf("read token store: %w", err)
	}
	expiry, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("token store: unreadable expiry: %w", err)
	}
	if !a.now().Before(expiry) {
		_ = os.Remove(path)
		return errTokenExpired
	}
	return nil
}

// consumeToken marks a token used. The rename is atomic, so only one
// consumer can win even without the lock.
func (a *Authority) consumeToken(secret []byte) error {
	path := filepath.Join(a.dir, tokensDir, secretHash(secret))
	if err := os.Rename(path, path+usedSuffix); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return errTokenUsed
		}
		return fmt.Errorf("consume token: %w", err)
	}
	return nil
}

// pruneTokens removes tokens expired for a day (so a late joiner still hears
// "expired") and old used markers; failures are harmless and ignored.
func (a *Authority) pruneTokens(now time.Time) {
	dir := filepath.Join(a.dir, tokensDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if strings.HasSuffix(e.Name(), usedSuffix) {
			if info, err := e.Info(); err == nil && now.Sub(info.ModTime()) > usedKeepFor {
				_ = os.Remove(p)
			}
			continue
		}
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if exp, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b))); err == nil && now.Sub(exp) > 24*time.Hour {
			_ = os.Remove(p)
		}
	}
}
