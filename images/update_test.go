package images_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"wingnode/firmware"
	"wingnode/images"
)

// TestBootToWingScreenUEFI builds wing A's disk image (build 1, with a
// trust file and site IT's token), boots it under QEMU with UEFI firmware
// (OVMF), systemd-boot and the i6300esb watchdog, and then, on the same
// machine: refuses bad bundles, installs build 2 through the firmware
// endpoint and sees it confirmed after a reboot, and installs a build 3
// that hangs at start and sees the wing fall back to build 2 by itself
// with its events intact. The first subtest logs image_boot_to_ui_s and
// image_size_mb; make bench runs only that one.
func TestBootToWingScreenUEFI(t *testing.T) {
	qemu := needQEMU(t)
	for _, f := range []string{images.OVMFCode, images.OVMFVars, images.Bootloader} {
		if _, err := os.Stat(f); err != nil {
			skipOrFail(t, fmt.Sprintf("UEFI boot test: %v; install Debian's ovmf and systemd-boot-efi (make deps-qemu, as root)", err))
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 12*time.Minute)
	defer cancel()
	dir := t.TempDir()
	key, err := firmware.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := key.Public().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	trust := filepath.Join(dir, "trust.pub")
	if err := os.WriteFile(trust, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	token := siteITToken(t, dir)
	// The command make image runs builds the disk, in a process of its
	// own: in this one, under -race, go-diskfs takes 20 s longer.
	base := wingimage(ctx, t, filepath.Join(dir, "v1"), "-version", "v1", "-build", "1", "-trust", trust,
		"-siteit-token-hash", filepath.Join(dir, "siteit.sha256"))
	img := images.Image{Disk: filepath.Join(base, "disk.img")}
	vars := filepath.Join(dir, "OVMF_VARS.fd")
	if err := copyFile(vars, images.OVMFVars); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	vm := startQEMU(t, qemu, images.QEMUDiskArgs(img, vars, port))
	wing := &wingVM{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), token: token, console: vm.console}
	if !t.Run("screen", func(t *testing.T) {
		secs := vm.waitForScreen(ctx, t, port)
		t.Logf("image_boot_to_ui_s %.1f", secs)
		t.Logf("image_size_mb %.1f", compressedMB(t, img.Disk))
	}) {
		return // no machine to update
	}

	t.Run("refuses forged and downgraded bundles", func(t *testing.T) {
		rootfs := filepath.Join(base, "rootfs.img")
		stranger, err := firmware.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			bundle []byte
			status int
			says   string
		}{
			{"forged", signBundle(t, stranger, rootfs, 2, "v2"), http.StatusForbidden, "not signed by a trusted key"},
			{"downgraded", signBundle(t, key, rootfs, 1, "v1 again"), http.StatusConflict, "not newer than the running version 1"},
		} {
			status, body := wing.post(ctx, "/api/v1/firmware", tc.bundle)
			if status != tc.status || !strings.Contains(body, tc.says) {
				t.Errorf("%s bundle: %d %s; want %d saying %q", tc.name, status, body, tc.status, tc.says)
			}
		}
		if status, _ := wing.postWithToken(ctx, "/api/v1/firmware", "wrong", signBundle(t, key, rootfs, 2, "v2")); status != http.StatusUnauthorized {
			t.Errorf("a bundle with a wrong token: %d, want 401", status)
		}
		fw := wing.firmware(ctx)
		if fw.Running != firmware.SlotA || fw.Slots[firmware.SlotA] != (firmware.Slot{Status: firmware.Good, Version: 1, Display: "v1"}) || fw.Slots[firmware.SlotB].Status != firmware.Bad {
			t.Errorf("after refused bundles: %+v; want slot a running build 1, slot b bad", fw)
		}
	})

	t.Run("update", func(t *testing.T) {
		v2 := wingimage(ctx, t, filepath.Join(dir, "v2"), "-version", "v2", "-build", "2", "-trust", trust)
		status, body := wing.post(ctx, "/api/v1/firmware", signBundle(t, key, filepath.Join(v2, "rootfs.img"), 2, "v2"))
		if status != http.StatusOK || !strings.Contains(body, "into slot b") {
			t.Fatalf("POST build 2: %d %s", status, body)
		}
		wing.reboot(ctx)
		fw := wing.waitFor(ctx, "build 2 confirmed on slot b", func(fw firmwareStatus, h healthz) bool {
			return h.Version == "v2" && fw.Running == firmware.SlotB && fw.Slots[firmware.SlotB].Status == firmware.Good
		})
		if fw.Slots[firmware.SlotA] != (firmware.Slot{Status: firmware.Good, Version: 1, Display: "v1"}) {
			t.Errorf("slot a after the update = %+v, want build 1 kept as the fall-back", fw.Slots[firmware.SlotA])
		}
		if len(fw.Snapshots) != 1 || !strings.HasSuffix(fw.Snapshots[0], "-before-2.db") {
			t.Errorf("snapshots %q, want one taken before build 2 first ran", fw.Snapshots)
		}
	})

	t.Run("broken update rolls back", func(t *testing.T) {
		before := wing.startedVersions(ctx)
		stuck := filepath.Join(dir, "stuck")
		build := exec.CommandContext(ctx, "go", "build", "-o", stuck, "./testdata/stuck")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("build the stuck wingnode: %v\n%s", err, out)
		}
		// A release whose wingnode hangs at start; its init gives it 3 s
		// to answer and arms the watchdog for 3 s.
		v3 := wingimage(ctx, t, filepath.Join(dir, "v3"), "-version", "v3", "-build", "3", "-trust", trust,
			"-wingnode", stuck, "-start-grace", "3", "-watchdog-timeout", "3")
		status, body := wing.post(ctx, "/api/v1/firmware", signBundle(t, key, filepath.Join(v3, "rootfs.img"), 3, "v3"))
		if status != http.StatusOK || !strings.Contains(body, "into slot a") {
			t.Fatalf("POST build 3: %d %s", status, body)
		}
		wing.reboot(ctx)
		fw := wing.waitFor(ctx, "build 3 marked bad and build 2 running", func(fw firmwareStatus, h healthz) bool {
			return h.Version == "v2" && fw.Running == firmware.SlotB && fw.Slots[firmware.SlotA].Status == firmware.Bad
		})
		if fw.Slots[firmware.SlotB].Status != firmware.Good || fw.Trial {
			t.Errorf("after the fall-back: %+v, want slot b good", fw)
		}
		log, err := os.ReadFile(wing.console)
		if err != nil {
			t.Fatal(err)
		}
		// Each try: the boot loader counts it, the init starts the hung
		// wingnode, and only the watchdog restarts the board.
		if n := strings.Count(string(log), "slot root-a: build 3 (v3), trial"); n != firmware.TrialTries {
			t.Errorf("build 3 booted %d times, want %d tries", n, firmware.TrialTries)
		}
		if strings.Contains(string(log), "wingnode exited") {
			t.Errorf("the stuck wingnode exited; the test meant it to hang")
		}
		after := wing.startedVersions(ctx)
		for _, v := range before {
			if !strings.Contains(strings.Join(after, " "), v) {
				t.Errorf("after the rollback the store lacks the start of %s: started %q, before %q", v, after, before)
			}
		}
		if len(after) < len(before)+1 {
			t.Errorf("started %q after the rollback; want the earlier starts and build 2's restart", after)
		}
	})
}

// wingimage runs the image builder as make image does, into dir, and
// returns dir.
func wingimage(ctx context.Context, t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "go", append([]string{"run", "wingnode/images/cmd/wingimage", "-wing", "A", "-out", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("wingimage %v: %v\n%s", args, err, out)
	}
	return dir
}

// siteITToken makes site IT's token as site IT does and returns it; its
// hash is in dir/siteit.sha256.
func siteITToken(t *testing.T, dir string) string {
	t.Helper()
	out, err := exec.Command("go", "run", "wingnode/appliance/cmd/wingnode", "firmware", "siteit-token", "-out", filepath.Join(dir, "siteit.sha256")).Output()
	if err != nil {
		t.Fatalf("wingnode firmware siteit-token: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// signBundle signs an update bundle of a root file system.
func signBundle(t *testing.T, key firmware.PrivateKey, rootfs string, version uint64, display string) []byte {
	t.Helper()
	f, err := os.Open(rootfs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := firmware.HashPayload(firmware.RootfsPayload, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	m := firmware.Manifest{Format: firmware.ManifestFormat, Product: firmware.Product, Hardware: images.Hardware, Version: version,
		Display: display, Created: time.Now().UTC().Truncate(time.Second), Payloads: []firmware.Payload{p}}
	var b bytes.Buffer
	if err := firmware.WriteBundle(&b, m, []io.Reader{f}, key); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// wingVM is the booted machine, reached on its forwarded port.
type wingVM struct {
	t       *testing.T
	base    string
	token   string
	console string // the serial console's log file
}

// firmwareStatus is the answer of GET /api/v1/firmware.
type firmwareStatus struct {
	Running   firmware.SlotName
	Trial     bool
	Slots     map[firmware.SlotName]firmware.Slot
	Snapshots []string
}

func (w *wingVM) post(ctx context.Context, path string, body []byte) (int, string) {
	return w.postWithToken(ctx, path, w.token, body)
}

func (w *wingVM) postWithToken(ctx context.Context, path, token string, body []byte) (int, string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// getJSON gets path with site IT's token into v.
func (w *wingVM) getJSON(ctx context.Context, path string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (w *wingVM) firmware(ctx context.Context) firmwareStatus {
	w.t.Helper()
	var fw firmwareStatus
	if err := w.getJSON(ctx, "/api/v1/firmware", &fw); err != nil {
		w.t.Fatal(err)
	}
	return fw
}

func (w *wingVM) reboot(ctx context.Context) {
	w.t.Helper()
	if status, body := w.post(ctx, "/api/v1/firmware/reboot", nil); status != http.StatusAccepted {
		w.t.Fatalf("POST /api/v1/firmware/reboot: %d %s", status, body)
	}
}

// updateTimeout bounds a reboot into an update and its confirmation, or
// three failed tries and the fall-back: four boots under software
// emulation, each over a minute on a busy 2-core machine.
const updateTimeout = 6 * time.Minute

// waitFor polls the machine until ok holds for its firmware state and
// health, and returns the state.
func (w *wingVM) waitFor(ctx context.Context, what string, ok func(firmwareStatus, healthz) bool) firmwareStatus {
	w.t.Helper()
	deadline := time.Now().Add(updateTimeout)
	var last error
	for time.Now().Before(deadline) {
		var fw firmwareStatus
		var h healthz
		if last = w.getJSON(ctx, "/api/v1/firmware", &fw); last == nil {
			if last = w.getJSON(ctx, "/healthz", &h); last == nil && ok(fw, h) {
				return fw
			}
		}
		select {
		case <-ctx.Done():
			w.t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	w.t.Fatalf("no %s within %v; last: %v", what, updateTimeout, last)
	return firmwareStatus{}
}

// startedVersions lists, newest first, the version of every
// appliance.started event in the store.
func (w *wingVM) startedVersions(ctx context.Context) []string {
	w.t.Helper()
	var page struct {
		Records []struct {
			Event struct {
				Kind string            `json:"kind"`
				Data map[string]string `json:"data"`
			} `json:"event"`
		} `json:"records"`
	}
	if err := w.getJSON(ctx, "/api/v1/events?kind=appliance.started&limit=1000", &page); err != nil {
		w.t.Fatal(err)
	}
	var versions []string
	for _, r := range page.Records {
		if r.Event.Kind == "appliance.started" {
			versions = append(versions, r.Event.Data["version"])
		}
	}
	return versions
}
