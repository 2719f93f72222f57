package images

import (
	"fmt"
	"io"
	"io/fs"
)

// Mode bits of the newc cpio format (the ones of stat(2)).
const (
	cpioDir     = 0o040000
	cpioFile    = 0o100000
	cpioCharDev = 0o020000
)

// cpioWriter writes a newc ("070701") cpio archive, the format the Linux
// kernel unpacks as an initramfs. Entries are owned by root, dated 0 (so an
// archive depends only on its contents), and must be added parents first.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w} }

// dir adds a directory.
func (c *cpioWriter) dir(name string, perm fs.FileMode) error {
	return c.entry(name, cpioDir|uint32(perm.Perm()), 0, 0, 0, nil)
}

// file adds a regular file of size bytes read from r.
func (c *cpioWriter) file(name string, perm fs.FileMode, size int64, r io.Reader) error {
	return c.entry(name, cpioFile|uint32(perm.Perm()), size, 0, 0, r)
}

// charDev adds a character device node.
func (c *cpioWriter) charDev(name string, perm fs.FileMode, major, minor uint32) error {
	return c.entry(name, cpioCharDev|uint32(perm.Perm()), 0, major, minor, nil)
}

// close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) close() error {
	return c.entry("TRAILER!!!", 0, 0, 0, 0, nil)
}

func (c *cpioWriter) entry(name string, mode uint32, size int64, rmajor, rminor uint32, r io.Reader) error {
	if c.err != nil {
		return c.err
	}
	if size > 0xffffffff {
		c.err = fmt.Errorf("images: cpio: %s: %d bytes is too large for newc", name, size)
		return c.err
	}
	c.ino++
	nlink := 1
	if mode&cpioDir != 0 {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize (with its NUL), check.
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0)
	if c.write([]byte(hdr+name+"\x00"), len(hdr)+len(name)+1) != nil {
		return c.err
	}
	if r != nil {
		n, err := io.CopyN(c.w, r, size)
		if err != nil {
			c.err = fmt.Errorf("images: cpio: %s: wrote %d of %d bytes: %w", name, n, size, err)
			return c.err
		}
	}
	return c.write(nil, int(size))
}

// write writes b followed by the zero padding that aligns an item of
// length n (b's length, or the data just copied) to 4 bytes.
func (c *cpioWriter) write(b []byte, n int) error {
	b = append(b, make([]byte, (4-n%4)%4)...)
	if _, err := c.w.Write(b); err != nil {
		c.err = fmt.Errorf("images: cpio: %w", err)
	}
	return c.err
}
