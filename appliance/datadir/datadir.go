// Package datadir names every file and folder wingnode keeps in a wing's
// data folder, in one place, and writes them whole or not at all. The
// appliance, the command line, the image builder and its init, the bench
// and the site runner all find a wing's files through it.
//
// A data folder holds:
//
//	wing.db                 the event store (appliance/store)
//	held.spool              observed events the store refused, kept across a restart (appliance/recording)
//	siteit.sha256           SHA-256 of site IT's token, in hex; never the token
//	site/identity/          this wing's site certificate and key (sync/trust)
//	site/ca/                the site CA, on the wing that formed the site
//	site/raft/              raft's log, votes and snapshots (sync/site)
//	site/addr               the site address other wings reach this wing at
//	site/enrol-token        a one-time enrolment token provisioned into an image
//	site/rebuild            present while the wing must rebuild its events from the site before recording
//	firmware/slots.json     the A/B slot state (firmware)
//	firmware/bundles/       the bundle of the site's current rollout, by SHA-256
//	firmware/rollout-attempt the bundle this wing rebooted into, during a rollout
//	firmware/builds-run     the builds that have run here (the image's init)
//	snapshots/              copies of wing.db taken before a new build's first run
package datadir

import (
	"os"
	"path/filepath"
)

// The names inside a data folder, relative to it, for builders that write a
// data partition without mounting it.
const (
	StoreFile      = "wing.db"
	HeldSpoolFile  = "held.spool"
	SiteITHashFile = "siteit.sha256"
	SiteFolder     = "site"
	IdentityFolder = "site/identity"
	CAFolder       = "site/ca"
	RaftFolder     = "site/raft"
	SiteAddrFile   = "site/addr"
	EnrolTokenFile = "site/enrol-token"
	RebuildFile    = "site/rebuild"
	FirmwareFolder = "firmware"
	SlotsFile      = "firmware/slots.json"
	BundlesFolder  = "firmware/bundles"
	AttemptFile    = "firmware/rollout-attempt"
	BuildsRunFile  = "firmware/builds-run"
	SnapshotFolder = "snapshots"
)

// Dir is a wing's data folder.
type Dir string

func (d Dir) join(name string) string { return filepath.Join(string(d), filepath.FromSlash(name)) }

// Store is the event store's file.
func (d Dir) Store() string { return d.join(StoreFile) }

// HeldSpool is the file that keeps observed events the store refused.
func (d Dir) HeldSpool() string { return d.join(HeldSpoolFile) }

// SiteITHash is the file holding the SHA-256 of site IT's token.
func (d Dir) SiteITHash() string { return d.join(SiteITHashFile) }

// Site is the folder of the wing's site membership.
func (d Dir) Site() string { return d.join(SiteFolder) }

// Identity is the folder of this wing's site certificate and key.
func (d Dir) Identity() string { return d.join(IdentityFolder) }

// CA is the folder of the site CA, on a wing that holds it.
func (d Dir) CA() string { return d.join(CAFolder) }

// Raft is raft's own folder.
func (d Dir) Raft() string { return d.join(RaftFolder) }

// SiteAddr is the file holding the address of this wing's site port.
func (d Dir) SiteAddr() string { return d.join(SiteAddrFile) }

// EnrolToken is a provisioned one-time enrolment token, used at the first
// start and then removed.
func (d Dir) EnrolToken() string { return d.join(EnrolTokenFile) }

// Rebuild marks a wing that must fetch its own events from the site
// before it records again: a board that replaces the wing, or a store
// restored from a backup. The appliance removes it once it has caught up.
func (d Dir) Rebuild() string { return d.join(RebuildFile) }

// Slots is the firmware slot state file.
func (d Dir) Slots() string { return d.join(SlotsFile) }

// Bundles is the folder of the current rollout's bundle.
func (d Dir) Bundles() string { return d.join(BundlesFolder) }

// Bundle is where the bundle with the given SHA-256 (hex) is kept.
func (d Dir) Bundle(digest string) string { return filepath.Join(d.Bundles(), digest+".bundle") }

// RolloutAttempt records the digest of the bundle this wing rebooted into.
func (d Dir) RolloutAttempt() string { return d.join(AttemptFile) }

// BuildsRun lists the builds that have run on this wing.
func (d Dir) BuildsRun() string { return d.join(BuildsRunFile) }

// Snapshots is the folder of store snapshots.
func (d Dir) Snapshots() string { return d.join(SnapshotFolder) }

// WriteFile writes data to path so that a reader, a crash or a power cut
// finds either the old file or the new one whole, never half of one: it
// writes a temporary file beside path with mode perm, syncs it, renames it
// over path and syncs the folder. The folder must exist.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // nothing to remove after the rename
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	_ = dir.Sync() // not every file system syncs a folder; the rename is what matters
	return nil
}
