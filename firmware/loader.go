package firmware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The boot loader's side of the slots: one systemd-boot entry per bootable
// slot in the EFI system partition's loader/entries, following the Boot
// Loader Specification's boot counting. See DESIGN.md, "Trial boot".
const (
	// EntriesDir is where the entries sit, relative to the ESP's root.
	EntriesDir = "loader/entries"
	// entrySortKey groups our entries; with a sort key, systemd-boot
	// orders entries by version, newest first, and entries with no tries
	// left last, and boots the first when loader.conf names no default.
	entrySortKey = "wingnode"
)

// BootEntry is the file name of a slot's entry: root-b.conf for a slot the
// boot loader boots without counting; root-b+3.conf for a trial with 3
// tries left; root-b+2-1.conf once systemd-boot has used one of them.
type BootEntry struct {
	Slot     SlotName
	Counting bool // the name carries a boot counter
	Left     int  // tries left, when Counting
	Done     int  // tries used, when Counting
}

// String returns the file name.
func (e BootEntry) String() string {
	name := "root-" + string(e.Slot)
	switch {
	case !e.Counting:
	case e.Done == 0:
		name += fmt.Sprintf("+%d", e.Left)
	default:
		name += fmt.Sprintf("+%d-%d", e.Left, e.Done)
	}
	return name + ".conf"
}

// ParseBootEntry parses an entry's file name, or a path ending in one as
// systemd-boot reports it in LoaderBootCountPath
// (\loader\entries\root-b+2-1.conf). It wraps ErrState for a name that is
// not one of ours.
func ParseBootEntry(name string) (BootEntry, error) {
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	stem, ok := strings.CutSuffix(base, ".conf")
	if !ok {
		return BootEntry{}, fmt.Errorf("%w: boot entry %q does not end in .conf", ErrState, name)
	}
	slot, counter, counting := strings.Cut(stem, "+")
	var e BootEntry
	switch slot {
	case "root-a":
		e.Slot = SlotA
	case "root-b":
		e.Slot = SlotB
	default:
		return BootEntry{}, fmt.Errorf("%w: boot entry %q is not root-a or root-b", ErrState, name)
	}
	if !counting {
		return e, nil
	}
	e.Counting = true
	left, done, hasDone := strings.Cut(counter, "-")
	var err error
	if e.Left, err = counterValue(left); err != nil {
		return BootEntry{}, fmt.Errorf("%w: boot entry %q: %w", ErrState, name, err)
	}
	if hasDone {
		if e.Done, err = counterValue(done); err != nil {
			return BootEntry{}, fmt.Errorf("%w: boot entry %q: %w", ErrState, name, err)
		}
	}
	return e, nil
}

func counterValue(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("boot counter %q is not a number", s)
	}
	return n, nil
}

// LoaderEntry returns the text of slot n's entry: its kernel and initramfs
// on the ESP, the kernel options with the slot named (wingnode.slot=root-n),
// and the slot's build number as the version systemd-boot sorts by.
func LoaderEntry(n SlotName, sl Slot, options string) []byte {
	root := "root-" + string(n)
	title := "wingnode " + strconv.FormatUint(sl.Version, 10)
	if sl.Display != "" {
		title += " (" + sl.Display + ")"
	}
	// The linux line comes last: an entry cut short by a power cut has
	// none, or a wrong path, and is not booted.
	return fmt.Appendf(nil, "title %s, %s\nsort-key %s\nversion %d\noptions %s wingnode.slot=%s\ninitrd /%s/initrd.cpio\nlinux /%s/vmlinuz\n",
		title, root, entrySortKey, sl.Version, strings.TrimSpace(options), root, root, root)
}

// ESP is the folder where the EFI system partition is mounted.
type ESP string

// Entry returns the file name of slot n's entry; ok is false when it has
// none.
func (esp ESP) Entry(n SlotName) (e BootEntry, ok bool, err error) {
	names, err := esp.entries(n)
	switch {
	case err != nil:
		return BootEntry{}, false, err
	case len(names) == 0:
		return BootEntry{}, false, nil
	case len(names) > 1:
		return BootEntry{}, false, fmt.Errorf("%w: slot %s has %d boot entries (%s); remove all but one", ErrState, n, len(names), strings.Join(names, ", "))
	}
	e, err = ParseBootEntry(names[0])
	return e, err == nil, err
}

// entries lists the file names of slot n's entries.
func (esp ESP) entries(n SlotName) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(string(esp), EntriesDir))
	if err != nil {
		return nil, fmt.Errorf("firmware: boot entries: %w", err)
	}
	var names []string
	for _, de := range des {
		if e, err := ParseBootEntry(de.Name()); err == nil && e.Slot == n && de.Type().IsRegular() {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// Remove removes slot n's entry, so the boot loader can no longer boot
// the slot. It does nothing when there is none.
func (esp ESP) Remove(n SlotName) error {
	names, err := esp.entries(n)
	if err != nil {
		return err
	}
	dir := filepath.Join(string(esp), EntriesDir)
	for _, name := range names {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("firmware: remove boot entry: %w", err)
		}
	}
	return syncDir(dir)
}

// Arm writes the entry of slot n, which the state sl describes: a trial
// slot's entry counts its tries (root-n+3.conf), a good slot's does not.
// Its version makes it sort before an older slot, so it is booted next.
func (esp ESP) Arm(n SlotName, sl Slot, options string) error {
	if sl.Status == Bad {
		return fmt.Errorf("%w: slot %s is bad and gets no boot entry", ErrState, n)
	}
	if err := esp.Remove(n); err != nil {
		return err
	}
	e := BootEntry{Slot: n, Counting: sl.Status == Trial, Left: sl.Tries}
	dir := filepath.Join(string(esp), EntriesDir)
	if err := writeFileSynced(filepath.Join(dir, e.String()), LoaderEntry(n, sl, options)); err != nil {
		return fmt.Errorf("firmware: write boot entry %s: %w", e, err)
	}
	return syncDir(dir)
}

// Bless drops the boot counter from slot n's entry (root-b+1-2.conf
// becomes root-b.conf), as systemd-bless-boot does once the system is
// healthy: the boot loader then boots it without counting. It does nothing
// when the entry has no counter, and fails when the slot has no entry.
func (esp ESP) Bless(n SlotName) error {
	e, ok, err := esp.Entry(n)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%w: slot %s has no boot entry to bless", ErrState, n)
	case !e.Counting:
		return nil
	}
	dir := filepath.Join(string(esp), EntriesDir)
	if err := os.Rename(filepath.Join(dir, e.String()), filepath.Join(dir, BootEntry{Slot: n}.String())); err != nil {
		return fmt.Errorf("firmware: bless boot entry: %w", err)
	}
	return syncDir(dir)
}

// writeFileSynced writes a new file and syncs it. On FAT a rename is no
// more atomic than this (see LoaderEntry for a half-written entry).
func writeFileSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
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
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("firmware: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("firmware: sync %s: %w", dir, err)
	}
	return nil
}

// loaderVendorGUID is the vendor of systemd-boot's EFI variables
// (LoaderEntrySelected, LoaderBootCountPath, ...).
const loaderVendorGUID = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"

// decodeEFIString decodes an EFI string variable as efivarfs shows it: 4
// bytes of attributes, then UTF-16LE ending in a NUL.
func decodeEFIString(b []byte) (string, error) {
	if len(b) < 4 || len(b)%2 != 0 {
		return "", fmt.Errorf("%w: EFI string variable of %d bytes", ErrState, len(b))
	}
	u := make([]uint16, 0, (len(b)-4)/2)
	for i := 4; i < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return string(utf16.Decode(u)), nil
}
