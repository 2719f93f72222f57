package images_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wingnode/images"
)

// bootTimeout bounds the wait from QEMU's start to the wing screen answering
// (about 6 s here for a direct kernel boot, 10 s for the disk under UEFI,
// under software emulation).
const bootTimeout = 90 * time.Second

// TestBootToWingScreen builds wing A's kernel and initramfs, boots them
// directly under QEMU and checks that the screen answers on a forwarded
// loopback port. It logs image_direct_boot_to_ui_s.
func TestBootToWingScreen(t *testing.T) {
	qemu := needQEMU(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	img, err := images.Build(ctx, images.Config{Wing: "A", Dir: t.TempDir(), NoDisk: true})
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	secs := bootToScreen(ctx, t, qemu, images.QEMUArgs(img, port), port)
	t.Logf("image_direct_boot_to_ui_s %.1f", secs)
}

// needQEMU skips the test under -short, and without qemu-system-x86_64
// (failing instead under CI=true); it returns QEMU's path.
func needQEMU(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("QEMU boot test: skipped with -short")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		skipOrFail(t, "QEMU boot test: qemu-system-x86_64 not found; install Debian's qemu-system-x86 (make deps-qemu, as root)")
	}
	return qemu
}

// skipOrFail skips the test with msg, or fails it under CI=true, where
// every tool must be installed.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// qemuVM is a running QEMU.
type qemuVM struct {
	start   time.Time
	exited  chan struct{}
	console string // the serial console's log file
}

// startQEMU runs QEMU with args until the test ends, when it is killed;
// if the test failed, its serial console is logged.
func startQEMU(t *testing.T, qemu string, args []string) *qemuVM {
	t.Helper()
	console, err := os.Create(filepath.Join(t.TempDir(), "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qemu, args...)
	cmd.Stdout, cmd.Stderr = console, console
	vm := &qemuVM{start: time.Now(), exited: make(chan struct{}), console: console.Name()}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start QEMU: %v", err)
	}
	go func() {
		cmd.Wait()
		close(vm.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-vm.exited
		if t.Failed() {
			b, _ := os.ReadFile(console.Name())
			t.Logf("QEMU: %v; serial console:\n%s", cmd.ProcessState, b)
		}
		console.Close()
	})
	return vm
}

// bootToScreen runs QEMU with args until the test ends, waits for wing
// A's screen on the forwarded port, and returns the seconds from QEMU's
// start until it answered.
func bootToScreen(ctx context.Context, t *testing.T, qemu string, args []string, port int) float64 {
	t.Helper()
	return startQEMU(t, qemu, args).waitForScreen(ctx, t, port)
}

// waitForScreen waits for wing A's screen to answer on the forwarded port
// and returns the seconds since QEMU started.
func (vm *qemuVM) waitForScreen(ctx context.Context, t *testing.T, port int) float64 {
	t.Helper()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	health, err := waitForHealth(ctx, base+"/healthz", vm.exited)
	if err != nil {
		t.Fatal(err)
	}
	if health.Status != "ok" || health.Wing != "A" {
		t.Errorf("GET /healthz = %+v, want status ok and wing A", health)
	}
	// The test reaches the wing from off the board (QEMU's user network),
	// so the screen answers with its sign-in pad, which names the wing.
	page, err := get(ctx, base+"/", http.StatusUnauthorized)
	if err != nil {
		t.Fatal(err)
	}
	secs := time.Since(vm.start).Seconds()
	if !strings.Contains(page, "A wing") || !strings.Contains(page, `data-testid="signin"`) {
		t.Fatalf("GET / is not the sign-in pad of the wing %q:\n%s", "A wing", page)
	}
	return secs
}

func copyFile(dst, src string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}

// compressedMB is the size of the file gzipped, as it would be shipped.
// Debian's gzip does it: the standard library's, in a test built with
// -race, takes 30 s over a disk image.
func compressedMB(t *testing.T, name string) float64 {
	t.Helper()
	var n countingWriter
	var stderr strings.Builder
	cmd := exec.Command("gzip", "-c", name)
	cmd.Stdout, cmd.Stderr = &n, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gzip %s: %v: %s", name, err, stderr.String())
	}
	return float64(n) / (1 << 20)
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

type healthz struct{ Status, Wing, Version string }

// waitForHealth polls url until it answers 200, QEMU exits, or bootTimeout
// passes.
func waitForHealth(ctx context.Context, url string, exited <-chan struct{}) (healthz, error) {
	deadline := time.Now().Add(bootTimeout)
	var last error
	for time.Now().Before(deadline) {
		body, err := get(ctx, url, http.StatusOK)
		if err == nil {
			var h healthz
			if err := json.Unmarshal([]byte(body), &h); err != nil {
				return healthz{}, fmt.Errorf("GET %s: %w: %s", url, err, body)
			}
			return h, nil
		}
		last = err
		select {
		case <-exited:
			return healthz{}, fmt.Errorf("QEMU exited before the screen answered; last try: %w", last)
		case <-ctx.Done():
			return healthz{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return healthz{}, fmt.Errorf("no answer from %s within %v: %w", url, bootTimeout, last)
}

// get returns the body of the answer to GET url, which must have status want.
func get(ctx context.Context, url string, want int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != want {
		return "", errors.New("GET " + url + ": " + resp.Status)
	}
	return string(body), nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
