//go:build unix

package trust

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on dir/.lock, held until the
// returned function is called. flock locks belong to the open file, so two
// Authority values in one process exclude each other as well as two
// processes (the appliance and `wingnode site token`).
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(dir+"/.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
