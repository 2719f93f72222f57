package appliance_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestThreatModelNamesRealTests: every claim in docs/threat-model.md links
// the test that holds it; each link must name a test, fuzz target or
// function that is in the linked file, so that renaming or removing one
// makes the threat model fail here instead of silently claiming too much.
func TestThreatModelNamesRealTests(t *testing.T) {
	b, err := os.ReadFile("../docs/threat-model.md")
	require.NoError(t, err)
	links := regexp.MustCompile("\\[`(\\w+)`\\]\\(\\.\\./([^)#]+)\\)").FindAllStringSubmatch(string(b), -1)
	require.NotEmpty(t, links, "the threat model links its tests as [`TestName`](../path/file_test.go)")
	for _, l := range links {
		name, path := l[1], l[2]
		src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
		if err != nil {
			t.Errorf("docs/threat-model.md links %s in %s, which cannot be read: %v", name, path, err)
			continue
		}
		if !regexp.MustCompile(`(?m)^func ` + name + `\(`).Match(src) {
			t.Errorf("docs/threat-model.md links %s in %s, which has no such function: fix the claim or its link", name, path)
		}
	}
}
