package command

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// pty opens a pseudo-terminal: what a program writes to the first file,
// the second reads as typed at a terminal.
func pty(t *testing.T) (keyboard, terminal *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	require.NoError(t, unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	require.NoError(t, err)
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestReadPINAtATerminal: at a terminal the PIN is asked for twice with
// the echo off, the two must match, and the terminal is left as it was.
func TestReadPINAtATerminal(t *testing.T) {
	keyboard, terminal := pty(t)
	before, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	require.NoError(t, err)
	_, err = keyboard.WriteString("482913\n482913\n")
	require.NoError(t, err)
	var prompt bytes.Buffer
	pin, err := readPIN(terminal, &prompt, "1001")
	require.NoError(t, err)
	assert.Equal(t, "482913", pin)
	assert.Contains(t, prompt.String(), "New PIN for officer 1001")
	assert.Contains(t, prompt.String(), "The same PIN again")
	after, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
	require.NoError(t, err)
	assert.Equal(t, before.Lflag, after.Lflag, "the echo is back on")

	_, err = keyboard.WriteString("482913\n482914\n")
	require.NoError(t, err)
	_, err = readPIN(terminal, &prompt, "1001")
	assert.ErrorContains(t, err, "the two PINs typed differ")
	assert.NotContains(t, err.Error(), "48291")
}
