// Package images builds bootable wingnode images and boots them under QEMU.
//
// For amd64 it builds gokrazy's kernel (pinned in go.mod), a small Go init
// (cmd/wingnode-init), the static wingnode binary and the boot configuration
// (package bootconf) into a flashable GPT disk image: an EFI system partition
// with systemd-boot and one boot loader entry per slot, two squashfs root
// slots (root-a, root-b) and an ext4 data partition. It also writes a kernel
// and an initramfs holding everything, which QEMU boots directly
// (-kernel, -initrd), faster.
//
// Everything is done in pure Go as an ordinary user: the initramfs is
// written in the newc cpio format by this package, so device nodes such as
// /dev/console need no privileges, and the disk's partition table and file
// systems by go-diskfs.
package images
