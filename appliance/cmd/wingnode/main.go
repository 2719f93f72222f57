// Command wingnode is the wing appliance: see 'wingnode help'.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"periph.io/x/host/v3"

	"wingnode/appliance/command"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	drivers, err := host.Init()
	if err != nil {
		os.Stderr.WriteString("wingnode: GPIO drivers: " + err.Error() + "\n")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(command.Command{Args: os.Args[1:], Stdout: os.Stdout, Stderr: os.Stderr, Version: version, Board: board(drivers), Getenv: os.Getenv}.Execute(ctx))
}
