// Package hardware runs a wing's hardware: it reads the door and lock
// contacts and alarm buttons (plain GPIO and supervised lines through an
// ADC) into readings for the recording, watches the environment sensors
// and records their conditions, and drives the annunciators from the alarm
// state, falling to their safe state (off) on a stop or a panic. It also
// builds the simulated hardware of a wing (Simulation) and probes a board
// for `wingnode hw probe` (ProbeBoard).
package hardware
