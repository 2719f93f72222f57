// Package firmware makes, checks and installs signed update bundles for a
// wing appliance, and keeps the A/B slot state that decides which root
// filesystem boots (trial boot, confirmation, fall-back), with the
// systemd-boot entries that count a trial's tries (Device, ESP). Rollout is
// a build going round the wings of a site, as the site agrees on it.
//
// The core works on io.Reader and io.WriterAt and on plain state values, so
// tests use temporary files as partitions; DESIGN.md says why it is built
// this way.
//
// # Caveats
//
// A payload's bytes are written to the inactive slot before its hash is
// known to be right. That is safe only because the slot is armed for a
// trial boot after the whole bundle has been verified: always persist the
// Slots that Install returns, even with an error.
package firmware
