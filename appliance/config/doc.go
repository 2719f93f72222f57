// Package config reads a wing's configuration: the wing's identity, its
// doors, alarm points, environment sensors and annunciator outputs, and
// how each is wired.
//
// # File format
//
// One record per line; '#' starts a comment. A record is a type followed
// by key=value fields; values with spaces go in double quotes.
//
//	wing   id=A name="A wing" prove_days=30 signout_idle=2m hosts=a-wing.site.lan,10.1.2.3
//	door   id=A1-01 kind=cell landing=1 pin=GPIO5 lock=GPIO6
//	door   id=A1-GATE kind=gate landing=1 adc=1/0x48/0 stuck_after=72h
//	alarm  id=A1-01-CALL kind=cell-call cell=A1-01 pin=gpiochip0/13
//	alarm  id=A1-STAFF kind=staff-alarm landing=1 adc=1/0x48/1
//	sensor id=ENV-A1 kind=sht3x bus=1 addr=0x44 landing=1 hot=30 cold=12 humid=70
//	output id=A-SOUNDER kind=sounder pin=GPIO20
//
// An input is wired to a GPIO line (pin=NAME or pin=CHIP/LINE) or, as a
// supervised line with end-of-line resistors, to an ADC channel
// (adc=BUS/ADDR/CHANNEL). Input fields: active=high|low (which level means
// "door open", "locked" or "pressed"), pull=up|down|none, debounce
// (default 20ms for door and lock contacts, 5ms for alarm buttons),
// stuck_after. docs/wing-config.md describes every record and field.
//
// Every problem in a file is reported at once, each with its line and
// field: unknown records and fields, missing or malformed values, ids and
// wiring used twice, two kinds of device at one I2C address, a cell call
// or sensor naming a cell that is not in the file.
package config
