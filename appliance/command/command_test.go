package command

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

func execute(args ...string) (status int, stdout, stderr string) {
	return executeIn(strings.NewReader(""), args...)
}

// executeIn runs the command line with stdin as its standard input.
func executeIn(stdin io.Reader, args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = Command{Args: args, Stdin: stdin, Stdout: &out, Stderr: &errb, Version: "test"}.Execute(context.Background())
	return status, out.String(), errb.String()
}

func TestCommandHelpAndUsageErrors(t *testing.T) {
	status, out, _ := execute("help")
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "wingnode verify")
	status, _, errs := execute("frobnicate")
	assert.Equal(t, 2, status)
	assert.Contains(t, errs, `unknown command "frobnicate"`)
	status, _, errs = execute("run", "-help")
	assert.Equal(t, 0, status)
	assert.Contains(t, errs, "-listen")
	status, _, errs = execute("run", "-log-level", "loud")
	assert.Equal(t, 2, status)
	assert.Contains(t, errs, "want debug, info, warn or error")
	status, out, _ = execute("help", "hw")
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "Usage: wingnode hw probe")
	status, out, _ = execute("version")
	assert.Equal(t, 0, status)
	assert.Equal(t, "test\n", out)
}

func TestCommandConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.conf")
	_, example, _ := execute("config", "example")
	require.NoError(t, os.WriteFile(good, []byte(example), 0o600))
	status, out, _ := execute("config", "check", good)
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "65 doors, 63 alarm points, 3 landings: OK")

	bad := filepath.Join(dir, "bad.conf")
	require.NoError(t, os.WriteFile(bad, []byte("wing id=B\ndoor id=B1 kind=cel pin=P\n"), 0o600))
	status, _, errs := execute("config", "check", bad)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "bad.conf:2: kind: unknown kind \"cel\"")

	status, _, errs = execute("run", "-config", bad, "-data", dir)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "bad.conf:2: kind")
}

func TestCommandVerify(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(datadir.Dir(dir).Store(), store.Options{Wing: "A"})
	require.NoError(t, err)
	for range 5 {
		_, err := s.Append(context.Background(), event.Draft{Kind: event.DoorOpened, Subject: "A1-01", Actor: event.SystemActor,
			Data: map[string]string{"note": "MARK"}})
		require.NoError(t, err)
	}
	status, _, errs := execute("verify", "-data", dir)
	assert.Equal(t, 1, status, "a running store is held")
	assert.Contains(t, errs, "in use by another running wingnode")
	require.NoError(t, s.Close())

	status, out, _ := execute("verify", "-data", dir)
	assert.Equal(t, 0, status)
	assert.Contains(t, out, "5 events verified; chains intact: A (seq 1..5)")

	path := datadir.Dir(dir).Store()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	i := bytes.LastIndex(b, []byte("MARK"))
	for j := bytes.Index(b, []byte("MARK")); j >= 0 && j <= i; j = bytes.Index(b, []byte("MARK")) {
		b[j] = 'W' // alter every copy
	}
	require.NoError(t, os.WriteFile(path, b, 0o600))
	status, _, errs = execute("verify", "-data", dir)
	assert.Equal(t, 1, status)
	assert.Contains(t, errs, "first bad event A/1")
}

func TestCommandHardwareProbe(t *testing.T) {
	status, out, _ := execute("hw", "probe")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "GPIO chips: none")
	assert.Contains(t, out, "I2C buses: none")
	assert.Contains(t, out, "configured points: not checked")

	status, out, _ = execute("hw", "probe", "-simulate")
	assert.Equal(t, 0, status, out)
	assert.Contains(t, out, "257 checked, 0 not found")
	assert.Contains(t, out, "I2C bus 1: 0x48", "the ADC answers a bare read")

	conf := filepath.Join(t.TempDir(), "h.conf")
	require.NoError(t, os.WriteFile(conf, []byte(`wing id=H
door id=H1-01 kind=cell pin=gpiochip7/3 lock=NOPE_LOCK
sensor id=ENV kind=sht3x bus=1 addr=0x44
`), 0o600))
	status, out, errs := execute("hw", "probe", "-config", conf)
	assert.Equal(t, 1, status)
	assert.Contains(t, out, "3 checked, 3 not found")
	assert.Contains(t, out, `not found: door H1-01: no GPIO line "gpiochip7/3"`)
	assert.Contains(t, out, `not found: lock contact of door H1-01: no GPIO line "NOPE_LOCK"`)
	assert.Contains(t, out, `not found: sensor ENV: no I2C bus "1"`)
	assert.Contains(t, errs, "3 of 3 configured points not found")

	status, _, _ = execute("hw", "inventory")
	assert.Equal(t, 2, status)
}
