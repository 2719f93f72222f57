package firmware

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"wingnode/appliance/datadir"

	"golang.org/x/sys/unix"
)

// OpenSlotDevice opens slot n's partition for writing, to pass to Install.
// The partition is found by its GPT name "root-a" or "root-b" through
// /sys/class/block, so no udev is needed. It refuses a partition that is
// mounted, which catches an attempt to write the running system.
func OpenSlotDevice(n SlotName) (*os.File, error) {
	part := "root-" + string(n)
	dev, err := findPartition(os.DirFS("/sys/class/block"), part)
	if err != nil {
		return nil, err
	}
	mounts, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("firmware: open slot %s: %w", n, err)
	}
	defer mounts.Close()
	mounted, err := isMounted(mounts, dev.majorMinor)
	if err != nil {
		return nil, fmt.Errorf("firmware: open slot %s: read mounts: %w", n, err)
	}
	if mounted {
		return nil, fmt.Errorf("firmware: open slot %s: partition %s is mounted, so it is in use (the running system?); install only into the inactive slot", n, dev.name)
	}
	f, err := os.OpenFile("/dev/"+dev.name, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("firmware: open slot %s: %w", n, err)
	}
	return f, nil
}

type partition struct {
	name       string // device name under /dev, such as "vda3"
	majorMinor string // such as "254:3"
}

// findPartition looks through the uevent files of a /sys/class/block tree
// for the one partition whose GPT name is partName.
func findPartition(sysBlock fs.FS, partName string) (partition, error) {
	entries, err := fs.ReadDir(sysBlock, ".")
	if err != nil {
		return partition{}, fmt.Errorf("firmware: find partition %s: %w", partName, err)
	}
	var found []partition
	for _, e := range entries {
		b, err := fs.ReadFile(sysBlock, e.Name()+"/uevent")
		if err != nil {
			continue // not a block device directory
		}
		vars := map[string]string{}
		for line := range strings.Lines(string(b)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			vars[k] = v
		}
		if vars["PARTNAME"] == partName && vars["DEVNAME"] != "" {
			found = append(found, partition{name: vars["DEVNAME"], majorMinor: vars["MAJOR"] + ":" + vars["MINOR"]})
		}
	}
	if len(found) != 1 {
		return partition{}, fmt.Errorf("firmware: find partition %s: %d partitions have that name, want 1; is this a wingnode image (and is a second wingnode disk plugged in)?", partName, len(found))
	}
	return found[0], nil
}

// isMounted reports whether /proc/self/mountinfo lists the device.
func isMounted(mountinfo io.Reader, majorMinor string) (bool, error) {
	sc := bufio.NewScanner(mountinfo)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 2 && f[2] == majorMinor {
			return true, nil
		}
	}
	return false, sc.Err()
}

// LoadDevice returns this wing's update machinery as its image describes
// it (DeviceConfigPath), with the slot state in dataDir.
func LoadDevice(dataDir string) (Device, error) {
	c, trust, err := ReadDeviceConfig(DeviceConfigPath)
	if err != nil {
		return Device{}, err
	}
	return Device{
		Hardware:      c.Hardware,
		Trust:         trust,
		SlotsFile:     datadir.Dir(dataDir).Slots(),
		KernelOptions: c.KernelOptions,
		OpenSlot:      func(n SlotName) (SlotDevice, error) { return OpenSlotDevice(n) },
		MountESP:      MountESP,
	}, nil
}

// espPartition is the GPT name of the EFI system partition in our images.
const espPartition = "esp"

// MountESP mounts the EFI system partition (GPT name "esp") on a new
// folder under the temporary folder, for the time it takes to change a
// boot entry; release syncs and unmounts it. Keeping FAT unmounted
// otherwise means a power cut can hardly damage it.
func MountESP() (ESP, func() error, error) {
	dev, err := findPartition(os.DirFS("/sys/class/block"), espPartition)
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "esp-")
	if err != nil {
		return "", nil, fmt.Errorf("firmware: mount the ESP: %w", err)
	}
	if err := unix.Mount("/dev/"+dev.name, dir, "vfat", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "flush"); err != nil {
		os.Remove(dir)
		return "", nil, fmt.Errorf("firmware: mount the ESP (%s): %w", dev.name, err)
	}
	release := func() error {
		if err := unix.Unmount(dir, 0); err != nil {
			return fmt.Errorf("firmware: unmount the ESP: %w", err)
		}
		return os.Remove(dir)
	}
	return ESP(dir), release, nil
}

// LoaderBootCountPath returns systemd-boot's EFI variable of that name:
// the path of the booted entry's file when it counts tries, else "". The
// init mounts efivarfs on /sys/firmware/efi/efivars.
func LoaderBootCountPath() (string, error) {
	b, err := os.ReadFile("/sys/firmware/efi/efivars/LoaderBootCountPath-" + loaderVendorGUID)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("firmware: read LoaderBootCountPath: %w", err)
	}
	return decodeEFIString(b)
}
