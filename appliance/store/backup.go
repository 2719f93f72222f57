package store

import (
	"fmt"
	"io"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole store to w, as it stood
// at one moment, while appends and ingests go on: bbolt's Tx.WriteTo in
// one read transaction. size, if set, is told the copy's size before it
// is written. The copy is a store file: 'wingnode verify' reads it, and
// 'wingnode restore' puts it in place on a new board.
func (s *Store) Backup(w io.Writer, size func(int64)) (n int64, err error) {
	defer recoverDamage(s.path, &err)
	err = s.db.View(func(tx *bolt.Tx) error {
		if size != nil {
			size(tx.Size())
		}
		var werr error
		n, werr = tx.WriteTo(w)
		return werr
	})
	if err != nil {
		return n, fmt.Errorf("store: back up %s: %w", s.path, err)
	}
	return n, nil
}
