package images_test

import (
	"compress/gzip"
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
// (about 6 s here under software emulation).
const bootTimeout = 90 * time.Second

// TestBootToWingScreen builds wing A's image, boots it under QEMU and checks
// that its screen answers on a forwarded loopback port. It logs the figure
// image_boot_to_ui_s.
func TestBootToWingScreen(t *testing.T) {
	if testing.Short() {
		t.Skip("QEMU boot test: skipped with -short")
	}
	qemu, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		msg := "QEMU boot test: qemu-system-x86_64 not found; install Debian's qemu-system-x86 (make deps-qemu, as root)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	img, err := images.Build(ctx, images.Config{Wing: "A", Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	console, err := os.Create(filepath.Join(t.TempDir(), "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(qemu, images.QEMUArgs(img, port)...)
	cmd.Stdout, cmd.Stderr = console, console
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("start QEMU: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(console.Name())
			t.Logf("QEMU: %v; serial console:\n%s", cmd.ProcessState, b)
		}
		console.Close()
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	health, err := waitForHealth(ctx, base+"/healthz", exited)
	if err != nil {
		t.Fatal(err)
	}
	if health.Status != "ok" || health.Wing != "A" {
		t.Errorf("GET /healthz = %+v, want status ok and wing A", health)
	}
	page, err := get(ctx, base+"/")
	if err != nil {
		t.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	if !strings.Contains(page, "A wing") {
		t.Fatalf("GET / does not name the wing %q:\n%s", "A wing", page)
	}
	t.Logf("image_boot_to_ui_s %.1f", secs)
	t.Logf("image_size_mb %.1f", compressedMB(t, img.Kernel, img.Initrd))
}

// compressedMB is the size of the image's files gzipped, as they would be
// shipped.
func compressedMB(t *testing.T, files ...string) float64 {
	t.Helper()
	var n countingWriter
	zw := gzip.NewWriter(&n)
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(zw, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return float64(n) / (1 << 20)
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

type healthz struct{ Status, Wing string }

// waitForHealth polls url until it answers 200, QEMU exits, or bootTimeout
// passes.
func waitForHealth(ctx context.Context, url string, exited <-chan struct{}) (healthz, error) {
	deadline := time.Now().Add(bootTimeout)
	var last error
	for time.Now().Before(deadline) {
		body, err := get(ctx, url)
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

func get(ctx context.Context, url string) (string, error) {
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
	if resp.StatusCode != http.StatusOK {
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
