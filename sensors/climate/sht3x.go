package climate

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// The SHT3x's two I²C addresses, chosen by its ADDR pin.
const (
	SHT3xAddrLow  uint16 = 0x44 // ADDR tied to ground
	SHT3xAddrHigh uint16 = 0x45 // ADDR tied to supply
)

// ErrCRC is wrapped by the error Sense returns when a word arrives with a
// checksum that does not match: the bus is noisy, a wire is loose, or
// another device answered at the sensor's address.
var ErrCRC = errors.New("CRC mismatch")

// Commands and timings from the Sensirion SHT3x-DIS datasheet.
var (
	// cmdMeasure is a single-shot measurement with high repeatability and
	// clock stretching disabled: the sensor NACKs reads until it is done.
	cmdMeasure = []byte{0x24, 0x00}
	// cmdSoftReset reloads the calibration and returns to idle.
	cmdSoftReset = []byte{0x30, 0xA2}
)

const (
	measureTime = 15 * time.Millisecond   // maximum, high repeatability
	resetTime   = 1500 * time.Microsecond // maximum, soft reset to idle
)

// Reading is one measurement.
type Reading struct {
	Temperature physic.Temperature
	Humidity    physic.RelativeHumidity
}

// SHT3x is a Sensirion SHT30, SHT31 or SHT35 on an I²C bus. Its methods are
// safe for concurrent use: each measurement holds the device until its
// result has been read.
type SHT3x struct {
	bus  i2c.Bus
	addr uint16
	// sleep waits for the sensor: the clock's Sleep, or a recorder in
	// tests.
	sleep func(time.Duration)

	mu sync.Mutex
}

// SHT3xOption configures NewSHT3x.
type SHT3xOption func(*SHT3x)

// WithClock makes the SHT3x wait for its measurements on clock rather than
// the real clock, as a simulated sensor on a fake clock needs.
func WithClock(clock clockwork.Clock) SHT3xOption {
	return func(d *SHT3x) { d.sleep = clock.Sleep }
}

// NewSHT3x returns the SHT3x at addr (SHT3xAddrLow or SHT3xAddrHigh) on bus.
// It does not talk to the sensor, so a sensor that is unplugged at start-up
// shows up as failed reads rather than stopping the caller.
func NewSHT3x(bus i2c.Bus, addr uint16, opts ...SHT3xOption) (*SHT3x, error) {
	if bus == nil {
		return nil, errors.New("climate: SHT3x: no I²C bus")
	}
	if addr != SHT3xAddrLow && addr != SHT3xAddrHigh {
		return nil, fmt.Errorf("climate: SHT3x address %#x: an SHT3x answers only at %#x or %#x (its ADDR pin chooses)",
			addr, SHT3xAddrLow, SHT3xAddrHigh)
	}
	d := &SHT3x{bus: bus, addr: addr, sleep: time.Sleep}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

func (d *SHT3x) String() string {
	return fmt.Sprintf("SHT3x at %#x on %s", d.addr, d.bus)
}

// Sense takes one single-shot measurement: it sends the command, waits the
// datasheet's maximum measurement time (15 ms) and reads the result. An
// error wraps the bus's error, or ErrCRC.
func (d *SHT3x) Sense() (Reading, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.bus.Tx(d.addr, cmdMeasure, nil); err != nil {
		return Reading{}, fmt.Errorf("climate: %s: start measurement: %w", d, err)
	}
	d.sleep(measureTime)
	var b [6]byte // T msb, T lsb, CRC, RH msb, RH lsb, CRC
	if err := d.bus.Tx(d.addr, nil, b[:]); err != nil {
		return Reading{}, fmt.Errorf("climate: %s: read measurement: %w", d, err)
	}
	t, err := d.word("temperature", b[0:3])
	if err != nil {
		return Reading{}, err
	}
	rh, err := d.word("humidity", b[3:6])
	if err != nil {
		return Reading{}, err
	}
	return Reading{Temperature: temperature(t), Humidity: humidity(rh)}, nil
}

// Reset sends a soft reset, which stops whatever the sensor was doing and
// reloads its calibration, and waits until it is idle again. Sense does not
// need it; it is for recovering a sensor that keeps failing.
func (d *SHT3x) Reset() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.bus.Tx(d.addr, cmdSoftReset, nil); err != nil {
		return fmt.Errorf("climate: %s: soft reset: %w", d, err)
	}
	d.sleep(resetTime)
	return nil
}

// word checks the CRC of b (msb, lsb, CRC) and returns its value.
func (d *SHT3x) word(name string, b []byte) (uint16, error) {
	if got := crc8(b[:2]); got != b[2] {
		return 0, fmt.Errorf("climate: %s: %s word %#02x%02x has CRC %#02x, want %#02x: %w",
			d, name, b[0], b[1], b[2], got, ErrCRC)
	}
	return uint16(b[0])<<8 | uint16(b[1]), nil
}

// crc8 is the SHT3x's checksum: CRC-8 with polynomial 0x31
// (x⁸ + x⁵ + x⁴ + 1), initial value 0xFF, no reflection and no final XOR.
func crc8(b []byte) byte {
	crc := byte(0xFF)
	for _, v := range b {
		crc ^= v
		for range 8 {
			if crc&0x80 != 0 {
				crc = crc<<1 ^ 0x31
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

// temperature converts a raw reading: T = -45 + 175·raw/65535 °C, rounded
// to the nearest nanokelvin.
func temperature(raw uint16) physic.Temperature {
	return physic.ZeroCelsius - 45*physic.Celsius + physic.Temperature(scale(int64(175*physic.Celsius), raw))
}

// humidity converts a raw reading: RH = 100·raw/65535 %.
func humidity(raw uint16) physic.RelativeHumidity {
	return physic.RelativeHumidity(scale(int64(100*physic.PercentRH), raw))
}

// scale returns full·raw/65535 rounded to the nearest integer.
func scale(full int64, raw uint16) int64 {
	return (full*int64(raw) + 65535/2) / 65535
}
