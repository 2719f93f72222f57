package images

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestKernelHasNoDiskEncryption holds the decision in docs/threat-model.md
// ("Encryption at rest"): the data partition is not encrypted because the
// kernel we ship cannot decrypt it. It reads the pinned kernel's
// modules.builtin, its loadable modules and its configuration addendum from
// the module cache (no boot), and fails on the day the kernel gains
// dm-crypt, so that the decision is taken again then.
func TestKernelHasNoDiskEncryption(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := FindKernel(ctx, "")
	if err != nil {
		t.Fatalf("the pinned kernel is needed to check the encryption-at-rest decision: %v", err)
	}
	found, err := diskEncryption(k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s: %s", k.Module, k.Version, found)
	if found.dmCrypt() {
		t.Fatalf("the kernel %s %s now has dm-crypt (%s): revisit the encryption-at-rest decision in docs/threat-model.md. "+
			"The data partition can now be LUKS2 with its key sealed to the TPM's PCRs (this needs xts and a TPM driver, tpm_tis or tpm_crb, too), "+
			"tested under QEMU with swtpm; update the threat model and this test when that is done",
			k.Module, k.Version, found)
	}
}

// TestDiskEncryptionCheckSeesDmCrypt: the check above is not vacuous: a
// kernel with dm-crypt built in, loadable, or configured is caught.
func TestDiskEncryptionCheckSeesDmCrypt(t *testing.T) {
	for _, c := range []struct{ name, file, body string }{
		{"built in", "lib/modules/7.1.3/modules.builtin", "kernel/drivers/md/dm-mod.ko\nkernel/drivers/md/dm-crypt.ko\n"},
		{"loadable", "lib/modules/7.1.3/kernel/drivers/md/dm-crypt.ko.zst", "\x7fELF"},
		{"configured", "_build/config.addendum.txt", "CONFIG_DM_CRYPT=y\n"},
	} {
		k := fakeKernel(t)
		for name, body := range map[string]string{
			"lib/modules/7.1.3/modules.builtin": "kernel/drivers/md/dm-mod.ko\nkernel/drivers/md/dm-zero.ko\n",
			"_build/config.addendum.txt":        "CONFIG_SQUASHFS=y\n",
		} {
			writeKernelFile(t, k, name, body)
		}
		found, err := diskEncryption(k)
		if err != nil || found.dmCrypt() {
			t.Fatalf("%s: a kernel without dm-crypt: %s, %v", c.name, found, err)
		}
		writeKernelFile(t, k, c.file, c.body)
		if found, err := diskEncryption(k); err != nil || !found.dmCrypt() {
			t.Errorf("dm-crypt %s is not seen: %s, %v", c.name, found, err)
		}
	}
}

func writeKernelFile(t *testing.T, k Kernel, name, body string) {
	t.Helper()
	path := filepath.Join(k.Dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// encryptionSupport is what a kernel offers for encrypting a disk.
type encryptionSupport struct {
	deviceMapper, xts, tpm []string // modules, built in or loadable
	config                 []string // CONFIG_ lines of the addendum
}

func (e encryptionSupport) dmCrypt() bool {
	return slices.Contains(e.deviceMapper, "dm-crypt") ||
		slices.ContainsFunc(e.config, func(c string) bool { return strings.HasPrefix(c, "CONFIG_DM_CRYPT=") })
}

func (e encryptionSupport) String() string {
	return fmt.Sprintf("device mapper %v; xts %v; TPM %v; configured %v", e.deviceMapper, e.xts, e.tpm, e.config)
}

// diskEncryption reads a kernel's built-in modules (modules.builtin), the
// loadable ones it ships (.ko files) and its configuration addendum.
func diskEncryption(k Kernel) (encryptionSupport, error) {
	var e encryptionSupport
	lists, err := filepath.Glob(filepath.Join(k.Dir, "lib", "modules", "*", "modules.builtin"))
	if err != nil || len(lists) != 1 {
		return e, fmt.Errorf("%s: want one lib/modules/VERSION/modules.builtin, found %v (%v)", k.Dir, lists, err)
	}
	b, err := os.ReadFile(lists[0])
	if err != nil {
		return e, err
	}
	var modules []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			modules = append(modules, moduleName(line))
		}
	}
	if !slices.Contains(modules, "dm-mod") {
		return e, fmt.Errorf("%s lists no dm-mod (%d entries): the check would prove nothing; fix the test", lists[0], len(modules))
	}
	err = filepath.WalkDir(filepath.Dir(lists[0]), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), ".ko") {
			modules = append(modules, moduleName(d.Name()))
		}
		return err
	})
	if err != nil {
		return e, err
	}
	for _, m := range modules {
		switch {
		case strings.HasPrefix(m, "dm-"):
			e.deviceMapper = append(e.deviceMapper, m)
		case m == "xts":
			e.xts = append(e.xts, m)
		case strings.HasPrefix(m, "tpm"):
			e.tpm = append(e.tpm, m)
		}
	}
	addendum, err := os.ReadFile(filepath.Join(k.Dir, "_build", "config.addendum.txt"))
	if err != nil {
		return e, fmt.Errorf("the kernel's configuration addendum: %w", err)
	}
	e.config = regexp.MustCompile(`(?m)^CONFIG_(DM_CRYPT|CRYPTO_XTS|TCG_TIS|TCG_CRB|TCG_TPM|FS_ENCRYPTION)=[ym]`).FindAllString(string(addendum), -1)
	return e, nil
}

// moduleName is "dm-crypt" for "kernel/drivers/md/dm-crypt.ko.zst".
func moduleName(path string) string {
	name := filepath.Base(path)
	if i := strings.Index(name, ".ko"); i >= 0 {
		name = name[:i]
	}
	return name
}
