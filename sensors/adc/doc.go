// Package adc drives the analog-to-digital converters that read a wing's
// supervised lines, written against periph's i2c.Bus so tests can replay bus
// traffic with i2ctest.
package adc
