//go:build linux

package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// watchdog is an open Linux watchdog device: once opened it resets the
// board unless it is written to (petted) within its timeout. Closing it
// stops it only after the magic character 'V' was written, so an init that
// dies leaves it running and the board resets.
type watchdog struct {
	dev io.WriteCloser
}

// openWatchdog opens the device and sets its timeout. The i6300esb and
// most others round the timeout to what they support.
func openWatchdog(path string, timeout time.Duration) (*watchdog, error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("watchdog: %w", err)
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.WDIOC_SETTIMEOUT, int(timeout/time.Second)); err != nil {
		// Opened, it runs with its default timeout; keep petting it.
		logf("watchdog %s: set timeout %v: %v", path, timeout, err)
	}
	return &watchdog{dev: f}, nil
}

// pet restarts the watchdog's countdown. It writes no 'V', which would
// allow a close to stop the watchdog.
func (w *watchdog) pet() error {
	if _, err := w.dev.Write([]byte{'.'}); err != nil {
		return fmt.Errorf("watchdog: pet: %w", err)
	}
	return nil
}

// disarm stops the watchdog on a clean shutdown: the magic character 'V',
// then close.
func (w *watchdog) disarm() error {
	if _, err := w.dev.Write([]byte{'V'}); err != nil {
		w.dev.Close()
		return fmt.Errorf("watchdog: disarm: %w", err)
	}
	if err := w.dev.Close(); err != nil {
		return fmt.Errorf("watchdog: disarm: %w", err)
	}
	return nil
}
