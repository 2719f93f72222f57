package images

import (
	"encoding/json"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/backend"
	"github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
	"github.com/diskfs/go-diskfs/partition/gpt"

	"wingnode/appliance/datadir"
	"wingnode/firmware"
	"wingnode/images/bootconf"
)

// fakeKernel lays out a kernel module folder as gokrazy's kernel.amd64 does.
func fakeKernel(t *testing.T) Kernel {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"vmlinuz":                    "bzImage",
		"LICENSE.linux":              "GPL-2.0",
		"_build/upstream-url.txt":    "https://cdn.kernel.org/linux-7.1.3.tar.xz\n",
		"_build/series":              "0001-logo.patch\n",
		"_build/0001-logo.patch":     "diff",
		"_build/config.addendum.txt": "CONFIG_X=y",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Kernel{Module: KernelModule, Version: "v0.0.0-test", Dir: dir}
}

func TestWriteImage(t *testing.T) {
	k := fakeKernel(t)
	bin := t.TempDir()
	for _, name := range []string{"init", "wingnode"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(name+" binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	boot := bootconf.Config{
		Network: []bootconf.Interface{{Name: "eth0", Address: netip.MustParsePrefix("10.0.2.15/24")}},
		Command: []string{"/usr/bin/wingnode", "run"},
	}
	out := filepath.Join(t.TempDir(), "image")
	img, err := writeImage(out, k, imageInputs{init: filepath.Join(bin, "init"), wingnode: filepath.Join(bin, "wingnode"), boot: boot})
	if err != nil {
		t.Fatal(err)
	}
	if img.Cmdline != Cmdline || img.KernelVersion != "v0.0.0-test" {
		t.Errorf("image = %+v", img)
	}
	for name, want := range map[string]string{"vmlinuz": "bzImage", "LICENSE.linux": "GPL-2.0", "cmdline.txt": Cmdline + "\n"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	offer, err := os.ReadFile(filepath.Join(out, "SOURCE-OFFER.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GNU General Public License", KernelModule + ", version v0.0.0-test", "https://cdn.kernel.org/linux-7.1.3.tar.xz", "three years"} {
		if !strings.Contains(string(offer), want) {
			t.Errorf("SOURCE-OFFER.txt lacks %q:\n%s", want, offer)
		}
	}

	archive, err := os.ReadFile(img.Initrd)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := readCPIO(archive)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]cpioEntry{}
	for _, e := range entries {
		got[e.name] = e
	}
	for name, want := range map[string]cpioEntry{
		"dev/console":                          {mode: 0o20600, rmajor: 5, rmin: 1},
		"init":                                 {mode: 0o100755, data: "init binary"},
		"usr/bin/wingnode":                     {mode: 0o100755, data: "wingnode binary"},
		"data":                                 {mode: 0o40755},
		"usr/share/doc/linux/LICENSE.linux":    {mode: 0o100644, data: "GPL-2.0"},
		"usr/share/doc/linux/0001-logo.patch":  {mode: 0o100644, data: "diff"},
		"usr/share/doc/linux/SOURCE-OFFER.txt": {mode: 0o100644, data: string(offer)},
	} {
		want.name = name
		if got[name] != want {
			t.Errorf("initramfs entry %s = %+v, want %+v", name, got[name], want)
		}
	}
	parsed, err := bootconf.Parse([]byte(got[strings.TrimPrefix(bootconf.Path, "/")].data))
	if err != nil {
		t.Fatalf("boot configuration in the image: %v", err)
	}
	if parsed.Network[0] != boot.Network[0] || strings.Join(parsed.Command, " ") != "/usr/bin/wingnode run" {
		t.Errorf("boot configuration in the image = %+v, want %+v", parsed, boot)
	}
}

func TestWriteImageRejectsBadBootConfig(t *testing.T) {
	_, err := writeImage(t.TempDir(), fakeKernel(t), imageInputs{init: "init", wingnode: "wingnode", boot: bootconf.Config{Command: []string{"wingnode"}}})
	if err == nil || !strings.Contains(err.Error(), "absolute path") {
		t.Fatalf("writeImage with a relative command: %v, want a bootconf error", err)
	}
}

func TestBuildRejectsBadWing(t *testing.T) {
	for _, wing := range []string{"x y", "-x", `A"`} {
		_, err := Build(t.Context(), Config{Wing: wing, Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "wing id") {
			t.Errorf("Build(wing %q): %v, want a wing id error", wing, err)
		}
	}
}

func TestWriteImageDisk(t *testing.T) {
	k := fakeKernel(t)
	bin := t.TempDir()
	for _, name := range []string{"init", "wingnode", "BOOTX64.EFI"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(name+" binary"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	const trust = "wingnode-firmware-public-key 0123456789abcdef AAAA\n"
	release := firmware.Slot{Status: firmware.Good, Version: 7, Display: "v7"}
	img, err := writeImage(t.TempDir(), k, imageInputs{
		init: filepath.Join(bin, "init"), wingnode: filepath.Join(bin, "wingnode"),
		boot:       bootconf.Config{Command: []string{"/usr/bin/wingnode", "run"}},
		device:     firmware.DeviceConfig{Hardware: Hardware, Trust: "/" + trustPath, KernelOptions: Cmdline},
		trust:      []byte(trust),
		bootloader: filepath.Join(bin, "BOOTX64.EFI"),
		release:    release,
		data: []diskFile{
			{Name: "wing.conf", Mode: 0o644, Data: []byte("wing B\n")},
			{Name: datadir.SiteITHashFile, Mode: 0o600, Data: []byte("abc\n")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	d, err := diskfs.Open(img.Disk, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	table, err := d.GetPartitionTable()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range table.(*gpt.Table).Partitions {
		names = append(names, p.Name)
	}
	if want := []string{"esp", "root-a", "root-b", "data"}; !slices.Equal(names, want) {
		t.Fatalf("partitions %q, want %q", names, want)
	}

	esp, err := d.GetFilesystem(1)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"/EFI/BOOT/BOOTX64.EFI":       "BOOTX64.EFI binary",
		"/loader/loader.conf":         "timeout 0\neditor no\n",
		"/loader/entries/root-a.conf": string(firmware.LoaderEntry(firmware.SlotA, release, Cmdline)),
		"/root-a/vmlinuz":             "bzImage",
		"/root-b/vmlinuz":             "bzImage",
	} {
		if got := readFSFile(t, esp, name); got != want {
			t.Errorf("ESP %s = %q, want %q", name, got, want)
		}
	}
	if entries, err := esp.ReadDir("loader/entries"); err != nil || len(entries) != 1 {
		t.Errorf("ESP entries: %d, %v; want root-a's only (b is armed by an update)", len(entries), err)
	}
	entries, err := readCPIO([]byte(readFSFile(t, esp, "/root-a/initrd.cpio")))
	if err != nil {
		t.Fatal(err)
	}
	var inInitrd []string
	for _, e := range entries {
		inInitrd = append(inInitrd, e.name)
	}
	if want := []string{"dev", "proc", "sys", "dev/console", "init"}; !slices.Equal(inInitrd, want) {
		t.Errorf("slot initramfs holds %q, want %q", inInitrd, want)
	}

	rootfs, err := file.OpenFromPath(img.Rootfs, true)
	if err != nil {
		t.Fatal(err)
	}
	defer rootfs.Close()
	st, err := rootfs.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if st.Size()%4096 != 0 || st.Size() >= slotSize {
		t.Errorf("rootfs.img is %d bytes, want whole 4 KiB blocks and less than the slot", st.Size())
	}
	slot := table.(*gpt.Table).Partitions[1]
	for name, root := range map[string]struct {
		r     backend.Storage
		start int64
		size  int64
	}{
		// GetFilesystem would read a slot with the disk's 512-byte
		// sectors as the block size, which go-diskfs's squashfs refuses.
		Slots()[0]:   {d.Backend, int64(slot.GetStart()), int64(slot.GetSize())},
		Slots()[1]:   {d.Backend, int64(table.(*gpt.Table).Partitions[2].GetStart()), int64(slot.GetSize())},
		"rootfs.img": {rootfs, 0, st.Size()},
	} {
		fsys, err := squashfs.Read(root.r, root.size, root.start, squashfsBlock)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for file, want := range map[string]string{
			"usr/bin/wingnode":       "wingnode binary",
			"usr/bin/wingnode-init":  "init binary",
			"etc/wingnode/trust.pub": trust,
		} {
			if got := readFSFile(t, fsys, file); got != want {
				t.Errorf("%s: %s = %q, want %q", name, file, got, want)
			}
		}
		if _, err := bootconf.Parse([]byte(readFSFile(t, fsys, "etc/wingnode/boot.json"))); err != nil {
			t.Errorf("%s: boot configuration: %v", name, err)
		}
		var dev firmware.DeviceConfig
		if err := json.Unmarshal([]byte(readFSFile(t, fsys, "etc/wingnode/firmware.json")), &dev); err != nil ||
			dev != (firmware.DeviceConfig{Hardware: "amd64-uefi", Trust: "/etc/wingnode/trust.pub", KernelOptions: Cmdline}) {
			t.Errorf("%s: firmware.json = %+v, %v", name, dev, err)
		}
		if st, err := fsys.Stat("data"); err != nil || !st.IsDir() {
			t.Errorf("%s: no /data mount point: %v", name, err)
		}
	}

	data, err := d.GetFilesystem(4)
	if err != nil || data.Type() != filesystem.TypeExt4 {
		t.Fatalf("data partition: %v, %v; want ext4", data, err)
	}
	slots, err := firmware.ParseSlots([]byte(readFSFile(t, data, "firmware/slots.json")))
	if err != nil || slots != firmware.NewSlots(7, "v7") {
		t.Errorf("data partition's slot state = %+v, %v; want slot a good with build 7", slots, err)
	}
	if got := readFSFile(t, data, "wing.conf"); got != "wing B\n" {
		t.Errorf("data partition's wing.conf = %q", got)
	}
	if st, err := data.Stat(datadir.SiteITHashFile); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("data partition's %s: %v, %v; want mode 0600", datadir.SiteITHashFile, st.Mode(), err)
	}
}

func readFSFile(t *testing.T, fsys filesystem.FileSystem, name string) string {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_RDONLY)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}
