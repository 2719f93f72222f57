package firmware

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// DeviceConfigPath is where an image describes its update machinery, in
// its (signed) root file system.
const DeviceConfigPath = "/etc/wingnode/firmware.json"

// DeviceConfig is the content of DeviceConfigPath.
type DeviceConfig struct {
	// Hardware is what bundles must be built for, e.g. amd64-uefi.
	Hardware string `json:"hardware"`
	// Trust is the trust file: the one or two keys updates are signed by;
	// "" when the image was built without one and accepts no update.
	Trust string `json:"trust,omitempty"`
	// KernelOptions are the boot loader entries' kernel options; the
	// entry adds wingnode.slot=root-a or root-b.
	KernelOptions string `json:"kernel_options"`
}

// SlotDevice is an open slot partition.
type SlotDevice interface {
	io.WriterAt
	Sync() error
	Close() error
}

// Device is one wing's update machinery: the slot state file, the root
// slot partitions and the boot loader's entries on the EFI system
// partition. Its methods carry the pure state transitions (Prepare,
// Install, Booted, Confirm) to the disk, each state saved before the boot
// loader can act on it.
type Device struct {
	Hardware      string
	Trust         Trust
	SlotsFile     string // datadir.Dir.Slots on a wing
	KernelOptions string
	// OpenSlot opens a slot's partition for writing (OpenSlotDevice on a
	// wing).
	OpenSlot func(SlotName) (SlotDevice, error)
	// MountESP makes the EFI system partition available and returns its
	// folder and how to release it (MountESP on a wing).
	MountESP func() (ESP, func() error, error)
}

// Slots returns the slot state.
func (d Device) Slots() (Slots, error) { return LoadSlots(d.SlotsFile) }

// Install installs the bundle read from r into the inactive slot and arms
// its boot entry for a trial boot. First the slot's entry is removed and
// the slot marked bad, so a bundle that fails any check, or a power cut,
// leaves a slot the boot loader cannot boot; the running slot is never
// touched. It returns the slot state and the slot written; errors wrap
// those of Install (ErrUnconfirmed when the running slot is itself on
// trial).
func (d Device) Install(r io.Reader) (Slots, SlotName, error) {
	if len(d.Trust.IDs()) == 0 {
		return Slots{}, "", fmt.Errorf("%w: this wing trusts no signing key, so it installs no update; build its image with a trust file (wingimage -trust)", ErrKey)
	}
	s, err := d.Slots()
	if err != nil {
		return s, "", err
	}
	prepared, slot, err := Prepare(s)
	if err != nil {
		return s, "", err
	}
	if err := d.withESP(func(esp ESP) error { return esp.Remove(slot) }); err != nil {
		return s, slot, err
	}
	if err := SaveSlots(d.SlotsFile, prepared); err != nil {
		return s, slot, err
	}
	dst, err := d.OpenSlot(slot)
	if err != nil {
		return prepared, slot, err
	}
	installed, ierr := Install(r, dst, prepared, d.Trust, d.Hardware)
	ierr = errors.Join(ierr, dst.Close())
	if err := SaveSlots(d.SlotsFile, installed); err != nil {
		return prepared, slot, errors.Join(ierr, err)
	}
	if ierr != nil {
		return installed, slot, ierr
	}
	err = d.withESP(func(esp ESP) error { return esp.Arm(slot, *installed.Slot(slot), d.KernelOptions) })
	return installed, slot, err
}

// Booted reconciles the slot state with what the boot loader did (see
// Booted, the function) and removes the entry of a slot that ran out of
// tries. booted is the slot the running kernel was started for;
// countPath is systemd-boot's LoaderBootCountPath, "" when the booted
// entry has no counter.
func (d Device) Booted(booted SlotName, countPath string) (Slots, error) {
	e := BootEntry{Slot: booted}
	if countPath != "" {
		var err error
		if e, err = ParseBootEntry(countPath); err != nil {
			return Slots{}, err
		}
		if e.Slot != booted {
			return Slots{}, fmt.Errorf("%w: the kernel was started for slot %s but the boot loader counted %s", ErrState, booted, countPath)
		}
	}
	s, err := d.Slots()
	if err != nil {
		return s, err
	}
	next, err := Booted(s, e)
	if err != nil {
		return s, err
	}
	if next != s {
		if err := SaveSlots(d.SlotsFile, next); err != nil {
			return s, err
		}
	}
	if other := booted.Other(); next.Slot(other).Status == Bad {
		return next, d.withESP(func(esp ESP) error { return esp.Remove(other) })
	}
	return next, nil
}

// Confirm marks the running slot good once the health check has passed
// (Confirm, the function) and drops its entry's boot counter. It is a
// no-op on a slot that is already good with an entry that no longer
// counts.
func (d Device) Confirm() (Slots, error) {
	s, err := d.Slots()
	if err != nil {
		return s, err
	}
	confirmed, err := Confirm(s)
	if err != nil {
		return s, err
	}
	if confirmed != s {
		if err := SaveSlots(d.SlotsFile, confirmed); err != nil {
			return s, err
		}
	}
	return confirmed, d.withESP(func(esp ESP) error { return esp.Bless(confirmed.Active) })
}

// withESP runs f on the mounted EFI system partition.
func (d Device) withESP(f func(ESP) error) error {
	esp, release, err := d.MountESP()
	if err != nil {
		return err
	}
	return errors.Join(f(esp), release())
}

// ReadDeviceConfig reads a device configuration and, when it names one,
// its trust file. Without a trust file the device installs nothing.
func ReadDeviceConfig(path string) (DeviceConfig, Trust, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return DeviceConfig{}, Trust{}, fmt.Errorf("firmware: device configuration: %w", err)
	}
	var c DeviceConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return DeviceConfig{}, Trust{}, fmt.Errorf("firmware: device configuration %s: %w", path, err)
	}
	if c.Hardware == "" {
		return DeviceConfig{}, Trust{}, fmt.Errorf("firmware: device configuration %s: hardware is required", path)
	}
	if c.Trust == "" {
		return c, Trust{}, nil
	}
	tb, err := os.ReadFile(c.Trust)
	if err != nil {
		return DeviceConfig{}, Trust{}, fmt.Errorf("firmware: trust file: %w", err)
	}
	trust, err := ParseTrust(tb)
	if err != nil {
		return DeviceConfig{}, Trust{}, fmt.Errorf("%s: %w", c.Trust, err)
	}
	return c, trust, nil
}
