package simulate

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/physic"
)

// sht3xMeasure gives, for each single-shot measurement command, how long
// the measurement takes (the datasheet's maximum), and whether the sensor
// stretches the clock until it is done.
var sht3xMeasure = map[uint16]struct {
	takes   time.Duration
	stretch bool
}{
	0x2400: {15 * time.Millisecond, false}, // high repeatability
	0x240b: {6 * time.Millisecond, false},  // medium
	0x2416: {4 * time.Millisecond, false},  // low
	0x2c06: {15 * time.Millisecond, true},
	0x2c0d: {6 * time.Millisecond, true},
	0x2c10: {4 * time.Millisecond, true},
}

// The other SHT3x commands the simulator knows.
const (
	sht3xSoftReset   = 0x30a2
	sht3xReadStatus  = 0xf32d
	sht3xClearStatus = 0x3041
)

// Status register bits.
const (
	sht3xAlertPending = 1 << 15
	sht3xResetSeen    = 1 << 4
)

// SHT3x is a simulated Sensirion SHT30/31/35 temperature and humidity
// sensor, as its datasheet describes it at the command level:
//
//   - a single-shot measurement command (0x2400 high, 0x240B medium,
//     0x2416 low repeatability, or the clock-stretching 0x2C06, 0x2C0D,
//     0x2C10) measures; a read then returns temperature MSB, LSB, CRC,
//     humidity MSB, LSB, CRC, where the raw temperature is
//     65535·(T+45 °C)/175 °C and the raw humidity 65535·RH/100 %, and each
//     CRC-8 has polynomial 0x31 and initial value 0xFF;
//   - a measurement can be read once, and in part (the master stops
//     early); a read with no measurement, or no status, waiting is not
//     acknowledged;
//   - 0xF32D reads the status register (alert pending and reset seen after
//     power-up and soft reset), 0x3041 clears it, 0x30A2 is a soft reset;
//     any other command is not acknowledged.
//
// It powers up at 21 °C and 45 %RH. Its methods are safe for concurrent
// use.
type SHT3x struct {
	clock clockwork.Clock // nil: measurements are done at once

	mu     sync.Mutex
	err    error // set by Fail
	silent bool
	temp   physic.Temperature
	rh     physic.RelativeHumidity
	status uint16
	out    []byte    // what the next read returns; nil when there is nothing to read
	ready  time.Time // when out may be read
}

// NewSHT3x returns a simulated SHT3x. With a clock, a measurement without
// clock stretching takes the datasheet's maximum time on it (15 ms at high
// repeatability), and a read before then is not acknowledged, as on the
// chip; with nil, or a clock-stretching command, it is done at once.
func NewSHT3x(clock clockwork.Clock) *SHT3x {
	return &SHT3x{
		clock:  clock,
		temp:   physic.ZeroCelsius + 21*physic.Celsius,
		rh:     45 * physic.PercentRH,
		status: sht3xAlertPending | sht3xResetSeen,
	}
}

// SetClimate sets what the sensor measures from now on. Values beyond the
// sensor's scale (−45 to 130 °C, 0 to 100 %RH) read as its limits.
func (s *SHT3x) SetClimate(t physic.Temperature, rh physic.RelativeHumidity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.temp, s.rh = t, rh
}

// SetSilent makes the sensor acknowledge nothing, as a dead or unplugged
// sensor does, until SetSilent(false).
func (s *SHT3x) SetSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
}

// Fail makes every later transaction fail with err, as a bus fault does;
// Fail(nil) repairs the device.
func (s *SHT3x) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Tx implements I2CDevice.
func (s *SHT3x) Tx(w, r []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.err != nil:
		return s.err
	case s.silent:
		return fmt.Errorf("sht3x: silent: %w", ErrNACK)
	case s.out != nil && s.clock != nil && s.clock.Now().Before(s.ready):
		return fmt.Errorf("sht3x: measuring: %w", ErrNACK)
	}
	if len(w) > 0 {
		if err := s.command(w); err != nil {
			return err
		}
	}
	if len(r) == 0 {
		return nil
	}
	switch {
	case s.out == nil:
		return fmt.Errorf("sht3x: a read with no measurement or status waiting: %w", ErrNACK)
	case s.clock != nil && s.clock.Now().Before(s.ready):
		return fmt.Errorf("sht3x: a read before the measurement is done: %w", ErrNACK)
	case len(r) > len(s.out):
		return fmt.Errorf("sht3x: a read of %d bytes; %d are waiting", len(r), len(s.out))
	}
	copy(r, s.out)
	s.out = nil
	return nil
}

func (s *SHT3x) command(w []byte) error {
	if len(w) != 2 {
		return fmt.Errorf("sht3x: a write of %d bytes; commands are 2 bytes: %w", len(w), ErrNACK)
	}
	cmd := binary.BigEndian.Uint16(w)
	s.out = nil
	if m, ok := sht3xMeasure[cmd]; ok {
		s.out = s.measurement()
		if s.clock != nil && !m.stretch {
			s.ready = s.clock.Now().Add(m.takes)
		}
		return nil
	}
	switch cmd {
	case sht3xReadStatus:
		s.out = sht3xWord(s.status)
	case sht3xClearStatus:
		s.status &^= sht3xAlertPending | sht3xResetSeen
	case sht3xSoftReset:
		s.status |= sht3xAlertPending | sht3xResetSeen
	default:
		return fmt.Errorf("sht3x: unknown command %#04x: %w", cmd, ErrNACK)
	}
	return nil
}

// measurement is the six bytes a read returns after a measurement.
func (s *SHT3x) measurement() []byte {
	// Raw values in integer arithmetic: temperatures in nanokelvin,
	// humidity in 1/100,000 %RH.
	t := min(max(int64(s.temp-physic.ZeroCelsius), -45e9), 130e9)
	rawT := ((t+45e9)*65535 + 175e9/2) / 175e9
	rh := min(max(int64(s.rh), 0), int64(100*physic.PercentRH))
	rawRH := (rh*65535 + int64(50*physic.PercentRH)) / int64(100*physic.PercentRH)
	return append(sht3xWord(uint16(rawT)), sht3xWord(uint16(rawRH))...)
}

// sht3xWord is a 16-bit word as the sensor sends it: MSB, LSB, CRC.
func sht3xWord(v uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, v)
	return append(b, sht3xCRC(b))
}

// sht3xCRC is the CRC-8 the SHT3x sends after each 16-bit word:
// polynomial 0x31, initial value 0xFF, no reflection, no final XOR.
func sht3xCRC(b []byte) byte {
	crc := byte(0xff)
	for _, x := range b {
		crc ^= x
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
