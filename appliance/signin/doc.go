// Package signin is the wing's sign-in room: it checks an officer's number
// and PIN against the roster the wing holds (the site's, agreed through
// raft, so an isolated wing checks against the last one it applied), one
// argon2id verification at a time; locks an officer out after repeated
// wrong PINs, for longer each time; records every sign-in, sign-out,
// refusal and lock-out in the wing's chain; and makes the roster changes a
// supervisor or site IT asks for at the screen, agreed through the site.
//
// No PIN, PIN hash or typed officer number that is not on the roster ever
// leaves it: not in an event, a log line or an error. DESIGN.md says why
// the room works as it does: a shared kiosk screen, the threat model of a
// PIN typed on a wall, lock-out, and what an isolated wing does.
package signin
