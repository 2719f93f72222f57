// Package images builds bootable wingnode images and boots them under QEMU.
//
// This first slice builds, for amd64, gokrazy's kernel (pinned in go.mod)
// plus an initramfs holding a small Go init (cmd/wingnode-init), the static
// wingnode binary and the boot configuration (package bootconf). It boots
// directly from QEMU's -kernel and -initrd; the GPT disk image with
// systemd-boot and two root slots is still to come (see README.md).
//
// Everything is done in pure Go as an ordinary user: the initramfs is
// written in the newc cpio format by this package, so device nodes such as
// /dev/console need no privileges.
package images
