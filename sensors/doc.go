// Package sensors reads a wing's door contacts and alarm buttons through
// periph's gpio interfaces and turns their raw, bouncing pin levels into
// debounced Readings (or faults, when a pin cannot be used) for the appliance.
package sensors
