// Command wingimage builds a bootable wingnode image for one wing and says
// how to boot it: see 'wingimage -h'.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"

	"wingnode/images"
)

func main() {
	var c images.Config
	flag.StringVar(&c.Wing, "wing", "A", "`id` of the built-in simulated wing the image runs, without -wing-config")
	flag.StringVar(&c.Dir, "out", "", "output `folder` (default build/image-WING)")
	flag.StringVar(&c.Version, "version", "dev", "wingnode's version `string`, as shown to people")
	flag.Uint64Var(&c.Build, "build", 1, "the release's monotonic build `number`, which updates compare")
	flag.StringVar(&c.Trust, "trust", "", "trust `file` of the one or two public keys updates must be signed by (wingnode firmware keygen); without it the image accepts no update")
	flag.StringVar(&c.WingConfig, "wing-config", "", "the wing's configuration `file` (docs/wing-config.md), put on the data partition; the image runs that wing")
	flag.StringVar(&c.SiteITHash, "siteit-token-hash", "", "`file` holding the SHA-256 of site IT's token (wingnode firmware siteit-token -out FILE), put on the data partition")
	flag.StringVar(&c.EnrolToken, "enrol-token", "", "site enrolment token `file`, put on the data partition as site/enrol-token")
	flag.StringVar(&c.Wingnode, "wingnode", "", "ship this linux/amd64 wingnode `binary` instead of building one")
	flag.IntVar(&c.StartGrace, "start-grace", images.DefaultStartGrace, "`seconds` wingnode may take to answer its health check after starting")
	flag.IntVar(&c.WatchdogTimeout, "watchdog-timeout", images.DefaultWatchdogTimeout, "`seconds` without a healthy answer before the watchdog resets the board")
	flag.StringVar(&c.Bootloader, "bootloader", images.Bootloader, "systemd-boot's EFI `binary` for the disk image")
	flag.BoolVar(&c.NoDisk, "no-disk", false, "write only the files of a direct kernel boot, not disk.img")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: wingimage [flags]\n\nBuilds an amd64 image of the wingnode appliance (the flashable GPT disk\nimage, and the kernel, initramfs and the kernel's licence and source offer\nfor a direct kernel boot) and prints how to boot and flash it.\nRun it inside the wingnode module.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	img, err := images.Build(ctx, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "wingimage: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf(`Built wing %s's image in %s (kernel %s@%s):
  vmlinuz, initrd.cpio, cmdline.txt, LICENSE.linux, SOURCE-OFFER.txt

Boot the kernel directly under QEMU (Ctrl-A X quits) and open http://127.0.0.1:%d:
  %s
`, img.Wing, img.Dir, images.KernelModule, img.KernelVersion, images.ScreenPort, images.QEMUCommandLine(images.QEMUArgs(img, images.ScreenPort)))
	if img.Disk == "" {
		return
	}
	vars := filepath.Join(img.Dir, "OVMF_VARS.fd")
	fmt.Printf(`
The disk image is %s; %s is its root file system, the
payload of an update bundle (wingnode firmware sign -rootfs). Boot it under
QEMU with UEFI firmware:
  cp %s %s
  %s

Flash it to a board's disk (this erases the whole disk; check the device name
with lsblk first, and replace sdX with it):
  dd if=%s of=/dev/sdX bs=4M conv=fsync status=progress
`, img.Disk, img.Rootfs, images.OVMFVars, vars, images.QEMUCommandLine(images.QEMUDiskArgs(img, vars, images.ScreenPort)), img.Disk)
}
