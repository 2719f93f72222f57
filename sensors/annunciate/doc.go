// Package annunciate drives a wing's annunciators (sounders, strobes and
// panel LEDs on GPIO outputs) from a summary of the alarms.
//
// It drives annunciators only. The appliance never drives locks: no output
// of this package may be wired to a lock, a door release or anything else
// that controls who can move where, and nothing here is designed or tested
// for that.
//
// # Patterns
//
// The appliance calls Annunciator.Show with a Summary of its alarms; Show
// sets the outputs at once, and the goroutine running Annunciator.Run
// times every later change on the clock:
//
//   - A sounder sounds while any alarm is unacknowledged: continuously for
//     priority 1 (the most urgent), pulsed 0.5 s on and 0.5 s off for
//     priority 2, and a 0.2 s chirp every 5 s for any lower priority.
//     Acknowledging every alarm silences it; a new unacknowledged alarm
//     sounds it again, restarting its pattern so the first pulse or chirp
//     comes at once. An escalated alarm (unacknowledged, or a cell call
//     unattended at its door, for longer than the wing allows) sounds a
//     rapid 0.15 s on, 0.15 s off pattern, acknowledged or not, until it
//     gets the response it waits for; only an unacknowledged priority-1
//     alarm's continuous tone is louder.
//   - A strobe is on while any alarm is active, acknowledged or not, until
//     the alarms are resolved.
//   - An LED is steadily on while any alarm is active, and otherwise
//     flashes slowly (1 s on, 1 s off) while there are faults.
//
// # Safe state
//
// Every output's safe state is off: de-energised, which is the pin Low, or
// High for an ActiveLow output. New puts every output in the safe state
// before anything else, Run returns them to it when its context ends, and
// Annunciator.Safe forces it for good: the appliance calls Safe from a
// deferred recover in main and on exit.
//
// # Heartbeat
//
// The appliance calls Show at least every few seconds, even when nothing
// has changed. If Show has not been called for Options.Stale (30 s unless
// set), the outputs fall to the safe state until the next Show, and
// Options.OnError receives an error wrapping ErrStale. Off is chosen over
// holding the last pattern because a hung appliance can no longer take an
// acknowledgement, so a sounder it left on would scream with nobody able
// to silence it, and a strobe or LED would show a state nobody is keeping
// true. Falling silent alone would claim that all is well, so the stale
// spell is reported as an error, for the log and the appliance's health
// checks; restarting a hung appliance is the hardware watchdog's job.
//
// # Caveats
//
// Safe runs only where the process unwinds through main. A panic in
// another goroutine, a kill or a power cut leaves the pins as they were,
// or as the kernel and board leave them, so the wiring must make an
// undriven pin de-energise its output (a pull resistor on the driver's
// input).
//
// An output whose pin write fails is reported to Options.OnError once,
// when it starts failing, and retried at its next change and at every
// Show.
package annunciate
