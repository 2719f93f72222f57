// Package roster is the site's officer roster: who may sign in on a wing's
// screen, with which role, and a slow salted hash of each officer's PIN
// (argon2id). The roster holds identifiers only, never names. The site
// agrees it through raft (sync/site), so any wing, isolated or not, checks a
// sign-in against the last roster it holds; no PIN is kept anywhere, and no
// hash leaves the site's agreed state: pages, events, logs and exports see
// an Actor without it.
package roster

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is what an officer may do.
type Role string

// The roles, each allowed what the one before it is, and more.
const (
	// Officer acknowledges, attends and resolves alarms, records checks.
	Officer Role = "officer"
	// Supervisor also runs walk tests, closes a cell call remotely with a
	// reason, sets the wing's regime, declares and ends a lockdown and
	// manages the roster's officers.
	Supervisor Role = "supervisor"
	// SiteIT also manages roles and the site: firmware, enrolment.
	SiteIT Role = "siteit"
)

// Roles lists the roles, least first.
func Roles() []Role { return []Role{Officer, Supervisor, SiteIT} }

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a role (want officer, supervisor or siteit)", s)
}

// rank orders the roles; 0 is no role.
func (r Role) rank() int {
	switch r {
	case Officer:
		return 1
	case Supervisor:
		return 2
	case SiteIT:
		return 3
	}
	return 0
}

// Allows reports whether an officer of role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Actor is who does something: a signed-in officer and the role the
// roster gives them.
type Actor struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
}

// MaxID bounds an officer identifier.
const MaxID = 64

// ValidID reports whether s is an officer identifier: letters, digits,
// '.', '_' and '-', at most MaxID characters; never a name with spaces.
func ValidID(s string) bool {
	if s == "" || len(s) > MaxID {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Entry is one officer on the roster as the site agrees it: with the PIN
// hash. Only the site's agreed state and the sign-in check hold an Entry.
type Entry struct {
	ID   string `json:"id"`
	Role Role   `json:"role"`
	// PINHash is the argon2id hash of the officer's PIN in PHC form
	// ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"); empty until a PIN
	// is set, and an officer without one cannot sign in.
	PINHash string `json:"pin_hash,omitempty"`
}

// Actor is the entry without its hash.
func (e Entry) Actor() Actor { return Actor{ID: e.ID, Role: e.Role} }

// The PIN rule: digits only, MinPIN to MaxPIN of them.
const (
	MinPIN = 4
	MaxPIN = 12
)

// CheckPIN says what is wrong with a new PIN, or nil.
func CheckPIN(pin string) error {
	if len(pin) < MinPIN || len(pin) > MaxPIN {
		return fmt.Errorf("a PIN has %d to %d digits", MinPIN, MaxPIN)
	}
	for _, r := range pin {
		if r < '0' || r > '9' {
			return errors.New("a PIN has digits only")
		}
	}
	return nil
}

// The argon2id parameters of new hashes: RFC 9106's second recommended
// option with less memory, sized so that one verification takes well under
// 250 ms on a Pi-class board (the bench's pin_verify_ms measures it here).
// Verification reads the parameters from the hash, so they can be raised
// later without invalidating a PIN.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// HashPIN returns the argon2id hash of pin, salted at random, in PHC form.
func HashPIN(pin string) (string, error) {
	if err := CheckPIN(pin); err != nil {
		return "", err
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pin), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// ErrBadHash is returned by VerifyPIN and CheckHash for a hash that is not
// argon2id in PHC form with sane parameters.
var ErrBadHash = errors.New("roster: not an argon2id PIN hash")

// phc is a parsed PIN hash.
type phc struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

// parseHash reads an argon2id hash in PHC form, refusing parameters that
// would make one verification unreasonably slow or weak.
func parseHash(hash string) (phc, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return phc{}, ErrBadHash
	}
	var h phc
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil || h.m < 8 || h.m > 256*1024 || h.t < 1 || h.t > 16 || h.p < 1 || h.p > 8 {
		return phc{}, ErrBadHash
	}
	enc := base64.RawStdEncoding
	var err1, err2 error
	h.salt, err1 = enc.DecodeString(parts[4])
	h.key, err2 = enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(h.salt) < 8 || len(h.key) < 16 || len(h.key) > 64 {
		return phc{}, ErrBadHash
	}
	return h, nil
}

// CheckHash reports whether hash is a well-formed argon2id PIN hash,
// without the cost of a verification: an error wrapping ErrBadHash if not.
func CheckHash(hash string) error {
	_, err := parseHash(hash)
	return err
}

// VerifyPIN reports whether pin matches hash, in constant time over the
// derived key.
func VerifyPIN(hash, pin string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pin), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// Check says what is wrong with an entry, or nil: its id, its role, and
// its hash when it has one. The error never quotes the hash.
func (e Entry) Check() error {
	if !ValidID(e.ID) {
		return fmt.Errorf("%.70q is not an officer number (letters, digits, '.', '_' and '-', at most %d; no names or spaces)", e.ID, MaxID)
	}
	if _, err := ParseRole(string(e.Role)); err != nil {
		return fmt.Errorf("officer %s: %w", e.ID, err)
	}
	if e.PINHash != "" {
		if err := CheckHash(e.PINHash); err != nil {
			return fmt.Errorf("officer %s: %w", e.ID, err)
		}
	}
	return nil
}
