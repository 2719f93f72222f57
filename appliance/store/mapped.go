package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

// ReleaseMapped hands back to the kernel the pages of the store's file
// that reading it has brought into this process: bbolt reads through a
// memory map of the whole file, and every page read stays resident. They
// count in the process's resident memory, and so in what the kernel
// weighs before it kills a process for memory, yet they are only the page
// cache's copy of the file, which the kernel keeps or drops as it needs.
// A later read of a page maps it again from the page cache. The appliance
// calls this now and then; it is safe while the store is in use.
func (s *Store) ReleaseMapped() error {
	return s.db.View(func(tx *bolt.Tx) error {
		// While a read transaction is open the map cannot move: bbolt
		// remaps only when no transaction reads it.
		data, size := s.db.Info().Data, tx.Size()
		if data == 0 || size <= 0 {
			return nil
		}
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, data, uintptr(size), unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("store: release the store's mapped pages: %w", errno)
		}
		return nil
	})
}
