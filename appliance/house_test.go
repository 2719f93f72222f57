package appliance_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goPackage is what `go list -json` says of a package.
type goPackage struct {
	ImportPath string
	Dir        string
	Doc        string
	Imports    []string
	Deps       []string
}

// modulePackages lists every package of the module.
func modulePackages(t *testing.T) []goPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		t.Fatalf("go list: %v\n%s", err, exit.Stderr)
	}
	require.NoError(t, err)
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs)
	return pkgs
}

func within(path, root string) bool { return path == root || strings.HasPrefix(path, root+"/") }

// TestHouseRules keeps the package structure to its rules: bbolt behind
// the store, periph's host drivers loaded by the binary alone, the screens
// and the sensors free of the site and of the wiring, and a doc comment
// on every package.
func TestHouseRules(t *testing.T) {
	for _, p := range modulePackages(t) {
		for _, imp := range p.Imports {
			if within(imp, "go.etcd.io/bbolt") && p.ImportPath != "wingnode/appliance/store" {
				t.Errorf("%s imports %s: only wingnode/appliance/store may use bbolt", p.ImportPath, imp)
			}
			if within(imp, "periph.io/x/host/v3") && p.ImportPath != "wingnode/appliance/cmd/wingnode" {
				t.Errorf("%s imports %s: only the binary (wingnode/appliance/cmd/wingnode) loads periph's host drivers", p.ImportPath, imp)
			}
		}
		if within(p.ImportPath, "wingnode/ui") || within(p.ImportPath, "wingnode/sensors") {
			for _, dep := range p.Deps {
				if within(dep, "wingnode/sync") || dep == "wingnode/appliance" || within(dep, "go.etcd.io/bbolt") {
					t.Errorf("%s depends on %s: the screens and the sensors know neither the site, nor the wiring, nor the store's engine", p.ImportPath, dep)
				}
			}
		}
		if strings.TrimSpace(p.Doc) == "" {
			t.Errorf("%s has no package doc comment: say in a sentence or two what it is for", p.ImportPath)
		}
	}
}

// TestReadmeLayoutNamesEveryPackage: the README's layout table names
// every package of the module, and every folder it names exists.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	readme := string(b)
	start := strings.Index(readme, "\n## Layout\n")
	require.Positive(t, start, "README has a Layout section")
	layout := readme[start+1:]
	if end := strings.Index(layout[3:], "\n## "); end > 0 {
		layout = layout[:end+3]
	}
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9/_-]+)/`").FindAllStringSubmatch(layout, -1) {
		named[m[1]] = true
	}
	for _, p := range modulePackages(t) {
		path := strings.TrimPrefix(p.ImportPath, "wingnode/")
		assert.True(t, named[path], "the README's layout table names `%s/`", path)
	}
	for path := range named {
		_, err := os.Stat("../" + path)
		assert.NoError(t, err, "the README's layout table names %s/, which exists", path)
	}
}
