package trust

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// cheapKDF lowers argon2id's costs for a test: the format is the same.
func cheapKDF(t *testing.T) {
	saved := backupKDF
	backupKDF = kdfParams{time: 1, memory: 64, threads: 1}
	t.Cleanup(func() { backupKDF = saved })
}

var testPass = []byte("correct horse battery staple")

// TestCABackupRestoresOnAnotherWing: the founding wing's CA, sealed and
// restored on wing B of the same site, enrols a new wing at B with a token
// issued before the backup, refuses one issued after it (the restored CA
// never saw it) and refuses a wing id it issued a certificate to.
func TestCABackupRestoresOnAnotherWing(t *testing.T) {
	cheapKDF(t)
	s := newSite(t)
	s.identity(t, "A")
	b := s.identity(t, "B")
	sealed, err := s.auth.Backup(testPass)
	if err != nil {
		t.Fatal(err)
	}
	if s.auth.BackedUp() {
		t.Fatal("backed up before the backup was kept")
	}
	if err := s.auth.MarkBackedUp(); err != nil || !s.auth.BackedUp() {
		t.Fatalf("MarkBackedUp: %v, backed up %v", err, s.auth.BackedUp())
	}

	sa, err := ReadBackup(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if sa.Site != testSite || sa.CAFingerprint != s.auth.Fingerprint() {
		t.Fatalf("header names site %q, CA %x", sa.Site, sa.CAFingerprint[:6])
	}
	dirB := filepath.Join(t.TempDir(), "site", "ca")
	restored, err := sa.Restore(dirB, testPass, b.CA())
	if err != nil {
		t.Fatal(err)
	}
	if restored.Fingerprint() != s.auth.Fingerprint() || restored.Site() != testSite {
		t.Fatal("the restored CA is not the site's")
	}
	if !restored.Restored() || !restored.BackedUp() || s.auth.Restored() {
		t.Fatalf("restored marker: restored %v (founder %v), backed up %v", restored.Restored(), s.auth.Restored(), restored.BackedUp())
	}
	if info, err := os.Stat(filepath.Join(dirB, caKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("restored key: %v %v, want mode 0600", info, err)
	}

	srvB := serve(t, b, restored.EnrolHandler(quietLog()), nil)
	early, err := s.auth.IssueToken(srvB.addr, time.Hour) // only A knows it
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Join(ctx(t), t.TempDir(), "C", early, nil); !isRefused(err) {
		t.Fatalf("a token issued after the backup: %v, want refused", err)
	}
	tok, err := restored.IssueToken(srvB.addr, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Join(ctx(t), t.TempDir(), "C", tok, nil)
	if err != nil {
		t.Fatalf("enrol at the restored CA: %v", err)
	}
	if c.CA().Equal(b.CA()) == false {
		t.Fatal("C's site CA is not B's")
	}
	again, err := restored.IssueToken(srvB.addr, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Join(ctx(t), t.TempDir(), "A", again, nil); !isRefused(err) {
		t.Fatalf("wing A, issued before the backup, enrolled twice: %v", err)
	}
}

func isRefused(err error) bool {
	var e *EnrolError
	return errors.As(err, &e) && e.Status == 403
}

// TestCARestoreRefusals: a wrong passphrase, a changed byte anywhere, a
// cut-short file, another site's CA and a wing that already holds a CA are
// each refused with their own sentence, and nothing is written.
func TestCARestoreRefusals(t *testing.T) {
	cheapKDF(t)
	s := newSite(t)
	b := s.identity(t, "B")
	sealed, err := s.auth.Backup(testPass)
	if err != nil {
		t.Fatal(err)
	}
	other := newSite(t)
	otherSealed, err := other.auth.Backup(testPass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.auth.Backup([]byte("short")); !errors.Is(err, ErrShortPass) {
		t.Fatalf("a short passphrase: %v", err)
	}
	flip := func(at int) []byte {
		c := append([]byte{}, sealed...)
		c[at] ^= 0x01
		return c
	}
	saltAt := len(backupMagic) + 1 + len(testSite) + 32 + 9
	fpAt := len(backupMagic) + 1 + len(testSite)
	cases := []struct {
		name string
		file []byte
		pass []byte
		want error
	}{
		{"wrong passphrase", sealed, []byte("correct horse battery stapler"), ErrWrongPass},
		{"a byte of the sealed contents", flip(len(sealed) - 40), testPass, ErrBackupDamaged},
		{"the tag", flip(len(sealed) - 1), testPass, ErrBackupDamaged},
		{"the nonce", flip(saltAt + saltLen + checkSum + 3), testPass, ErrBackupDamaged},
		{"the salt", flip(saltAt + 2), testPass, ErrWrongPass},
		{"the fingerprint", flip(fpAt + 5), testPass, ErrOtherSite},
		{"cut short", sealed[:len(sealed)-100], testPass, ErrBackupDamaged},
		{"cut to its header", sealed[:saltAt], testPass, ErrNotBackup},
		{"not a backup", []byte("-----BEGIN PRIVATE KEY-----\n"), testPass, ErrNotBackup},
		{"another site's CA", otherSealed, testPass, ErrOtherSite},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "ca")
			sa, err := ReadBackup(c.file)
			if err == nil {
				_, err = sa.Restore(dir, c.pass, b.CA())
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if ents, _ := os.ReadDir(parent); len(ents) != 0 {
				t.Fatalf("a refused restore wrote %v", ents)
			}
		})
	}

	// A wing that holds a CA keeps it.
	sa, err := ReadBackup(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Restore(s.dir, testPass, b.CA()); !errors.Is(err, ErrHoldsCA) {
		t.Fatalf("restore over a CA: %v", err)
	}
	if s.auth.Restored() {
		t.Fatal("the founder's folder was marked restored")
	}
}

// TestEnrolledBySiteRefused: a wing id the site holds as enrolled is
// refused a certificate even when issued/ does not record one.
func TestEnrolledBySiteRefused(t *testing.T) {
	s := newSite(t)
	s.auth.SetEnrolled(func(wing string) bool { return wing == "C" })
	if _, err := NewIdentity(t.TempDir(), "C", s.auth); !errors.Is(err, ErrAlreadyEnrolled) {
		t.Fatalf("wing C, enrolled on the site: %v", err)
	}
	if _, err := NewIdentity(t.TempDir(), "D", s.auth); err != nil {
		t.Fatalf("wing D: %v", err)
	}
}
