package trust

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"wingnode/appliance/datadir"
)

// Markers kept in an Authority's folder, never in a backup.
const (
	restoredFile = "restored"    // the folder came from a backup (RestoreAuthority)
	backedUpFile = "last-backup" // when the folder was last sealed into a backup
)

// MinPassphrase is the fewest characters a backup's passphrase may have.
const MinPassphrase = 12

// MaxBackup bounds the size of a backup file that is read.
const MaxBackup = 32 << 20

// backupMagic starts every backup file, so that `head -1` says what it is.
const backupMagic = "wingnode site CA backup v1\n"

// kdfParams are argon2id's costs. They travel in the backup's header, so
// they can change without breaking old backups.
type kdfParams struct {
	time    uint32
	memory  uint32 // KiB
	threads uint8
}

// backupKDF is RFC 9106's second recommended setting: 3 passes over
// 64 MiB. Tests lower it.
var backupKDF = kdfParams{time: 3, memory: 64 << 10, threads: 4}

// Limits on the costs a backup's header may ask of the wing that opens it.
const (
	maxKDFTime   = 64
	maxKDFMemory = 1 << 20 // KiB: 1 GiB
)

const (
	saltLen  = 16
	checkSum = 16
)

// Backup refusals, returned wrapped. Each says what to do.
var (
	ErrNotBackup     = errors.New("not a wingnode site CA backup (made by 'wingnode site ca-backup')")
	ErrWrongPass     = errors.New("wrong passphrase for this backup (or its header was altered): nothing was written")
	ErrBackupDamaged = errors.New("the backup was altered or damaged after it was made, so it cannot be trusted: nothing was written; use another copy")
	ErrOtherSite     = errors.New("the backup holds another site's CA, not the one this wing's site certificate names (site-ca.crt): nothing was written")
	ErrHoldsCA       = errors.New("this wing already holds a site CA: nothing was written")
	ErrShortPass     = fmt.Errorf("a backup's passphrase has at least %d characters", MinPassphrase)
)

// SealedAuthority is a site CA sealed with a passphrase, as read from a
// backup file: its header is readable, its contents only with the
// passphrase.
type SealedAuthority struct {
	// Site is the site's name and CAFingerprint the SHA-256 of its CA
	// certificate, as the header states them. They are authenticated: a
	// header changed after sealing does not open.
	Site          string
	CAFingerprint [32]byte

	kdf    kdfParams
	salt   []byte
	check  []byte
	nonce  []byte
	header []byte // the bytes the AEAD authenticates
	sealed []byte
}

// backupContents is what a backup seals: the CA's files by their path
// inside the folder.
type backupContents struct {
	Taken time.Time         `json:"taken"`
	Files map[string][]byte `json:"files"`
}

// Backup seals the authority's files — the CA certificate and key, the
// enrolment tokens' hashes and the record of every certificate issued —
// with passphrase (argon2id, then XChaCha20-Poly1305) and returns the
// backup file's bytes. It reads the folder under its lock. Record a
// backup that was kept with MarkBackedUp.
func (a *Authority) Backup(passphrase []byte) ([]byte, error) {
	if utf8.RuneCount(passphrase) < MinPassphrase {
		return nil, fmt.Errorf("trust: back up the site CA: %w", ErrShortPass)
	}
	unlock, err := lockDir(a.dir)
	if err != nil {
		return nil, fmt.Errorf("trust: back up the site CA: lock %s: %w", a.dir, err)
	}
	files := map[string][]byte{}
	for _, name := range []string{caCertFile, caKeyFile} {
		b, err := os.ReadFile(filepath.Join(a.dir, name))
		if err != nil {
			unlock()
			return nil, fmt.Errorf("trust: back up the site CA: %w", err)
		}
		files[name] = b
	}
	for _, sub := range []string{tokensDir, issuedDir} {
		ents, err := os.ReadDir(filepath.Join(a.dir, sub))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			unlock()
			return nil, fmt.Errorf("trust: back up the site CA: %w", err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || !backupName.MatchString(e.Name()) {
				continue // temporary files of an interrupted write
			}
			b, err := os.ReadFile(filepath.Join(a.dir, sub, e.Name()))
			if err != nil {
				unlock()
				return nil, fmt.Errorf("trust: back up the site CA: %w", err)
			}
			files[sub+"/"+e.Name()] = b
		}
	}
	unlock()
	plain, err := json.Marshal(backupContents{Taken: a.now().UTC(), Files: files})
	if err != nil {
		return nil, fmt.Errorf("trust: back up the site CA: %w", err)
	}
	s := &SealedAuthority{Site: a.site, CAFingerprint: a.Fingerprint(), kdf: backupKDF}
	s.salt = make([]byte, saltLen)
	s.nonce = make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(s.salt); err != nil {
		return nil, fmt.Errorf("trust: back up the site CA: %w", err)
	}
	if _, err := rand.Read(s.nonce); err != nil {
		return nil, fmt.Errorf("trust: back up the site CA: %w", err)
	}
	key, check := s.derive(passphrase)
	s.check = check
	s.header = s.encodeHeader()
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("trust: back up the site CA: %w", err)
	}
	out := append([]byte{}, s.header...)
	return aead.Seal(out, s.nonce, plain, s.header), nil
}

// backupName is a file name a backup may carry inside tokens/ or issued/:
// a token's hash (with .used when spent) or a wing id's .pem.
var backupName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$`)

// MarkBackedUp records that a backup of the authority was written and
// kept, so that the wing stops asking for one.
func (a *Authority) MarkBackedUp() error {
	stamp := a.now().UTC().Format(time.RFC3339) + "\n"
	if err := datadir.WriteFile(filepath.Join(a.dir, backedUpFile), []byte(stamp), 0o600); err != nil {
		return fmt.Errorf("trust: record the backup: %w", err)
	}
	return nil
}

// BackedUp reports whether a backup of the authority was ever taken here
// or restored from: until then, losing this board loses the site CA.
func (a *Authority) BackedUp() bool {
	for _, name := range []string{backedUpFile, restoredFile} {
		if ok, _ := exists(filepath.Join(a.dir, name)); ok {
			return true
		}
	}
	return false
}

// Restored reports whether the authority was installed from a backup
// rather than made here by InitSite. A wing holding a restored CA never
// forms a new site of its own.
func (a *Authority) Restored() bool {
	ok, _ := exists(filepath.Join(a.dir, restoredFile))
	return ok
}

// derive stretches passphrase with the header's salt and costs into the
// AEAD key and a check value that tells a wrong passphrase from a damaged
// file. The check tells an attacker nothing the AEAD would not.
func (s *SealedAuthority) derive(passphrase []byte) (key, check []byte) {
	k := argon2.IDKey(passphrase, s.salt, s.kdf.time, s.kdf.memory, s.kdf.threads, 64)
	sum := sha256.Sum256(append([]byte("wingnode ca-backup check\x00"), k[32:]...))
	return k[:32], sum[:checkSum]
}

func (s *SealedAuthority) encodeHeader() []byte {
	var b bytes.Buffer
	b.WriteString(backupMagic)
	b.WriteByte(byte(len(s.Site)))
	b.WriteString(s.Site)
	b.Write(s.CAFingerprint[:])
	b.Write(binary.BigEndian.AppendUint32(nil, s.kdf.time))
	b.Write(binary.BigEndian.AppendUint32(nil, s.kdf.memory))
	b.WriteByte(s.kdf.threads)
	b.Write(s.salt)
	b.Write(s.check)
	b.Write(s.nonce)
	return b.Bytes()
}

// ReadBackup reads a backup file's header. Its contents stay sealed until
// Restore. The error wraps ErrNotBackup for a file that is not one.
func ReadBackup(b []byte) (*SealedAuthority, error) {
	bad := func(why string) (*SealedAuthority, error) {
		return nil, fmt.Errorf("trust: %w: %s", ErrNotBackup, why)
	}
	if len(b) > MaxBackup {
		return bad("the file is too large")
	}
	rest, ok := bytes.CutPrefix(b, []byte(backupMagic))
	if !ok {
		return bad("it does not start with " + strings.TrimSpace(backupMagic))
	}
	s := &SealedAuthority{}
	if len(rest) < 1 {
		return bad("it is cut short")
	}
	n := int(rest[0])
	fixed := n + 32 + 4 + 4 + 1 + saltLen + checkSum + chacha20poly1305.NonceSizeX
	if len(rest) < 1+fixed+chacha20poly1305.Overhead {
		return bad("it is cut short")
	}
	rest = rest[1:]
	s.Site, rest = string(rest[:n]), rest[n:]
	copy(s.CAFingerprint[:], rest)
	rest = rest[32:]
	s.kdf.time, rest = binary.BigEndian.Uint32(rest), rest[4:]
	s.kdf.memory, rest = binary.BigEndian.Uint32(rest), rest[4:]
	s.kdf.threads, rest = rest[0], rest[1:]
	s.salt, rest = rest[:saltLen], rest[saltLen:]
	s.check, rest = rest[:checkSum], rest[checkSum:]
	s.nonce, rest = rest[:chacha20poly1305.NonceSizeX], rest[chacha20poly1305.NonceSizeX:]
	s.header, s.sealed = b[:len(b)-len(rest)], rest
	if s.kdf.time < 1 || s.kdf.time > maxKDFTime || s.kdf.memory < 8*uint32(max(s.kdf.threads, 1)) || s.kdf.memory > maxKDFMemory || s.kdf.threads < 1 {
		return bad("its key-derivation costs are out of bounds")
	}
	return s, nil
}

// Restore opens the backup with passphrase and installs the site CA in
// dir, the CA folder of a wing whose site certificate is siteCA (its
// site-ca.crt). It writes nothing unless every check passes: the backup
// is of siteCA's site (ErrOtherSite), the passphrase opens it
// (ErrWrongPass), nothing in it was changed (ErrBackupDamaged), its key
// matches its certificate, and dir holds no CA (ErrHoldsCA). The folder
// is staged beside dir and renamed into place, so a crash leaves either
// no CA or the whole of it.
func (s *SealedAuthority) Restore(dir string, passphrase []byte, siteCA *x509.Certificate) (*Authority, error) {
	if s.CAFingerprint != Fingerprint(siteCA) {
		return nil, fmt.Errorf("trust: restore the site CA: %w (the backup is of site %q, this wing is of site %q)", ErrOtherSite, s.Site, SiteID(siteCA))
	}
	if err := refuseCA(dir); err != nil {
		return nil, err
	}
	key, check := s.derive(passphrase)
	if subtle.ConstantTimeCompare(check, s.check) != 1 {
		return nil, fmt.Errorf("trust: restore the site CA: %w", ErrWrongPass)
	}
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("trust: restore the site CA: %w", err)
	}
	plain, err := aead.Open(nil, s.nonce, s.sealed, s.header)
	if err != nil {
		return nil, fmt.Errorf("trust: restore the site CA: %w", ErrBackupDamaged)
	}
	var c backupContents
	if err := json.Unmarshal(plain, &c); err != nil {
		return nil, fmt.Errorf("trust: restore the site CA: %w: unreadable contents", ErrBackupDamaged)
	}
	if err := c.check(siteCA); err != nil {
		return nil, fmt.Errorf("trust: restore the site CA: %w", err)
	}
	if err := c.install(dir); err != nil {
		return nil, fmt.Errorf("trust: restore the site CA into %s: %w", dir, err)
	}
	return LoadAuthority(dir)
}

// refuseCA refuses a folder that holds a CA or anything else: restoring
// never merges into, or replaces, what a folder holds.
func refuseCA(dir string) error {
	for _, name := range []string{caCertFile, caKeyFile} {
		ok, err := exists(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("trust: restore the site CA: %w", err)
		}
		if ok {
			return fmt.Errorf("trust: restore the site CA: %w (%s)", ErrHoldsCA, dir)
		}
	}
	if ok, err := exists(dir); err != nil {
		return fmt.Errorf("trust: restore the site CA: %w", err)
	} else if ok {
		return fmt.Errorf("trust: restore the site CA: %s exists but holds no site CA; move it aside, then restore again (nothing was written)", dir)
	}
	return nil
}

// check verifies what a backup holds before any of it is written: the CA
// certificate is siteCA, the key is its key, and every name is one the
// folder may hold.
func (c backupContents) check(siteCA *x509.Certificate) error {
	cert, err := parseCertPEM(c.Files[caCertFile])
	if err != nil || !cert.Equal(siteCA) {
		return fmt.Errorf("%w: its CA certificate is not this wing's site-ca.crt", ErrOtherSite)
	}
	blk, _ := pem.Decode(c.Files[caKeyFile])
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return fmt.Errorf("%w: it holds no CA key", ErrBackupDamaged)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	signer, ok := k.(crypto.Signer)
	if err != nil || !ok || !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return fmt.Errorf("%w: its CA key does not match its certificate", ErrBackupDamaged)
	}
	for name := range c.Files {
		sub, base := path.Split(name)
		switch {
		case sub == "" && (base == caCertFile || base == caKeyFile):
		case (sub == tokensDir+"/" || sub == issuedDir+"/") && backupName.MatchString(base):
		default:
			return fmt.Errorf("%w: it names a file %.80q a site CA does not hold", ErrBackupDamaged, name)
		}
	}
	return nil
}

// install writes the contents to a folder beside dir and renames it to
// dir, with the marker that says it was restored.
func (c backupContents) install(dir string) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".restore-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage) // nothing is left there after the rename
	for _, d := range []string{tokensDir, issuedDir} {
		if err := os.Mkdir(filepath.Join(stage, d), 0o700); err != nil {
			return err
		}
	}
	for name, b := range c.Files {
		mode := os.FileMode(0o600)
		if name == caCertFile || strings.HasPrefix(name, issuedDir+"/") {
			mode = 0o644 // certificates are public, as InitSite and issue write them
		}
		if err := datadir.WriteFile(filepath.Join(stage, filepath.FromSlash(name)), b, mode); err != nil {
			return err
		}
	}
	note := fmt.Sprintf("restored from a backup taken %s\n", c.Taken.UTC().Format(time.RFC3339))
	if err := datadir.WriteFile(filepath.Join(stage, restoredFile), []byte(note), 0o600); err != nil {
		return err
	}
	if err := os.Rename(stage, dir); err != nil {
		return err
	}
	if d, err := os.Open(parent); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
