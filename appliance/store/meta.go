package store

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's meta pages, as laid out in its file: a 16-byte page header,
// then magic(4) version(4) page size(4) flags(4) root bucket(16)
// freelist(8) pgid(8) txid(8) and an FNV-64a checksum(8) of the 56 bytes
// before it, little-endian on the boards we run on.
const (
	metaMagic    = 0xED0CDAED
	metaVersion  = 2
	pageHeader   = 16
	metaChecksum = 56
)

// checkMetaPages reads both meta pages of a bbolt file and reports the
// first that is damaged. bbolt opens a file whose newer meta page is
// damaged on the older one without a word, losing its last transaction
// (or worse); Verify must not.
func checkMetaPages(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	first := make([]byte, pageHeader+metaChecksum+8)
	if _, err := io.ReadFull(f, first); err != nil {
		return fmt.Errorf("%w: meta page 0: %w", ErrDamaged, err)
	}
	pageSize := int64(binary.LittleEndian.Uint32(first[pageHeader+8:]))
	if pageSize < 512 || pageSize > 1<<20 {
		pageSize = int64(os.Getpagesize())
	}
	second := make([]byte, len(first))
	if _, err := f.ReadAt(second, pageSize); err != nil {
		return fmt.Errorf("%w: meta page 1: %w", ErrDamaged, err)
	}
	for i, p := range [][]byte{first, second} {
		m := p[pageHeader:]
		h := fnv.New64a()
		h.Write(m[:metaChecksum])
		want, got := binary.LittleEndian.Uint64(m[metaChecksum:]), h.Sum64()
		switch {
		case binary.LittleEndian.Uint32(m) != metaMagic:
			return fmt.Errorf("%w: meta page %d does not hold bbolt's marker: restore the file from a backup or from the site", ErrDamaged, i)
		case binary.LittleEndian.Uint32(m[4:]) != metaVersion:
			return fmt.Errorf("%w: meta page %d is of bbolt version %d, not %d", ErrDamaged, i, binary.LittleEndian.Uint32(m[4:]), metaVersion)
		case want != got:
			return fmt.Errorf("%w: meta page %d does not match its checksum (FNV-64a %016x, recorded %016x): bbolt would silently open the other and lose the last transaction; restore the file from a backup or from the site", ErrDamaged, i, got, want)
		}
	}
	return nil
}
