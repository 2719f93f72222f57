package images

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/squashfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// Bootloader is where Debian's systemd-boot-efi package puts systemd-boot,
// which the disk image boots with.
const Bootloader = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

// The GPT names of the two root partitions (see firmware).
const (
	slotA = "root-a"
	slotB = "root-b"
)

// Slots returns the GPT names of the two root partitions, a then b.
func Slots() [2]string { return [2]string{slotA, slotB} }

// The disk's partitions, in order. The ESP holds systemd-boot and, per slot,
// the kernel and the initramfs; each slot holds the root file system
// (squashfs); data holds what the wing keeps (ext4).
const (
	mib        = 1 << 20
	sectorSize = 512
	espSize    = 96 * mib
	slotSize   = 32 * mib
	dataSize   = 64 * mib
	// squashfsBlock is the slots' block size: go-diskfs needs at least 4 KiB.
	squashfsBlock = 4096
)

// diskFile is a file or, when Mode says so, a folder to put in one of the
// disk's file systems. A file's contents are read from Path or, when Path is
// "", taken from Data.
type diskFile struct {
	Name string      // slash-separated, relative to the file system's root
	Mode fs.FileMode // permission bits, and fs.ModeDir for a folder
	Path string
	Data []byte
}

// writeDisk writes a GPT disk image to name: an EFI system partition (FAT32)
// holding esp, the partitions root-a and root-b, each a squashfs holding
// slot, and an ext4 partition named data holding data. It also writes the
// slot's squashfs on its own to rootfs, the payload of an update bundle.
func writeDisk(name, rootfs string, esp, slot, data []diskFile) error {
	parts := []struct {
		name string
		typ  gpt.Type
		size int64
	}{
		{"esp", gpt.EFISystemPartition, espSize},
		{Slots()[0], gpt.LinuxFilesystem, slotSize},
		{Slots()[1], gpt.LinuxFilesystem, slotSize},
		{"data", gpt.LinuxFilesystem, dataSize},
	}
	// 1 MiB before the first partition (alignment, primary GPT) and after
	// the last (backup GPT).
	size := int64(2 * mib)
	table := &gpt.Table{LogicalSectorSize: sectorSize, PhysicalSectorSize: sectorSize, ProtectiveMBR: true}
	start := uint64(mib / sectorSize)
	for i, p := range parts {
		end := start + uint64(p.size/sectorSize) - 1
		table.Partitions = append(table.Partitions, &gpt.Partition{Index: i + 1, Start: start, End: end, Type: p.typ, Name: p.name})
		start = end + 1
		size += p.size
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("images: %w", err)
	}
	d, err := diskfs.Create(name, size, sectorSize)
	if err != nil {
		return fmt.Errorf("images: create %s: %w", name, err)
	}
	err = fillDisk(d, table, esp, slot, data)
	if err == nil {
		a := table.Partitions[1]
		err = writeSquashfs(rootfs, io.NewSectionReader(d.Backend, int64(a.GetStart()), int64(a.GetSize())))
	}
	if cerr := d.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("images: %s: %w", name, err)
	}
	return nil
}

// writeSquashfs copies the squashfs at the start of part to name: the
// bytes its superblock says it uses, rounded up to 4 KiB, the unit Linux
// reads it in.
func writeSquashfs(name string, part *io.SectionReader) error {
	var sb [48]byte
	if _, err := part.ReadAt(sb[:], 0); err != nil {
		return fmt.Errorf("read the squashfs superblock: %w", err)
	}
	if string(sb[:4]) != "hsqs" {
		return errors.New("the root slot holds no squashfs")
	}
	used := int64(binary.LittleEndian.Uint64(sb[40:]))
	size := (used + 4095) &^ 4095
	if size > part.Size() {
		return fmt.Errorf("the squashfs claims %d bytes, more than its partition's %d", used, part.Size())
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.NewSectionReader(part, 0, size)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fillDisk partitions d as table says and creates the file systems.
func fillDisk(d *disk.Disk, table *gpt.Table, esp, slot, data []diskFile) error {
	if err := d.Partition(table); err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	espFS, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "ESP", Reproducible: true})
	if err != nil {
		return fmt.Errorf("ESP: %w", err)
	}
	if err := fillFS(espFS, esp); err != nil {
		return fmt.Errorf("ESP: %w", err)
	}
	a := table.Partitions[1]
	sq, err := squashfs.Create(d.Backend, int64(a.GetSize()), int64(a.GetStart()), squashfsBlock)
	if err != nil {
		return fmt.Errorf("%s: %w", Slots()[0], err)
	}
	if err := fillFS(sq, slot); err != nil {
		return fmt.Errorf("%s: %w", Slots()[0], err)
	}
	// Without a level the gzip compressor stores the data uncompressed.
	if err := sq.Finalize(squashfs.FinalizeOptions{Compression: &squashfs.CompressorGzip{CompressionLevel: 6}}); err != nil {
		return fmt.Errorf("%s: %w", Slots()[0], err)
	}
	// Both slots start with the same release: the same bytes, compressed
	// once (a squashfs's offsets are relative to its start).
	if _, err := d.WritePartitionContents(3, io.NewSectionReader(d.Backend, int64(a.GetStart()), int64(a.GetSize()))); err != nil {
		return fmt.Errorf("%s: %w", Slots()[1], err)
	}
	dataFS, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 4, FSType: filesystem.TypeExt4, VolumeLabel: "data"})
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := fillFS(dataFS, data); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// fillFS writes files into fsys, creating their folders (mode 0755 unless
// listed) first. Names are relative: go-diskfs's squashfs refuses absolute
// ones.
func fillFS(fsys filesystem.FileSystem, files []diskFile) error {
	dirs := map[string]fs.FileMode{}
	for _, f := range files {
		for d := path.Dir(f.Name); d != "."; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = fs.ModeDir | 0o755
			}
		}
	}
	for _, f := range files {
		if f.Mode.IsDir() {
			dirs[f.Name] = f.Mode
		}
	}
	// go-diskfs leaves a squashfs root readable by its owner only.
	if err := fsys.Chmod(".", fs.ModeDir|0o755); err != nil && !errors.Is(err, filesystem.ErrNotSupported) {
		return fmt.Errorf("chmod /: %w", err)
	}
	for _, d := range slices.Sorted(maps.Keys(dirs)) {
		if err := fsys.Mkdir(d); err != nil {
			return fmt.Errorf("mkdir %s: %w", d, err)
		}
		if err := fsys.Chmod(d, dirs[d]); err != nil && !errors.Is(err, filesystem.ErrNotSupported) {
			return fmt.Errorf("chmod %s: %w", d, err)
		}
	}
	for _, f := range files {
		if f.Mode.IsDir() {
			continue
		}
		if err := writeFSFile(fsys, f); err != nil {
			return err
		}
	}
	return nil
}

func writeFSFile(fsys filesystem.FileSystem, f diskFile) error {
	w, err := fsys.OpenFile(f.Name, os.O_CREATE|os.O_RDWR)
	if err != nil {
		return fmt.Errorf("create %s: %w", f.Name, err)
	}
	defer w.Close()
	if f.Path == "" {
		_, err = w.Write(f.Data)
	} else {
		err = copyFrom(w, f.Path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	if err := fsys.Chmod(f.Name, f.Mode); err != nil && !errors.Is(err, filesystem.ErrNotSupported) {
		return fmt.Errorf("chmod %s: %w", f.Name, err)
	}
	return nil
}

func copyFrom(w io.Writer, name string) error {
	r, err := os.Open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}
