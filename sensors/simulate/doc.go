// Package simulate is a simulated wing: door contacts and alarm buttons on
// fake pins registered in periph's gpioreg, supervised lines and
// environment sensors as register-accurate I²C devices (an ADS1115 ADC and
// an SHT3x) on a simulated i2c.Bus, so the appliance reads them through the
// same code path as real hardware, for make run, tests and benchmarks.
//
// Sim drives the pins; I2CBus, ADS1115 and SHT3x are the I²C side, written
// from the datasheets rather than from our drivers, so each checks the
// other; LineLevels is the supervised-line voltage scheme the simulator and
// the supervision share; Wiring addresses all of it by the wing
// configuration's ids, for scenarios.
package simulate
