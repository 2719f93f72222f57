package images

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"wingnode/appliance/config"
	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/firmware"
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

// Hardware is what the images built here are, in update bundles' terms.
const Hardware = "amd64-uefi"

// HealthURL is the health check the init polls in an image.
const HealthURL = "http://127.0.0.1:8080/healthz" // ScreenPort

// Defaults of the init's supervision: a first answer within a minute of
// the start, and a board reset 10 s after the last pet.
const (
	DefaultStartGrace      = 60
	DefaultWatchdogTimeout = 10
)

// Paths in the slot's root and on the data partition (mounted on /data).
const (
	slotInit  = "/usr/bin/wingnode-init" // the second stage of the init
	trustPath = "etc/wingnode/trust.pub"
)

// Config says which image to build. Its zero value builds wing A into
// build/image-A.
type Config struct {
	Wing    string // id of the built-in simulated wing; "" means "A"
	Dir     string // output folder, created if missing; "" means build/image-WING
	Version string // wingnode's version string; "" means "dev"
	// Build is the release's monotonic build number, which updates
	// compare (firmware); 0 means 1.
	Build uint64
	Go    string // the go command; "" means "go"
	// Bootloader is systemd-boot's EFI binary for the disk image; ""
	// means Bootloader (Debian's systemd-boot-efi).
	Bootloader string
	// NoDisk skips the disk image: only the files of a direct kernel boot
	// are written.
	NoDisk bool
	// Trust is the trust file (firmware) holding the keys updates must
	// be signed by; "" builds an image that accepts no update.
	Trust string
	// WingConfig is the wing's configuration file (docs/wing-config.md),
	// put on the data partition as wing.conf; the image then runs that
	// wing, and Wing is taken from it.
	WingConfig string
	// SiteITHash is a file holding the SHA-256 of site IT's token in hex
	// ('wingnode firmware siteit-token -out FILE' writes one), put on the
	// data partition as siteit.sha256.
	SiteITHash string
	// EnrolToken is the site enrolment token file, put on the data
	// partition as site/enrol-token.
	EnrolToken string
	// Wingnode is a linux/amd64 wingnode binary to ship instead of
	// building one (a test ships one that hangs).
	Wingnode string
	// StartGrace and WatchdogTimeout, in seconds, tune the init's
	// supervision (bootconf); 0 means DefaultStartGrace and
	// DefaultWatchdogTimeout.
	StartGrace, WatchdogTimeout int
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
	// Rootfs is one slot's squashfs, the payload of an update bundle
	// ('wingnode firmware sign -rootfs'); "" if the disk was not built.
	Rootfs string
}

// imageInputs is what writeImage puts into an image besides the kernel.
type imageInputs struct {
	init, wingnode string // the binaries
	boot           bootconf.Config
	device         firmware.DeviceConfig
	trust          []byte // the trust file; nil for none
	bootloader     string // systemd-boot; "" for no disk image
	release        firmware.Slot
	data           []diskFile // provisioned onto the data partition
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
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Go == "" {
		c.Go = "go"
	}
	if c.Build == 0 {
		c.Build = 1
	}
	if c.StartGrace == 0 {
		c.StartGrace = DefaultStartGrace
	}
	if c.WatchdogTimeout == 0 {
		c.WatchdogTimeout = DefaultWatchdogTimeout
	}
	in, err := c.provision()
	if err != nil {
		return Image{}, err
	}
	// A bad id would otherwise get one complaint per record of the wing.
	if !event.ValidID(c.Wing) {
		return Image{}, fmt.Errorf("images: wing id %q: use 1 to 64 letters, digits, '.', '-' or '_', starting with a letter or digit", c.Wing)
	}
	if c.WingConfig == "" {
		if _, err := config.Simulated(c.Wing); err != nil {
			return Image{}, fmt.Errorf("images: wing %q: %w", c.Wing, err)
		}
	}
	if c.Dir == "" {
		c.Dir = filepath.Join("build", "image-"+c.Wing)
	}
	if !c.NoDisk {
		in.bootloader = c.Bootloader
		if in.bootloader == "" {
			in.bootloader = Bootloader
		}
		if _, err := os.Stat(in.bootloader); err != nil {
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
	pkgs := []string{"wingnode/images/cmd/wingnode-init"}
	in.init, in.wingnode = filepath.Join(bin, "wingnode-init"), c.Wingnode
	if c.Wingnode == "" {
		pkgs = append(pkgs, "wingnode/appliance/cmd/wingnode")
		in.wingnode = filepath.Join(bin, "wingnode")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.Go, append([]string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + c.Version, "-o", bin + string(filepath.Separator)}, pkgs...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Image{}, fmt.Errorf("images: go build: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	in.boot = bootconf.Config{
		Network: []bootconf.Interface{{Name: "eth0", Address: qemuGuest, Gateway: qemuGateway}},
		Command: []string{"/usr/bin/wingnode", "run", "-simulate", "-wing", c.Wing,
			"-listen", "0.0.0.0:" + strconv.Itoa(ScreenPort), "-data", "/data"},
		Health:     HealthURL,
		StartGrace: c.StartGrace,
		Watchdog:   &bootconf.Watchdog{Device: "/dev/watchdog", Timeout: c.WatchdogTimeout},
	}
	in.release = firmware.Slot{Status: firmware.Good, Version: c.Build, Display: c.Version}
	img, err := writeImage(c.Dir, k, in)
	if err != nil {
		return Image{}, err
	}
	img.Wing = c.Wing
	return img, nil
}

// provision reads the files c puts into the image: the trust file, and the
// wing configuration, site IT's token hash and the enrolment token for the
// data partition. With a wing configuration, c.Wing becomes its id.
func (c *Config) provision() (imageInputs, error) {
	in := imageInputs{device: firmware.DeviceConfig{Hardware: Hardware, KernelOptions: Cmdline}}
	if c.Trust != "" {
		b, err := os.ReadFile(c.Trust)
		if err != nil {
			return in, fmt.Errorf("images: trust file: %w", err)
		}
		if _, err := firmware.ParseTrust(b); err != nil {
			return in, fmt.Errorf("images: trust file %s: %w", c.Trust, err)
		}
		in.trust, in.device.Trust = b, "/"+trustPath
	}
	if c.WingConfig != "" {
		w, err := config.Load(c.WingConfig)
		if err != nil {
			return in, fmt.Errorf("images: %w", err)
		}
		c.Wing = w.ID
		in.data = append(in.data, diskFile{Name: strings.TrimPrefix(bootconf.WingConfig, "/data/"), Mode: 0o644, Path: c.WingConfig})
	}
	if c.SiteITHash != "" {
		b, err := os.ReadFile(c.SiteITHash)
		if err != nil {
			return in, fmt.Errorf("images: site IT token hash: %w", err)
		}
		if sum, err := hex.DecodeString(string(bytes.TrimSpace(b))); err != nil || len(sum) != sha256.Size {
			return in, fmt.Errorf("images: %s does not hold a SHA-256 in hex; make it with 'wingnode firmware siteit-token -out FILE'", c.SiteITHash)
		}
		in.data = append(in.data, diskFile{Name: datadir.SiteITHashFile, Mode: 0o600, Data: b})
	}
	if c.EnrolToken != "" {
		b, err := os.ReadFile(c.EnrolToken)
		if err != nil {
			return in, fmt.Errorf("images: enrolment token: %w", err)
		}
		in.data = append(in.data, diskFile{Name: datadir.SiteFolder, Mode: fs.ModeDir | 0o700}, diskFile{Name: datadir.EnrolTokenFile, Mode: 0o600, Data: b})
	}
	return in, nil
}

// writeImage writes the image files into dir from the kernel module k and
// in, and, unless in.bootloader is "", the disk image booted by that
// systemd-boot binary and the slot's root file system on its own.
func writeImage(dir string, k Kernel, in imageInputs) (Image, error) {
	if err := in.boot.Check(); err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	bootJSON, err := json.MarshalIndent(in.boot, "", "\t")
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
	if err := addFile(a, "init", 0o755, in.init); err != nil {
		return Image{}, err
	}
	if err := addFile(a, "usr/bin/wingnode", 0o755, in.wingnode); err != nil {
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
	if in.bootloader == "" {
		return img, nil
	}
	deviceJSON, err := json.MarshalIndent(in.device, "", "\t")
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	slot := []diskFile{
		{Name: "usr/bin/wingnode", Mode: 0o755, Path: in.wingnode},
		{Name: strings.TrimPrefix(slotInit, "/"), Mode: 0o755, Path: in.init},
		{Name: strings.TrimPrefix(bootconf.Path, "/"), Mode: 0o644, Data: bootJSON},
		{Name: strings.TrimPrefix(firmware.DeviceConfigPath, "/"), Mode: 0o644, Data: deviceJSON},
	}
	if in.trust != nil {
		slot = append(slot, diskFile{Name: trustPath, Mode: 0o644, Data: in.trust})
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
	if err := addFile(a, "init", 0o755, in.init); err != nil {
		return Image{}, err
	}
	if err := a.close(); err != nil {
		return Image{}, err
	}
	// The factory state: slot a holds this release, confirmed; slot b
	// holds the same bytes but is marked bad, so only an update arms it.
	slots, err := json.MarshalIndent(firmware.NewSlots(in.release.Version, in.release.Display), "", "  ")
	if err != nil {
		return Image{}, fmt.Errorf("images: %w", err)
	}
	data := append([]diskFile{
		// e2fsck expects lost+found, and mke2fs makes it; go-diskfs does not.
		{Name: "lost+found", Mode: fs.ModeDir | 0o700},
		{Name: datadir.FirmwareFolder, Mode: fs.ModeDir | 0o700},
		{Name: datadir.SlotsFile, Mode: 0o600, Data: append(slots, '\n')},
	}, in.data...)
	img.Disk = filepath.Join(dir, "disk.img")
	img.Rootfs = filepath.Join(dir, "rootfs.img")
	if err := writeDisk(img.Disk, img.Rootfs, espFiles(img, in.bootloader, initrd.Bytes(), in.release), slot, data); err != nil {
		return Image{}, err
	}
	return img, nil
}

// espFiles lists the EFI system partition of img's disk: systemd-boot as the
// removable-media boot path, its configuration, each slot's kernel and
// initramfs (which holds only the init), and the boot loader entry of slot
// a, which runs release. Slot b gets its entry when an update is installed
// into it (firmware.Device). loader.conf names no default: systemd-boot
// boots the newest entry that has tries left (see firmware.LoaderEntry).
func espFiles(img Image, bootloader string, initrd []byte, release firmware.Slot) []diskFile {
	files := []diskFile{
		{Name: "EFI/BOOT/BOOTX64.EFI", Path: bootloader},
		{Name: "loader/loader.conf", Data: []byte("timeout 0\neditor no\n")},
		{Name: firmware.EntriesDir + "/" + firmware.BootEntry{Slot: firmware.SlotA}.String(), Data: firmware.LoaderEntry(firmware.SlotA, release, img.Cmdline)},
	}
	for _, s := range Slots() {
		files = append(files,
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
