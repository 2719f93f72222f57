//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// diskWait bounds the wait for a partition to appear: the disk driver may
// still be probing when the init starts.
const diskWait = 10 * time.Second

// slotParam is the kernel parameter by which the boot loader entry names the
// slot it booted: the GPT name of a root partition (root-a or root-b).
const slotParam = "wingnode.slot"

// bootedSlot returns the value of slotParam on the kernel command line, or
// "" when there is none (a direct kernel boot, whose root is the initramfs).
func bootedSlot() (string, error) {
	b, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, slotParam+"="); ok {
			return v, nil
		}
	}
	return "", nil
}

// switchToSlot mounts the squashfs of the partition named slot read-only
// and makes it the root, keeping /dev, /proc and /sys, as switch_root does.
// The initramfs stays in memory but is small: it holds only this init.
func switchToSlot(slot string) error {
	dev, err := waitForPartition(slot, diskWait)
	if err != nil {
		return err
	}
	const newRoot = "/slot"
	if err := os.MkdirAll(newRoot, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(dev, newRoot, "squashfs", unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("mount slot %s (%s): %w", slot, dev, err)
	}
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		if err := unix.Mount(d, newRoot+d, "", unix.MS_MOVE, ""); err != nil {
			return fmt.Errorf("move %s into slot %s: %w", d, slot, err)
		}
	}
	if err := unix.Chdir(newRoot); err != nil {
		return err
	}
	if err := unix.Mount(".", "/", "", unix.MS_MOVE, ""); err != nil {
		return fmt.Errorf("make slot %s the root: %w", slot, err)
	}
	if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("make slot %s the root: %w", slot, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wingnode-init: root is slot %s (%s)\n", slot, dev)
	return nil
}

// mountData mounts the ext4 partition named data on /data.
func mountData() error {
	dev, err := waitForPartition("data", diskWait)
	if err != nil {
		return err
	}
	if err := unix.Mount(dev, "/data", "ext4", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount data partition %s on /data: %w", dev, err)
	}
	return nil
}

// waitForPartition returns the device node of the one partition whose GPT
// name is name, waiting for the disk to appear.
func waitForPartition(name string, wait time.Duration) (string, error) {
	deadline := time.Now().Add(wait)
	for {
		devs, err := partitionsNamed(name)
		switch {
		case err != nil:
			return "", err
		case len(devs) == 1:
			return devs[0], nil
		case len(devs) > 1:
			return "", fmt.Errorf("partitions %v are all named %s; unplug the other wingnode disk", devs, name)
		case time.Now().After(deadline):
			return "", fmt.Errorf("no partition named %s after %v: is this a wingnode disk image?", name, wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// partitionsNamed lists the device nodes of the partitions whose GPT name
// is name, from the uevent files of /sys/class/block.
func partitionsNamed(name string) ([]string, error) {
	uevents, err := filepath.Glob("/sys/class/block/*/uevent")
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, u := range uevents {
		b, err := os.ReadFile(u)
		if err != nil {
			continue // the device went away
		}
		vars := map[string]string{}
		for line := range strings.Lines(string(b)) {
			k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
			vars[k] = v
		}
		if vars["PARTNAME"] == name && vars["DEVNAME"] != "" {
			devs = append(devs, "/dev/"+vars["DEVNAME"])
		}
	}
	return devs, nil
}
