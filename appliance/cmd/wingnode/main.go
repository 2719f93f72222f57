// Command wingnode is the wing appliance: see 'wingnode help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"periph.io/x/host/v3"

	"wingnode/appliance/command"
)

// memoryLimit is the Go runtime's soft memory limit for 'wingnode run',
// unless GOMEMLIMIT sets another: the garbage collector works harder as
// the heap nears it, so that a wing under load (a sensor storm, many
// screens and clients) stays well within a small board's memory. Soft: a
// wing that needs more gets it, rather than failing.
const memoryLimit = 40 << 20

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	drivers, err := host.Init()
	if err != nil {
		os.Stderr.WriteString("wingnode: GPIO drivers: " + err.Error() + "\n")
	}
	if len(os.Args) > 1 && os.Args[1] == "run" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(command.Command{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Version: version, Board: board(drivers), Getenv: os.Getenv}.Execute(ctx))
}
