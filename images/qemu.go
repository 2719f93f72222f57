package images

import (
	"fmt"
	"strings"
)

// The UEFI firmware for QEMU from Debian's ovmf package: the code, read-only,
// and the template of the variable store, of which each machine needs its
// own writable copy.
const (
	OVMFCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	OVMFVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// QEMUArgs returns the arguments of qemu-system-x86_64 that boot img's
// kernel and initramfs directly, in software emulation with the serial
// console on standard output; a reboot (a failed boot, or the watchdog)
// ends QEMU. See qemuCommon for the rest.
func QEMUArgs(img Image, hostPort int) []string {
	return append([]string{
		"-kernel", img.Kernel,
		"-initrd", img.Initrd,
		"-append", img.Cmdline,
		"-no-reboot",
	}, qemuCommon(hostPort)...)
}

// QEMUDiskArgs returns the arguments of qemu-system-x86_64 that boot img's
// disk image as a PC with UEFI firmware (OVMF) would, the disk on virtio.
// vars is the machine's copy of OVMFVars, which the firmware and
// systemd-boot write to. A reboot (after an update, or by the watchdog)
// boots the disk again, as a board would. See qemuCommon for the rest.
func QEMUDiskArgs(img Image, vars string, hostPort int) []string {
	return append([]string{
		"-machine", "q35",
		"-drive", "if=pflash,format=raw,readonly=on,file=" + OVMFCode,
		"-drive", "if=pflash,format=raw,file=" + vars,
		"-drive", "file=" + img.Disk + ",format=raw,if=virtio",
	}, qemuCommon(hostPort)...)
}

// qemuCommon is what both boots share: no display, 512 MB, the i6300esb
// watchdog (which resets the machine), and hostPort on the host's loopback
// interface forwarded to the wing's screen (port 8080). The guest reaches
// nothing but QEMU's user-mode network.
func qemuCommon(hostPort int) []string {
	return []string{
		"-nographic", "-m", "512",
		"-device", "i6300esb", "-action", "watchdog=reset",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d", hostPort, ScreenPort),
		"-device", "virtio-net-pci,netdev=n0",
		// No PXE option ROM: it is not needed and slows the boot.
		"-global", "virtio-net-pci.romfile=",
	}
}

// QEMUCommandLine returns the qemu-system-x86_64 command with args, quoted
// for a POSIX shell.
func QEMUCommandLine(args []string) string {
	words := append([]string{"qemu-system-x86_64"}, args...)
	for i, w := range words {
		if w == "" || strings.Trim(w, safeShellChars) != "" {
			words[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}

const safeShellChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@"
