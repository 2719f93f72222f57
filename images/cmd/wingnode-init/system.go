//go:build linux

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"wingnode/firmware"
	"wingnode/images/bootconf"
)

// slotInit is where a slot holds its copy of this init.
const slotInit = "/usr/bin/wingnode-init"

// dataDir is the data partition's mount point.
const dataDir = "/data"

// keepSnapshots is how many store snapshots are kept.
const keepSnapshots = 2

// system is the second stage (see the package comment). It returns only
// on failure; otherwise the board reboots.
func system() error {
	if err := mount("tmpfs", "/tmp"); err != nil {
		return err
	}
	slot, err := bootedSlot()
	if err != nil {
		return err
	}
	var confirm func() error
	if slot != "" {
		if err := mountData(); err != nil {
			return err
		}
		// The slot bookkeeping must not stop the wing: a failure here
		// leaves the slot unconfirmed, so a trial falls back.
		if confirm, err = reconcile(slot); err != nil {
			logf("slot %s: %v; this boot will not be confirmed", slot, err)
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
	var dog *watchdog
	if cfg.Watchdog != nil {
		if dog, err = openWatchdog(cfg.Watchdog.Device, time.Duration(cfg.Watchdog.Timeout)*time.Second); err != nil {
			// A board without it still runs the wing; it only loses the
			// reset on a hang.
			logf("%v; a hang will not reset the board", err)
		} else {
			logf("watchdog %s armed: %d s", cfg.Watchdog.Device, cfg.Watchdog.Timeout)
		}
	}
	command := cfg.Command
	if _, err := os.Stat(bootconf.WingConfig); err == nil {
		command = append(command[:len(command):len(command)], "-config", bootconf.WingConfig)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, unix.SIGTERM, unix.SIGINT)
	logf("starting %v", command)
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = []string{"PATH=/usr/bin", "HOME=/data", "TMPDIR=/tmp", "WINGNODE_INIT=1"}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", command[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	sv := supervisor{health: cfg.Health, grace: time.Duration(cfg.StartGrace) * time.Second, dog: dog, confirm: confirm}
	if sv.run(exited, signals) {
		logf("stopping %s", command[0])
		cmd.Process.Signal(unix.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if dog != nil {
			if err := dog.disarm(); err != nil {
				logf("%v", err)
			}
		}
	}
	// A failing wing must not look healthy: restart the board.
	unix.Sync()
	if slot != "" {
		if err := unix.Mount("", dataDir, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			logf("remount /data read-only: %v", err)
		}
	}
	logf("rebooting")
	return unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
}

// reconcile brings the slot state up to date with what the boot loader
// did, snapshots the store before a build's first run, and returns how to
// confirm the slot once the health check passes.
func reconcile(slot string) (func() error, error) {
	name, ok := strings.CutPrefix(slot, "root-")
	if !ok || (name != string(firmware.SlotA) && name != string(firmware.SlotB)) {
		return nil, fmt.Errorf("%s=%s is not root-a or root-b", slotParam, slot)
	}
	// Without efivarfs (booted without UEFI) no entry counted.
	if err := unix.Mount("efivarfs", "/sys/firmware/efi/efivars", "efivarfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil && !errors.Is(err, fs.ErrNotExist) {
		logf("mount efivarfs: %v", err)
	}
	dev, err := firmware.LoadDevice(dataDir)
	if err != nil {
		return nil, err
	}
	countPath, err := firmware.LoaderBootCountPath()
	if err != nil {
		return nil, err
	}
	s, err := dev.Booted(firmware.SlotName(name), countPath)
	if err != nil {
		return nil, err
	}
	running := s.Slot(s.Active)
	logf("slot %s: build %d (%s), %s, %d tries left", slot, running.Version, running.Display, running.Status, running.Tries)
	snap, err := snapshotStore(dataDir, running.Version, keepSnapshots)
	switch {
	case err != nil:
		// The store itself is intact; only the way back is missing.
		logf("store snapshot before build %d: %v", running.Version, err)
	case snap != "":
		logf("store snapshot before build %d's first run: %s", running.Version, snap)
	}
	return func() error {
		s, err := dev.Confirm()
		if err == nil {
			logf("slot %s confirmed: build %d is good", slot, s.Slot(s.Active).Version)
		}
		return err
	}, nil
}
