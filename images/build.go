package images

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"wingnode/appliance/config"
	"wingnode/images/bootconf"
)

// ScreenPort is the port the wing's screen and API listen on in an image.
const ScreenPort = 8080

// Cmdline is the kernel command line of an image: the console on the first
// serial port, and an immediate reboot if the init dies.
const Cmdline = "console=ttyS0 panic=-1"

// Addresses of QEMU's user-mode network, which the image is set up for.
var (
	qemuGuest   = netip.MustParsePrefix("10.0.2.15/24")
	qemuGateway = netip.MustParseAddr("10.0.2.2")
)

// wingID is the configuration's rule for ids (docs/wing-config.md).
var wingID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Config says which image to build. Its zero value builds wing A into
// build/image-A.
type Config struct {
	Wing    string // id of the built-in simulated wing; "" means "A"
	Dir     string // output folder, created if missing; "" means build/image-WING
	Version string // wingnode's version string; "" means "dev"
	Go      string // the go command; "" means "go"
	// Bootloader is systemd-boot's EFI binary for the disk image; ""
	// means Bootloader (Debian's systemd-boot-efi).
	Bootloader string
	// NoDisk skips the disk image: only the files of a direct kernel boot
	// are written.
	NoDisk bool
}

// Image is a built image: the files of a direct kernel boot and, unless
// Config.NoDisk, the flashable disk image.
type Image struct {
	Wing          string // the wing it runs
	Dir           string // the output folder
	Kernel        string // the kernel image (bzImage)
	Initrd        string // the initramfs (newc cpio, uncompressed)
	Cmdline       string // the kernel command line
	KernelVersion string // the kernel module's version in go.mod
	Disk          string // the GPT disk image booted by UEFI firmware; "" if not built
}

// Build compiles the init and the wingnode binary for linux/amd64 (static,
// CGO_ENABLED=0) and writes an image into c.Dir: vmlinuz, initrd.cpio,
// cmdline.txt, and the kernel's licence and source offer, for a direct
// kernel boot, and, unless c.NoDisk, disk.img (see writeDisk). It must run
// inside the wingnode module.
func Build(ctx context.Context, c Config) (Image, error) {
	if c.Wing == "" {
		c.Wing = "A"
	}
	if c.Dir == "" {
		c.Dir = filepath.Join("build", "image-"+c.Wing)
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Go == "" {
		c.Go = "go"
	}
	// A bad id would otherwise get one complaint per record of the wing.
	if !wingID.MatchString(c.Wing) {
		return Image{}, fmt.Errorf("images: wing id %q: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit", c.Wing)
	}
	if _, err := config.Simulated(c.Wing); err != nil {
		return Image{}, fmt.Errorf("images: wing %q: %w", c.Wing, err)
	}
	bootloader := ""
	if !c.NoDisk {
		bootloader = c.Bootloader
		if bootloader == "" {
			bootloader = Bootloader
		}
		if _, err := os.Stat(bootloader); err != nil {
			return Image{}, fmt.Errorf("images: systemd-boot: %w; install Debian's systemd-boot-efi (make deps-qemu, as root), or build without the disk image (wingimage -no-disk)", err)
		}
	}
	k, err := FindKernel(ctx, c.Go)
	if err != nil {
		return Image{}, err
	}
	bin, err := os.MkdirTemp("", "wingimage-")
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	defer os.RemoveAll(bin)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Go, "build", "-trimpath", "-ldflags", "-X main.version="+c.Version, "-o", bin+string(filepath.Separator),
		"wingnode/appliance/cmd/wingnode", "wingnode/images/cmd/wingnode-init")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Image{}, fmt.Errorf("images: go build: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	boot := bootconf.Config{
		Network: []bootconf.Interface{{Name: "eth0", Address: qemuGuest, Gateway: qemuGateway}},
		Command: []string{"/usr/bin/wingnode", "run", "-simulate", "-wing", c.Wing,
			"-listen", "0.0.0.0:" + strconv.Itoa(ScreenPort), "-data", "/data"},
	}
	img, err := writeImage(c.Dir, k, filepath.Join(bin, "wingnode-init"), filepath.Join(bin, "wingnode"), boot, bootloader)
	if err != nil {
		return Image{}, err
	}
	img.Wing = c.Wing
	return img, nil
}

// writeImage writes the image files into dir from the kernel module k, the
// init and wingnode binaries, and the boot configuration, and, unless
// bootloader is "", the disk image booted by that systemd-boot binary.
func writeImage(dir string, k Kernel, initBin, wingnodeBin string, boot bootconf.Config, bootloader string) (Image, error) {
	if err := boot.Check(); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	bootJSON, err := json.MarshalIndent(boot, "", "\t")
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	docs, err := kernelDocs(k)
	if err != nil {
		return Image{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	img := Image{
		Dir:           dir,
		Kernel:        filepath.Join(dir, "vmlinuz"),
		Initrd:        filepath.Join(dir, "initrd.cpio"),
		Cmdline:       Cmdline,
		KernelVersion: k.Version,
	}
	if err := copyFile(img.Kernel, k.Image()); err != nil {
		return Image{}, err
	}
	for _, name := range []string{"LICENSE.linux", "SOURCE-OFFER.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), docs[name], 0o644); err != nil {
			return Image{}, fmt.Errorf("images: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cmdline.txt"), []byte(Cmdline+"\n"), 0o644); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}

	f, err := os.Create(img.Initrd)
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	// The archive's errors are sticky: close returns the first one.
	a := newCPIOWriter(bw)
	for _, d := range []string{"dev", "proc", "sys", "tmp", "data", "etc", "etc/wingnode", "usr", "usr/bin",
		"usr/share", "usr/share/doc", "usr/share/doc/linux"} {
		a.dir(d, 0o755)
	}
	// The kernel opens /dev/console as the init's standard streams before
	// the init can mount devtmpfs, so the node must be in the archive.
	a.charDev("dev/console", 0o600, 5, 1)
	if err := addFile(a, "init", 0o755, initBin); err != nil {
		return Image{}, err
	}
	if err := addFile(a, "usr/bin/wingnode", 0o755, wingnodeBin); err != nil {
		return Image{}, err
	}
	a.file(strings.TrimPrefix(bootconf.Path, "/"), 0o644, int64(len(bootJSON)), bytes.NewReader(bootJSON))
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		a.file("usr/share/doc/linux/"+name, 0o644, int64(len(docs[name])), bytes.NewReader(docs[name]))
	}
	if err := a.close(); err != nil {
		return Image{}, err
	}
	if err := bw.Flush(); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	if err := f.Close(); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	if bootloader == "" {
		return img, nil
	}
	slot := []diskFile{
		{Name: "usr/bin/wingnode", Mode: 0o755, Path: wingnodeBin},
		{Name: strings.TrimPrefix(bootconf.Path, "/"), Mode: 0o644, Data: bootJSON},
	}
	for _, d := range []string{"dev", "proc", "sys", "tmp", "data"} {
		slot = append(slot, diskFile{Name: d, Mode: fs.ModeDir | 0o755})
	}
	for _, name := range slices.Sorted(maps.Keys(docs)) {
		slot = append(slot, diskFile{Name: "usr/share/doc/linux/" + name, Mode: 0o644, Data: docs[name]})
	}
	var initrd bytes.Buffer
	a = newCPIOWriter(&initrd)
	for _, d := range []string{"dev", "proc", "sys"} {
		a.dir(d, 0o755)
	}
	a.charDev("dev/console", 0o600, 5, 1)
	if err := addFile(a, "init", 0o755, initBin); err != nil {
		return Image{}, err
	}
	if err := a.close(); err != nil {
		return Image{}, err
	}
	img.Disk = filepath.Join(dir, "disk.img")
	if err := writeDisk(img.Disk, espFiles(img, bootloader, initrd.Bytes()), slot); err != nil {
		return Image{}, err
	}
	return img, nil
}

// espFiles lists the EFI system partition of img's disk: systemd-boot as the
// removable-media boot path, its configuration, and one boot loader entry
// (Boot Loader Specification type #1) per slot with that slot's kernel and
// initramfs, which holds only the init. Root-a boots unless systemd-boot is
// told otherwise.
func espFiles(img Image, bootloader string, initrd []byte) []diskFile {
	files := []diskFile{
		{Name: "EFI/BOOT/BOOTX64.EFI", Path: bootloader},
		{Name: "loader/loader.conf", Data: []byte("default " + Slots[0] + ".conf\ntimeout 0\neditor no\n")},
	}
	for _, s := range Slots {
		entry := fmt.Sprintf("title wingnode %s\nlinux /%s/vmlinuz\ninitrd /%s/initrd.cpio\noptions %s wingnode.slot=%s\n", s, s, s, img.Cmdline, s)
		files = append(files,
			diskFile{Name: "loader/entries/" + s + ".conf", Data: []byte(entry)},
			diskFile{Name: s + "/vmlinuz", Path: img.Kernel},
			diskFile{Name: s + "/initrd.cpio", Data: initrd})
	}
	return files
}

// addFile adds the file at path to a as name.
func addFile(a *cpioWriter, name string, perm fs.FileMode, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	return a.file(name, perm, st.Size(), f)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("images: copy %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("images: %w", err)
	}
	return nil
}
