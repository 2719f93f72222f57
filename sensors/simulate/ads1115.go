package simulate

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/physic"
)

// The ADS1115's registers, selected by the pointer register's two low
// bits (datasheet SBAS444, section 8.6).
const (
	ads1115Conversion = 0x00 // read-only: the last conversion's code
	ads1115Config     = 0x01
	ads1115LoThresh   = 0x02
	ads1115HiThresh   = 0x03
)

// Bits of the ADS1115's config register.
const (
	ads1115OS         = 1 << 15 // write: start a single-shot conversion; read: 1 when not converting
	ads1115SingleShot = 1 << 8  // MODE: 1 power-down single-shot, 0 continuous
)

// ads1115Rates are the data rates (DR, bits 7:5) in samples per second.
var ads1115Rates = [8]int64{8, 16, 32, 64, 128, 250, 475, 860}

// ads1115Ranges are the full-scale ranges (PGA, bits 11:9).
var ads1115Ranges = [8]physic.ElectricPotential{
	6144 * physic.MilliVolt, 4096 * physic.MilliVolt, 2048 * physic.MilliVolt, 1024 * physic.MilliVolt,
	512 * physic.MilliVolt, 256 * physic.MilliVolt, 256 * physic.MilliVolt, 256 * physic.MilliVolt,
}

// ADS1115 is a simulated Texas Instruments ADS1115, a four-channel 16-bit
// ADC, as its datasheet (SBAS444) describes it at the register level:
//
//   - a write's first byte sets the pointer register (bits 7:2 must be 0);
//     two more bytes, most significant first, are written to the register
//     it points at; a read returns up to two bytes of that register;
//   - writing the config register with OS set in single-shot mode starts a
//     conversion of the inputs MUX selects (AIN0−AIN1, AIN0−AIN3,
//     AIN1−AIN3, AIN2−AIN3, or AIN0…AIN3 against ground) at the full-scale
//     range PGA selects; OS reads 0 while it converts and 1 when it is
//     done, and the conversion register then holds the signed code,
//     clamped at full scale;
//   - in continuous mode the conversion register follows the inputs at
//     once and OS reads 0, as the device is always converting;
//   - the threshold registers keep what is written; the comparator and
//     the ALERT/RDY pin are not simulated.
//
// It is stricter than the chip where that catches a driver's mistake: it
// refuses writes to the conversion register, reserved pointer bits, and
// reads longer than a register. It powers up with the datasheet's
// defaults (config 0x8583) and every input at 0 V. Its methods are safe
// for concurrent use.
type ADS1115 struct {
	clock clockwork.Clock // nil: conversions complete at once

	mu         sync.Mutex
	err        error // set by Fail
	inputs     [4]physic.ElectricPotential
	pointer    byte
	config     uint16
	thresholds [2]uint16 // Lo_thresh, Hi_thresh
	conversion uint16
	pending    uint16    // the code of the conversion in progress
	done       time.Time // when the conversion in progress ends; zero when none is
}

// NewADS1115 returns a simulated ADS1115. With a clock, a single-shot
// conversion takes one sample period at the configured data rate (7.8 ms
// at the default 128 samples a second) on that clock; with nil, it is done
// by the time the next transaction starts.
func NewADS1115(clock clockwork.Clock) *ADS1115 {
	return &ADS1115{clock: clock, config: 0x8583, thresholds: [2]uint16{0x8000, 0x7fff}}
}

// SetVoltage sets the voltage on input channel (0 to 3, AIN0 to AIN3),
// measured against ground.
func (a *ADS1115) SetVoltage(channel int, v physic.ElectricPotential) error {
	if channel < 0 || channel >= len(a.inputs) {
		return fmt.Errorf("simulate: ads1115: no input channel %d (want 0 to 3)", channel)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inputs[channel] = v
	return nil
}

// Voltage returns the voltage SetVoltage last set on channel (0 to 3).
func (a *ADS1115) Voltage(channel int) physic.ElectricPotential {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inputs[channel]
}

// Fail makes every later transaction fail with err, as a bus fault does;
// Fail(nil) repairs the device.
func (a *ADS1115) Fail(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.err = err
}

// Tx implements I2CDevice.
func (a *ADS1115) Tx(w, r []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return a.err
	}
	a.settle()
	if len(w) > 0 {
		if err := a.write(w); err != nil {
			return err
		}
	}
	if len(r) > 2 {
		return fmt.Errorf("ads1115: a read of %d bytes; registers are 2 bytes", len(r))
	}
	if len(r) > 0 {
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], a.read())
		copy(r, b[:])
	}
	return nil
}

func (a *ADS1115) write(w []byte) error {
	if w[0]&^0x03 != 0 {
		return fmt.Errorf("ads1115: pointer byte %#02x has reserved bits set", w[0])
	}
	switch len(w) {
	case 1:
		a.pointer = w[0]
		return nil
	case 3:
	default:
		return fmt.Errorf("ads1115: a write of %d bytes; want the pointer, then none or 2 bytes", len(w))
	}
	v := binary.BigEndian.Uint16(w[1:])
	switch w[0] {
	case ads1115Conversion:
		return fmt.Errorf("ads1115: write of %#04x to the read-only conversion register", v)
	case ads1115Config:
		a.writeConfig(v)
	case ads1115LoThresh, ads1115HiThresh:
		a.thresholds[w[0]-ads1115LoThresh] = v
	}
	a.pointer = w[0]
	return nil
}

// writeConfig sets the config register and starts a single-shot
// conversion when asked to. OS is not stored: reads show the status.
func (a *ADS1115) writeConfig(v uint16) {
	converting := !a.done.IsZero()
	a.config = v &^ ads1115OS
	if v&ads1115OS == 0 || v&ads1115SingleShot == 0 || converting {
		return
	}
	code := a.code()
	if a.clock == nil {
		a.conversion = code
		return
	}
	rate := ads1115Rates[v>>5&0x7]
	a.pending = code
	a.done = a.clock.Now().Add(time.Duration((int64(time.Second) + rate - 1) / rate))
}

// settle ends the conversion in progress if its time has come.
func (a *ADS1115) settle() {
	if !a.done.IsZero() && !a.clock.Now().Before(a.done) {
		a.conversion, a.done = a.pending, time.Time{}
	}
}

func (a *ADS1115) read() uint16 {
	switch a.pointer {
	case ads1115Conversion:
		if a.config&ads1115SingleShot == 0 {
			return a.code()
		}
		return a.conversion
	case ads1115Config:
		if a.done.IsZero() && a.config&ads1115SingleShot != 0 {
			return a.config | ads1115OS
		}
		return a.config
	default:
		return a.thresholds[a.pointer-ads1115LoThresh]
	}
}

// code converts the inputs the config selects.
func (a *ADS1115) code() uint16 {
	var v physic.ElectricPotential
	switch mux := a.config >> 12 & 0x7; mux {
	case 0:
		v = a.inputs[0] - a.inputs[1]
	case 1:
		v = a.inputs[0] - a.inputs[3]
	case 2:
		v = a.inputs[1] - a.inputs[3]
	case 3:
		v = a.inputs[2] - a.inputs[3]
	default:
		v = a.inputs[mux-4]
	}
	return ads1115Code(v, ads1115Ranges[a.config>>9&0x7])
}

// ads1115Code is the ADS1115's output code for input voltage v at full-scale
// range fsr, as the register holds it: an LSB is fsr/32768, codes are
// rounded towards minus infinity, and clamped at 0x7FFF and 0x8000.
func ads1115Code(v, fsr physic.ElectricPotential) uint16 {
	switch {
	case v >= fsr:
		return 0x7fff
	case v <= -fsr:
		return 0x8000
	}
	n, d := int64(v)*32768, int64(fsr)
	c := n / d
	if n%d != 0 && n < 0 {
		c--
	}
	return uint16(int16(c))
}
