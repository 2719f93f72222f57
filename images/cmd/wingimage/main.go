// Command wingimage builds a bootable wingnode image for one wing and says
// how to boot it: see 'wingimage -h'.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"wingnode/images"
)

func main() {
	var c images.Config
	flag.StringVar(&c.Wing, "wing", "A", "`id` of the built-in simulated wing the image runs")
	flag.StringVar(&c.Dir, "out", "", "output `folder` (default build/image-WING)")
	flag.StringVar(&c.Version, "version", "dev", "wingnode's version `string`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: wingimage [flags]\n\nBuilds an amd64 image of the wingnode appliance (kernel, initramfs and the\nkernel's licence and source offer) and prints how to boot it under QEMU.\nRun it inside the wingnode module.\n\n")
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

Boot it under QEMU (Ctrl-A X quits) and open http://127.0.0.1:%d:
  %s

Flashing a board needs the GPT disk image, which is not built yet
(images/README.md).
`, img.Wing, img.Dir, images.KernelModule, img.KernelVersion, images.ScreenPort, images.QEMUCommandLine(img, images.ScreenPort))
}
