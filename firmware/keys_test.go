package firmware

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	k := testKey(t, 1)
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := WritePrivateKey(path, k); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file mode %v, want 0600", fi.Mode().Perm())
	}
	back, err := ReadPrivateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID() != k.ID() || len(k.ID()) != 16 {
		t.Fatalf("read back key %s, wrote %s", back.ID(), k.ID())
	}
	if err := WritePrivateKey(path, k); err == nil {
		t.Fatal("WritePrivateKey overwrote an existing key file")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadPrivateKey(path); !errors.Is(err, ErrKey) {
		t.Fatalf("reading a world-readable private key: %v, want ErrKey", err)
	}

	pub, err := k.Public().MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pub), "wingnode-firmware-public-key "+k.ID()+" ") {
		t.Fatalf("public key file %q", pub)
	}
	got, err := ParsePublicKey(append([]byte("# signing station 1\n"), pub...))
	if err != nil || got.ID() != k.ID() {
		t.Fatalf("ParsePublicKey = %v, %v", got.ID(), err)
	}
	other := testKey(t, 2)
	tampered := strings.Replace(string(pub), k.ID(), other.ID(), 1)
	if _, err := ParsePublicKey([]byte(tampered)); !errors.Is(err, ErrKey) {
		t.Fatalf("a key id that does not match its key: %v, want ErrKey", err)
	}
}

func TestTrustFile(t *testing.T) {
	line := func(k PrivateKey) string {
		b, err := k.Public().MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	a, b, c := testKey(t, 1), testKey(t, 2), testKey(t, 3)
	tr, err := ParseTrust([]byte("# current\n" + line(a) + "\n# next\n" + line(b)))
	if err != nil {
		t.Fatal(err)
	}
	if ids := tr.IDs(); len(ids) != 2 || ids[0] != a.ID() || ids[1] != b.ID() {
		t.Fatalf("trust ids %v", ids)
	}
	for name, in := range map[string]string{
		"empty":       "# nothing\n",
		"three keys":  line(a) + line(b) + line(c),
		"same twice":  line(a) + line(a),
		"private key": "wingnode-firmware-private-key " + a.ID() + " " + base64.StdEncoding.EncodeToString(a.key.Seed()) + "\n",
	} {
		if _, err := ParseTrust([]byte(in)); !errors.Is(err, ErrKey) {
			t.Errorf("%s: ParseTrust = %v, want ErrKey", name, err)
		}
	}
}

func TestPrivateKeyNeverPrinted(t *testing.T) {
	k := testKey(t, 1)
	secrets := []string{
		base64.StdEncoding.EncodeToString(k.key.Seed()),
		fmt.Sprintf("%x", []byte(k.key.Seed())),
		fmt.Sprint([]byte(k.key.Seed())),
	}
	var out bytes.Buffer
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		fmt.Fprintf(&out, verb+"\n", k)
	}
	slog.New(slog.NewTextHandler(&out, nil)).Info("signing", "key", k)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("signing", "key", k)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("the private key leaked into output:\n%s", out.String())
		}
	}
	if !strings.Contains(out.String(), k.ID()) {
		t.Fatalf("printing a key should name its id:\n%s", out.String())
	}
}
