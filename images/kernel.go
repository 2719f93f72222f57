package images

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"

	// The kernel is a file in this module, not Go code: importing its empty
	// package keeps the module, and so the kernel's version, pinned in go.mod.
	_ "github.com/gokrazy/kernel.amd64"
)

// KernelModule is the Go module that holds the amd64 kernel.
const KernelModule = "github.com/gokrazy/kernel.amd64"

// Kernel is a kernel module in the Go module cache. Its folder holds the
// bzImage "vmlinuz" (with an EFI stub), its licence "LICENSE.linux" and,
// under _build, the upstream source URL, the patch series and the
// configuration added to upstream's.
type Kernel struct {
	Module  string // e.g. github.com/gokrazy/kernel.amd64
	Version string // the version go.mod pins
	Dir     string // the module's folder
}

// Image returns the path of the kernel image.
func (k Kernel) Image() string { return filepath.Join(k.Dir, "vmlinuz") }

// FindKernel finds the kernel pinned in go.mod, downloading it into the
// module cache if needed. goCmd is the go command; "" means "go".
func FindKernel(ctx context.Context, goCmd string) (Kernel, error) {
	if goCmd == "" {
		goCmd = "go"
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", KernelModule)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Kernel{}, fmt.Errorf("images: go mod download %s: %w: %s", KernelModule, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var m struct{ Path, Version, Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return Kernel{}, fmt.Errorf("images: go mod download %s: %w", KernelModule, err)
	}
	if m.Error != "" || m.Dir == "" {
		return Kernel{}, fmt.Errorf("images: go mod download %s: no module folder: %s", KernelModule, m.Error)
	}
	return Kernel{Module: m.Path, Version: m.Version, Dir: m.Dir}, nil
}
