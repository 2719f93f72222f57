package command

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// readPIN reads a new PIN for officer id: at a terminal it asks twice on
// prompt, with the echo off, and the two must match; from a pipe it reads
// one line. The PIN is never echoed, logged or put in an error.
func readPIN(in io.Reader, prompt io.Writer, id string) (string, error) {
	if f, ok := in.(*os.File); ok {
		if state, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return readPINAtTerminal(f, state, prompt, id)
		}
	}
	pin, err := readLine(bufio.NewReader(in))
	if err != nil {
		return "", fmt.Errorf("read the PIN from standard input: %w", err)
	}
	return pin, nil
}

func readPINAtTerminal(f *os.File, state *unix.Termios, prompt io.Writer, id string) (string, error) {
	quiet := *state
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ECHONL
	if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("turn the terminal's echo off: %w", err)
	}
	defer unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, state)
	r := bufio.NewReader(f)
	fmt.Fprintf(prompt, "New PIN for officer %s (4 to 12 digits, not shown): ", id)
	first, err := readLine(r)
	if err != nil {
		return "", err
	}
	fmt.Fprint(prompt, "The same PIN again: ")
	second, err := readLine(r)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the two PINs typed differ: nothing was changed; run the command again")
	}
	return first, nil
}

// readLine reads one line of at most 64 bytes, without its line end.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no PIN given: type it, or pipe it in on one line")
		}
		return "", err
	}
	if len(line) > 64 {
		return "", errors.New("the line is too long for a PIN (4 to 12 digits)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// maxPassphrase bounds a passphrase line.
const maxPassphrase = 1024

// readPassphrase reads a backup's passphrase: at a terminal it asks on
// prompt with the echo off, twice when confirm is set (the two must
// match); from a pipe or a file it reads the first line. The passphrase
// is never echoed, logged or put in an error.
func readPassphrase(in io.Reader, prompt io.Writer, confirm bool) ([]byte, error) {
	if f, ok := in.(*os.File); ok {
		if state, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			quiet := *state
			quiet.Lflag &^= unix.ECHO
			quiet.Lflag |= unix.ICANON | unix.ECHONL
			if err := unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, &quiet); err != nil {
				return nil, fmt.Errorf("turn the terminal's echo off: %w", err)
			}
			defer unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, state)
			r := bufio.NewReader(f)
			fmt.Fprint(prompt, "Passphrase of the site CA's backup (not shown): ")
			first, err := readPassphraseLine(r)
			if err != nil || !confirm {
				return first, err
			}
			fmt.Fprint(prompt, "The same passphrase again: ")
			second, err := readPassphraseLine(r)
			if err != nil {
				return nil, err
			}
			if string(first) != string(second) {
				return nil, errors.New("the two passphrases typed differ: nothing was written; run the command again")
			}
			return first, nil
		}
	}
	return readPassphraseLine(bufio.NewReader(in))
}

func readPassphraseLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no passphrase given: type it, pipe it in on one line, or name a file with -passphrase-file")
		}
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	if len(line) > maxPassphrase {
		return nil, fmt.Errorf("the passphrase line is longer than %d bytes", maxPassphrase)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("the passphrase is empty")
	}
	return []byte(line), nil
}
