package supervise

import "time"

// Chatter finds a flapping plain input: one that changes more than
// MaxChanges times within Window, such as a loose door contact or a wire
// rubbing on a hinge. The fault ends once the input has not changed for
// Quiet.
//
// A Chatter is a pure state machine on the caller's clock: the caller
// reports each debounced change with Observe and calls Check from time to
// time (a Chatter cannot recover between changes without it). Times must
// never go backwards. Set the limits before the first Observe; the zero
// value is ready to use with the defaults. It is not safe for concurrent
// use.
type Chatter struct {
	MaxChanges int           // zero means 10
	Window     time.Duration // zero means 10 s
	Quiet      time.Duration // zero means 30 s

	changes []time.Time // the changes within Window, oldest first, while not flapping
	last    time.Time   // the latest change
	fault   string      // FaultFlapping or ""
}

// Observe records a change of the input at at and returns the input's
// fault: FaultFlapping if this change is one too many, or if the input was
// flapping already and has not been quiet for Quiet since; else "".
// Changed says the fault differs from what the previous call returned.
func (c *Chatter) Observe(at time.Time) (fault string, changed bool) {
	_, changed = c.Check(at)
	c.last = at
	if c.fault != "" {
		return c.fault, false
	}
	window := c.Window
	if window <= 0 {
		window = 10 * time.Second
	}
	maxChanges := c.MaxChanges
	if maxChanges <= 0 {
		maxChanges = 10
	}
	c.changes = append(c.changes, at)
	for len(c.changes) > 0 && !c.changes[0].After(at.Add(-window)) {
		c.changes = c.changes[1:]
	}
	if len(c.changes) > maxChanges {
		c.fault, c.changes = FaultFlapping, nil
		return c.fault, true
	}
	return "", changed
}

// Check returns the input's fault as of now: a flapping input recovers
// ("" with changed true) once it has not changed for Quiet.
func (c *Chatter) Check(now time.Time) (fault string, changed bool) {
	quiet := c.Quiet
	if quiet <= 0 {
		quiet = 30 * time.Second
	}
	if c.fault != "" && now.Sub(c.last) >= quiet {
		c.fault = ""
		return "", true
	}
	return c.fault, false
}
