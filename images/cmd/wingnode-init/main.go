//go:build linux

// Command wingnode-init is the init (PID 1) of a wingnode image: it mounts
// the kernel's file systems, configures the network as the image's boot
// configuration says (images/bootconf), starts the appliance, and watches
// it.
//
// It runs in two stages. Booted from the disk image, the boot loader entry
// names the slot on the kernel command line (wingnode.slot=root-a); the
// init in the initramfs, which no update changes, makes that slot's
// squashfs partition the root and starts the slot's own copy of the init
// for the second stage, so an update carries its init with it. Booted
// directly, everything is in the initramfs and one process runs both.
//
// The second stage mounts the ext4 partition named data on /data,
// reconciles the slot state with what systemd-boot did (firmware.Device),
// snapshots the event store before a build runs for the first time, starts
// wingnode, pets the hardware watchdog while wingnode's health check
// answers, and confirms a slot on trial once it is healthy. If wingnode
// exits, the board reboots; on SIGTERM (what wingnode sends to reboot
// after an update) wingnode is stopped, the watchdog disarmed and the board
// rebooted. If the init itself fails, the kernel panics and, with
// panic=-1, reboots (QEMU run with -no-reboot ends).
package main

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// systemStage is the argument that starts the second stage.
const systemStage = "system"

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == systemStage {
		err = system()
	} else {
		err = boot()
	}
	logf("%v", err)
	os.Exit(1)
}

// logf writes a line on the console.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "wingnode-init: "+format+"\n", args...)
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

// boot is the first stage: it mounts /proc, /sys and /dev and, booted from
// the disk, switches to the booted slot and starts its init; booted
// directly, it goes on with the second stage itself. It returns only on
// failure.
func boot() error {
	for _, m := range []struct{ fstype, target string }{
		{"proc", "/proc"},
		{"sysfs", "/sys"},
		{"devtmpfs", "/dev"},
	} {
		if err := mount(m.fstype, m.target); err != nil {
			return err
		}
	}
	slot, err := bootedSlot()
	if err != nil {
		return err
	}
	if slot == "" {
		return system()
	}
	if err := switchToSlot(slot); err != nil {
		return err
	}
	err = unix.Exec(slotInit, []string{"wingnode-init", systemStage}, os.Environ()) // returns only on failure
	return fmt.Errorf("start the init of slot %s: %w", slot, err)
}
