// Package climate reads a wing's temperature and humidity sensors over I²C
// (an SHT3x driver written against periph's i2c.Bus) and watches them with a
// Monitor, which reports each reading and each limit crossed or sensor gone
// silent.
package climate
