package images

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// kernelDocs returns the files that go with the kernel in an image, by name:
// its licence (LICENSE.linux), a source offer (SOURCE-OFFER.txt), and the
// build inputs gokrazy ships beside it (upstream URL, patch series, patches,
// configuration additions), which name the corresponding source.
func kernelDocs(k Kernel) (map[string][]byte, error) {
	docs := map[string][]byte{}
	licence, err := os.ReadFile(filepath.Join(k.Dir, "LICENSE.linux"))
	if err != nil {
		return nil, fmt.Errorf("images: kernel licence: %w", err)
	}
	docs["LICENSE.linux"] = licence
	entries, err := os.ReadDir(filepath.Join(k.Dir, "_build"))
	if err != nil {
		return nil, fmt.Errorf("images: kernel build inputs: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(k.Dir, "_build", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("images: kernel build inputs: %w", err)
		}
		docs[e.Name()] = b
	}
	upstream := strings.TrimSpace(string(docs["upstream-url.txt"]))
	if upstream == "" {
		return nil, fmt.Errorf("images: kernel module %s@%s names no upstream source (_build/upstream-url.txt)", k.Module, k.Version)
	}
	docs["SOURCE-OFFER.txt"] = []byte(fmt.Sprintf(sourceOffer, k.Module, k.Version, upstream))
	return docs, nil
}

const sourceOffer = `Source code offer for the Linux kernel in this image

The kernel (vmlinuz) is Linux, licensed under the GNU General Public License
version 2 (LICENSE.linux). It is the gokrazy project's build from the Go
module %s, version %s, made from:

  upstream source:  %s
  patches:          applied in the order listed in "series", each shipped
                    beside this file
  configuration:    the additions in config.addendum.txt, beside this file

The same files and the build recipe are in the module's repository,
https://%[1]s, at the commit its version names.

For at least three years after you received this image, the supplier of this
appliance will give anyone who asks a complete machine-readable copy of the
corresponding source code of this kernel, on a medium customarily used for
software interchange, for a charge no more than the cost of physically
performing that distribution.
`
