package adc

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// Options configures an ADS1115. The zero value measures up to 4.096 V at
// 860 samples per second on the real clock.
type Options struct {
	// Range is the full-scale voltage, which sets the gain: one of 6.144,
	// 4.096, 2.048, 1.024, 0.512 or 0.256 V. Zero means 4.096 V. Whatever
	// the range, an input must stay between GND−0.3 V and VDD+0.3 V: on a
	// 3.3 V chip, 4.096 V is the smallest range that covers the supply.
	Range physic.ElectricPotential
	// DataRate is the conversion rate, which sets how long a Read waits:
	// one of 8, 16, 32, 64, 128, 250, 475 or 860 Hz. Zero means 860 Hz
	// (about 1.2 ms per conversion); slower rates average more noise away.
	DataRate physic.Frequency
	// Clock times the wait for a conversion. Nil means the real clock.
	Clock clockwork.Clock
}

// ranges holds the full-scale ranges, indexed by the config register's
// PGA field.
var ranges = []physic.ElectricPotential{
	6144 * physic.MilliVolt,
	4096 * physic.MilliVolt,
	2048 * physic.MilliVolt,
	1024 * physic.MilliVolt,
	512 * physic.MilliVolt,
	256 * physic.MilliVolt,
}

// rates holds the data rates, indexed by the config register's DR field.
var rates = []physic.Frequency{
	8 * physic.Hertz,
	16 * physic.Hertz,
	32 * physic.Hertz,
	64 * physic.Hertz,
	128 * physic.Hertz,
	250 * physic.Hertz,
	475 * physic.Hertz,
	860 * physic.Hertz,
}

// The ADS1115's register pointers and config register fields (TI SBAS444,
// section 9.6).
const (
	regConversion = 0x00
	regConfig     = 0x01

	cfgOS         = 1 << 15 // write: start a conversion; read: 1 when idle
	cfgMuxSingle0 = 0b100   // MUX for AIN0 against GND; AINx is 0b100+x
	cfgModeSingle = 1 << 8  // single-shot: convert once, then power down
	cfgCompOff    = 0b11    // COMP_QUE: comparator disabled, ALERT/RDY high-impedance
)

// maxPolls is how many times Read reads the config register for the
// end of a conversion: after the nominal conversion time, then every
// tenth of it. The chip's oscillator is within 10 %, so a healthy chip is
// done by the second poll; the fifth, at 1.4 conversion times, gives up.
const maxPolls = 5

// ADS1115 is a Texas Instruments ADS1115 16-bit, four-channel I²C ADC, read
// single-shot and single-ended: each Read converts one input against
// ground. It is safe for concurrent use; reads take turns.
type ADS1115 struct {
	dev       i2c.Dev
	clock     clockwork.Clock
	fullScale physic.ElectricPotential
	period    time.Duration // one conversion at the data rate
	pga, dr   uint16        // the config register's PGA and DR fields

	mu sync.Mutex // held for a whole conversion: config, wait, result
}

// NewADS1115 returns the ADS1115 at addr on bus. The address is set by
// wiring the chip's ADDR pin to GND, VDD, SDA or SCL: 0x48, 0x49, 0x4A or
// 0x4B. NewADS1115 checks addr and opt but does not talk to the chip: a
// missing chip shows up as an error from Read.
func NewADS1115(bus i2c.Bus, addr uint16, opt Options) (*ADS1115, error) {
	if addr < 0x48 || addr > 0x4B {
		return nil, fmt.Errorf("adc: ads1115 address %#x is not one of 0x48 to 0x4B (ADDR pin wired to GND, VDD, SDA or SCL)", addr)
	}
	if opt.Range == 0 {
		opt.Range = 4096 * physic.MilliVolt
	}
	if opt.DataRate == 0 {
		opt.DataRate = 860 * physic.Hertz
	}
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	pga := slices.Index(ranges, opt.Range)
	if pga < 0 {
		return nil, fmt.Errorf("adc: ads1115 %#x: range %s is not one of 6.144, 4.096, 2.048, 1.024, 0.512 or 0.256 V", addr, opt.Range)
	}
	dr := slices.Index(rates, opt.DataRate)
	if dr < 0 {
		return nil, fmt.Errorf("adc: ads1115 %#x: data rate %s is not one of 8, 16, 32, 64, 128, 250, 475 or 860 Hz", addr, opt.DataRate)
	}
	return &ADS1115{
		dev:       i2c.Dev{Bus: bus, Addr: addr},
		clock:     opt.Clock,
		fullScale: opt.Range,
		period:    opt.DataRate.Period(),
		pga:       uint16(pga),
		dr:        uint16(dr),
	}, nil
}

// String names the chip by its address, as errors do: "ads1115 0x48".
func (d *ADS1115) String() string {
	return fmt.Sprintf("ads1115 %#x", d.dev.Addr)
}

// Read converts the voltage on input AIN0 to AIN3 (channel 0 to 3) against
// ground. It starts a single-shot conversion, waits one conversion time,
// polls the config register until the conversion is done (up to 1.4
// conversion times in all) and scales the result by the range. A reading at
// either end of the range means the input is at or beyond it.
func (d *ADS1115) Read(channel int) (physic.ElectricPotential, error) {
	if channel < 0 || channel > 3 {
		return 0, fmt.Errorf("adc: %s: channel %d does not exist: an ADS1115 has channels 0 to 3", d, channel)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	code, err := d.convert(channel)
	if err != nil {
		return 0, fmt.Errorf("adc: %s channel %d: %w", d, channel, err)
	}
	// One code is a 32768th of the range. This cannot overflow: the
	// product is at most 32768 × 6.144e9 nV.
	return physic.ElectricPotential(int64(code) * int64(d.fullScale) / 32768), nil
}

// config returns the config register word that starts a single-shot
// conversion of channel against ground.
func (d *ADS1115) config(channel int) uint16 {
	mux := uint16(cfgMuxSingle0 + channel)
	return cfgOS | mux<<12 | d.pga<<9 | cfgModeSingle | d.dr<<5 | cfgCompOff
}

// convert runs one conversion of channel and returns its raw code.
func (d *ADS1115) convert(channel int) (int16, error) {
	cfg := d.config(channel)
	if err := d.dev.Tx([]byte{regConfig, byte(cfg >> 8), byte(cfg)}, nil); err != nil {
		return 0, fmt.Errorf("start conversion: %w", err)
	}
	var b [2]byte
	d.clock.Sleep(d.period)
	for poll := 1; ; poll++ {
		if err := d.dev.Tx([]byte{regConfig}, b[:]); err != nil {
			return 0, fmt.Errorf("read config: %w", err)
		}
		if binary.BigEndian.Uint16(b[:])&cfgOS != 0 {
			break
		}
		if poll == maxPolls {
			return 0, fmt.Errorf("conversion still running after %s: the chip may be failing or not an ADS1115", d.period+time.Duration(maxPolls-1)*(d.period/10))
		}
		d.clock.Sleep(d.period / 10)
	}
	if err := d.dev.Tx([]byte{regConversion}, b[:]); err != nil {
		return 0, fmt.Errorf("read conversion: %w", err)
	}
	return int16(binary.BigEndian.Uint16(b[:])), nil
}
