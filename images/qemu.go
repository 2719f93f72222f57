package images

import (
	"fmt"
	"strings"
)

// QEMUArgs returns the arguments of qemu-system-x86_64 that boot img in
// software emulation with the serial console on standard output, never
// reboot (a failed boot ends QEMU), and forward hostPort on the host's
// loopback interface to the wing's screen (port 8080). The guest reaches
// nothing but QEMU's user-mode network.
func QEMUArgs(img Image, hostPort int) []string {
	return []string{
		"-kernel", img.Kernel,
		"-initrd", img.Initrd,
		"-append", img.Cmdline,
		"-nographic", "-no-reboot", "-m", "512",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:%d", hostPort, ScreenPort),
		"-device", "virtio-net-pci,netdev=n0",
		// No PXE option ROM: it is not needed and slows the boot.
		"-global", "virtio-net-pci.romfile=",
	}
}

// QEMUCommandLine returns the QEMU command that boots img, quoted for a
// POSIX shell.
func QEMUCommandLine(img Image, hostPort int) string {
	words := append([]string{"qemu-system-x86_64"}, QEMUArgs(img, hostPort)...)
	for i, w := range words {
		if w == "" || strings.Trim(w, safeShellChars) != "" {
			words[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(words, " ")
}

const safeShellChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=.,:/@"
