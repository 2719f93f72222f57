package event

import "regexp"

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
