package wing

import "time"

// Lockdown is a site-wide lockdown or state of emergency. It is not folded
// from events: the wings of a site agree on it (sync/site commits it
// through raft), and every wing's screens and API show it as agreed.
type Lockdown struct {
	Active bool      `json:"active"`
	Reason string    `json:"reason,omitempty"`
	By     string    `json:"by,omitempty"`   // the officer who declared it, or who last ended it
	Since  time.Time `json:"since,omitzero"` // when it was declared or last ended; zero when never
}
