//go:build !unix

package trust

import "sync"

var dirLock sync.Mutex

// lockDir falls back to a process-wide mutex where flock is missing.
func lockDir(string) (func(), error) {
	dirLock.Lock()
	return dirLock.Unlock, nil
}
