package event

import (
	"errors"
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// idPattern is the one rule for the ids of wings, sites, doors, alarm
// points, sensors and outputs (docs/wing-config.md): a letter or digit,
// then up to 63 letters, digits, '.', '_' or '-'.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidID reports whether s is a valid id of a wing, a site, a door, an
// alarm point, a sensor or an output.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// MaxNote bounds the text an officer or site IT writes into an event or
// an agreed command: a note on an alarm, a lockdown's reason, why a
// rollout was stopped.
const MaxNote = 200

// ErrText is wrapped by CheckText's errors.
var ErrText = errors.New("text refused")

// CheckText is the one rule for text an officer, site IT or a peer
// supplies (notes, reasons, names): valid UTF-8, at most MaxNote
// characters, and no control characters (tabs and newlines included),
// no NUL, no bidirectional overrides or isolates, and no other invisible
// format characters that could make a screen show something else than
// what was recorded. It is enforced where the text enters and again where
// it is applied.
func CheckText(what, s string) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the %s is not valid UTF-8 text", ErrText, what)
	case utf8.RuneCountInString(s) > MaxNote:
		return fmt.Errorf("%w: the %s has %d characters; at most %d", ErrText, what, utf8.RuneCountInString(s), MaxNote)
	}
	return checkCharacters(what, s, false)
}

// CheckLines is the one rule for text of several lines (a handover's
// notes): valid UTF-8, at most max bytes, and CheckText's rule for
// characters on each line, the line breaks ('\n') between them allowed.
func CheckLines(what, s string, max int) error {
	switch {
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: the %s are not valid UTF-8 text", ErrText, what)
	case len(s) > max:
		return fmt.Errorf("%w: the %s are too long: at most %d characters", ErrText, what, max)
	}
	return checkCharacters(what, s, true)
}

// checkCharacters refuses a control, bidirectional or other invisible
// format character in s; newlines too unless lines.
func checkCharacters(what, s string, lines bool) error {
	for _, r := range s {
		if r == '\n' && lines {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			verb := "holds"
			if lines {
				verb = "hold"
			}
			return fmt.Errorf("%w: the %s %s an invisible or control character (%U): write plain text", ErrText, what, verb, r)
		}
	}
	return nil
}
