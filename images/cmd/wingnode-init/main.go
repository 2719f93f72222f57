//go:build linux

// Command wingnode-init is the init (PID 1) of a wingnode image: it mounts
// the kernel's file systems, configures the network as the image's boot
// configuration says (images/bootconf), and replaces itself with the
// configured command, the wingnode appliance.
//
// Booted from the disk image, the boot loader entry names the slot on the
// kernel command line (wingnode.slot=root-a): the init then makes that
// slot's squashfs partition the root and mounts the ext4 partition named
// data on /data. Booted directly, everything is in the initramfs.
//
// If it fails, or the appliance exits, the kernel panics; images boot with
// panic=-1, so the board restarts (and QEMU, run with -no-reboot, ends).
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"wingnode/images/bootconf"
)

func main() {
	err := run()
	fmt.Fprintf(os.Stderr, "wingnode-init: %v\n", err)
	os.Exit(1)
}

// mount mounts a kernel file system of type fstype on target.
func mount(fstype, target string) error {
	if err := os.MkdirAll(target, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(fstype, target, fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
	}
	return nil
}

// run sets the system up and replaces the process with the configured
// command; it returns only on failure.
func run() error {
	for _, m := range []struct{ fstype, target string }{
		{"proc", "/proc"},
		{"sysfs", "/sys"},
		{"devtmpfs", "/dev"},
	} {
		if err := mount(m.fstype, m.target); err != nil {
			return err
		}
	}
	// Booted from the disk, the root is the booted slot and the data
	// partition holds /data; booted directly, both are in the initramfs.
	slot, err := bootedSlot()
	if err != nil {
		return err
	}
	if slot != "" {
		if err := switchToSlot(slot); err != nil {
			return err
		}
	}
	if err := mount("tmpfs", "/tmp"); err != nil {
		return err
	}
	if slot != "" {
		if err := mountData(); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(bootconf.Path)
	if err != nil {
		return err
	}
	cfg, err := bootconf.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", bootconf.Path, err)
	}
	if err := configureNetwork(cfg.Network); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wingnode-init: starting %v\n", cfg.Command)
	env := []string{"PATH=/usr/bin", "HOME=/data", "TMPDIR=/tmp"}
	err = unix.Exec(cfg.Command[0], cfg.Command, env) // returns only on failure
	return fmt.Errorf("exec %s: %w", cfg.Command[0], err)
}
