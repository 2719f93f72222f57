package firmware

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func validManifestJSON(t testing.TB) []byte {
	t.Helper()
	b, err := testManifest(t, 7, 5, []byte("root filesystem")).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestManifestRoundTrip(t *testing.T) {
	m := testManifest(t, 7, 5, []byte("root filesystem"))
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"created":"2026-11-25T12:00:00Z","display":"2026.11.7","format":1,"hardware":"amd64-uefi","min_version":5,` +
		`"payloads":[{"name":"rootfs","sha256":"` + m.Payloads[0].SHA256 + `","size":15}],"product":"wingnode","version":7}`
	if string(b) != want {
		t.Fatalf("canonical form\n got %s\nwant %s", b, want)
	}
	got, err := ParseManifest(b)
	if err != nil {
		t.Fatal(err)
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("round trip changed the manifest: %s, %v", again, err)
	}
}

// manifestEdits are manifests ParseManifest must refuse; they also seed the fuzzer.
var manifestEdits = []struct {
	name string
	edit func(string) string
	want error
}{
	{"unknown field", func(s string) string { return strings.Replace(s, `{"created"`, `{"colour":"red","created"`, 1) }, ErrManifest},
	{"not compact", func(s string) string { return strings.Replace(s, `,"format"`, `, "format"`, 1) }, ErrManifest},
	{"trailing newline", func(s string) string { return s + "\n" }, ErrManifest},
	{"duplicate key", func(s string) string { return strings.Replace(s, `"version":7`, `"version":7,"version":9`, 1) }, ErrManifest},
	{"key in other case", func(s string) string { return strings.Replace(s, `"version":7`, `"VERSION":7`, 1) }, ErrManifest},
	{"float version", func(s string) string { return strings.Replace(s, `"version":7`, `"version":7.0`, 1) }, ErrManifest},
	{"negative size", func(s string) string { return strings.Replace(s, `"size":15`, `"size":-15`, 1) }, ErrManifest},
	{"huge size", func(s string) string { return strings.Replace(s, `"size":15`, `"size":99999999999999`, 1) }, ErrManifest},
	{"bad name", func(s string) string { return strings.Replace(s, `"name":"rootfs"`, `"name":"../etc"`, 1) }, ErrManifest},
	{"bad hardware", func(s string) string { return strings.Replace(s, `amd64-uefi`, `AMD64`, 1) }, ErrManifest},
	{"other product", func(s string) string { return strings.Replace(s, `"product":"wingnode"`, `"product":"doorbell"`, 1) }, ErrProduct},
	{"format 2", func(s string) string { return strings.Replace(s, `"format":1`, `"format":2`, 1) }, ErrManifest},
	{"floor above version", func(s string) string { return strings.Replace(s, `"min_version":5`, `"min_version":8`, 1) }, ErrManifest},
	{"version 0", func(s string) string {
		return strings.Replace(strings.Replace(s, `"version":7`, `"version":0`, 1), `"min_version":5`, `"min_version":0`, 1)
	}, ErrManifest},
	{"uppercase hash", func(s string) string {
		i := strings.Index(s, `"sha256":"`) + 10
		return s[:i] + strings.ToUpper(s[i:i+64]) + s[i+64:]
	}, ErrManifest},
	{"no payloads", func(s string) string {
		i, j := strings.Index(s, `"payloads":[`)+12, strings.Index(s, `],"product"`)
		return s[:i] + s[j:]
	}, ErrManifest},
	{"duplicate payload", func(s string) string {
		i, j := strings.Index(s, `"payloads":[`)+12, strings.Index(s, `],"product"`)
		return s[:j] + "," + s[i:j] + s[j:]
	}, ErrManifest},
	{"not UTC", func(s string) string { return strings.Replace(s, `12:00:00Z`, `12:00:00+01:00`, 1) }, ErrManifest},
	{"fractional second", func(s string) string { return strings.Replace(s, `12:00:00Z`, `12:00:00.5Z`, 1) }, ErrManifest},
	{"display with markup", func(s string) string { return strings.Replace(s, `2026.11.7`, `<b>7</b>`, 1) }, ErrManifest},
	{"oversized", func(s string) string { return s + strings.Repeat(" ", MaxManifestSize) }, ErrManifest},
	{"not JSON", func(string) string { return "wingnode" }, ErrManifest},
}

func TestParseManifestRefuses(t *testing.T) {
	valid := string(validManifestJSON(t))
	for _, tc := range manifestEdits {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.edit(valid)
			if in == valid {
				t.Fatal("the edit changed nothing")
			}
			_, err := ParseManifest([]byte(in))
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseManifest(%.120s...) = %v, want %v", in, err, tc.want)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	valid := string(validManifestJSON(f))
	f.Add([]byte(valid))
	for _, tc := range manifestEdits {
		f.Add([]byte(tc.edit(valid)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			if !errors.Is(err, ErrManifest) {
				t.Fatalf("error %v does not wrap ErrManifest", err)
			}
			return
		}
		// Whatever parses is canonical: it encodes back to the same bytes.
		again, err := m.Marshal()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted %q but it encodes to %q (%v)", b, again, err)
		}
	})
}
