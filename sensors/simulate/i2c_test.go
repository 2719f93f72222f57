package simulate_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"

	"wingnode/sensors/simulate"
)

func TestI2CBus(t *testing.T) {
	bus := simulate.NewI2CBus("SIM-I2C1")
	var _ i2c.BusCloser = bus
	require.Equal(t, "SIM-I2C1", bus.String())
	require.NoError(t, bus.SetSpeed(400*physic.KiloHertz))
	require.Error(t, bus.SetSpeed(0))

	adc := simulate.NewADS1115(nil)
	require.NoError(t, bus.Attach(0x48, adc))
	require.ErrorContains(t, bus.Attach(0x48, simulate.NewSHT3x(nil)), "already")
	require.ErrorContains(t, bus.Attach(0x80, simulate.NewSHT3x(nil)), "7-bit")

	err := bus.Tx(0x49, []byte{0x00}, nil)
	require.ErrorIs(t, err, simulate.ErrNACK)
	require.ErrorContains(t, err, "0x49")

	dev := i2c.Dev{Bus: bus, Addr: 0x48}
	require.NoError(t, dev.Tx([]byte{0x01}, nil))
	r := make([]byte, 2)
	require.NoError(t, dev.Tx(nil, r))
	require.Equal(t, []byte{0x85, 0x83}, r, "the config register's power-up value")

	require.NoError(t, bus.Close())
	require.NoError(t, bus.Close())
	require.ErrorContains(t, dev.Tx(nil, r), "closed")
}

// ads1115Config is a config register value: single-shot conversion started
// (OS=1, MODE=1), at 128 samples a second, comparator disabled.
func ads1115Config(mux, pga uint16) uint16 {
	return 1<<15 | mux<<12 | pga<<9 | 1<<8 | 0b100<<5 | 0b11
}

// convert starts a single-shot conversion with mux and pga and returns the
// conversion register, as a driver does: write config, poll OS, read.
func convert(t *testing.T, adc *simulate.ADS1115, mux, pga uint16) uint16 {
	t.Helper()
	c := ads1115Config(mux, pga)
	require.NoError(t, adc.Tx([]byte{0x01, byte(c >> 8), byte(c)}, nil))
	r := make([]byte, 2)
	require.NoError(t, adc.Tx(nil, r))
	require.Equal(t, c>>8, uint16(r[0]), "config read back, OS=1: conversion done")
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	return uint16(r[0])<<8 | uint16(r[1])
}

func TestADS1115Codes(t *testing.T) {
	mV := physic.MilliVolt
	for _, tt := range []struct {
		mux, pga uint16
		ain      [4]physic.ElectricPotential
		want     uint16
	}{
		{mux: 0b101, pga: 0b001, ain: [4]physic.ElectricPotential{1: 2048 * mV}, want: 0x4000}, // the datasheet's half scale
		{mux: 0b100, pga: 0b000, ain: [4]physic.ElectricPotential{0: 5000 * mV}, want: 26666},  // an open line at ±6.144 V
		{mux: 0b110, pga: 0b010, ain: [4]physic.ElectricPotential{2: 1 * mV}, want: 16},        // 1 mV / 62.5 µV
		{mux: 0b111, pga: 0b101, ain: [4]physic.ElectricPotential{3: 256 * mV}, want: 0x7fff},  // full scale clamps
		{mux: 0b111, pga: 0b111, ain: [4]physic.ElectricPotential{3: 128 * mV}, want: 0x4000},  // 111 is ±0.256 V too
		{mux: 0b100, pga: 0b011, ain: [4]physic.ElectricPotential{0: 3 * physic.Volt}, want: 0x7fff},
		{mux: 0b100, pga: 0b100, ain: [4]physic.ElectricPotential{0: -1 * physic.Volt}, want: 0x8000},
		{mux: 0b000, pga: 0b001, ain: [4]physic.ElectricPotential{0: 1 * physic.Volt, 1: 3 * physic.Volt}, want: 0xc180},   // AIN0−AIN1 = −2 V: −16000
		{mux: 0b001, pga: 0b001, ain: [4]physic.ElectricPotential{0: 3 * physic.Volt, 3: 1 * physic.Volt}, want: 0x3e80},   // AIN0−AIN3 = 2 V
		{mux: 0b010, pga: 0b001, ain: [4]physic.ElectricPotential{1: 1 * physic.Volt}, want: 0x1f40},                       // AIN1−AIN3
		{mux: 0b011, pga: 0b010, ain: [4]physic.ElectricPotential{2: 1 * physic.Volt, 3: 1*physic.Volt + 1}, want: 0xffff}, // −1 nV rounds down to −1
	} {
		t.Run(fmt.Sprintf("mux=%03b/pga=%03b", tt.mux, tt.pga), func(t *testing.T) {
			adc := simulate.NewADS1115(nil)
			for ch, v := range tt.ain {
				require.NoError(t, adc.SetVoltage(ch, v))
			}
			require.Equal(t, fmt.Sprintf("%#04x", tt.want), fmt.Sprintf("%#04x", convert(t, adc, tt.mux, tt.pga)))
		})
	}
}

func TestADS1115Registers(t *testing.T) {
	adc := simulate.NewADS1115(nil)
	r := make([]byte, 2)
	require.NoError(t, adc.Tx(nil, r))
	require.Equal(t, []byte{0, 0}, r, "the pointer starts at the conversion register, which starts at 0")
	require.NoError(t, adc.Tx([]byte{0x02}, r))
	require.Equal(t, []byte{0x80, 0x00}, r, "Lo_thresh power-up value")
	require.NoError(t, adc.Tx([]byte{0x03}, r))
	require.Equal(t, []byte{0x7f, 0xff}, r, "Hi_thresh power-up value")
	require.NoError(t, adc.Tx([]byte{0x03, 0x12, 0x34}, r))
	require.Equal(t, []byte{0x12, 0x34}, r, "a write leaves the pointer at the register written")

	// A conversion latches the input: the register keeps the code until
	// the next conversion.
	require.NoError(t, adc.SetVoltage(0, physic.Volt))
	require.Equal(t, uint16(0x1f40), convert(t, adc, 0b100, 0b001))
	require.NoError(t, adc.SetVoltage(0, 2*physic.Volt))
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	require.Equal(t, []byte{0x1f, 0x40}, r)

	// Writing config without OS changes the settings but converts nothing.
	c := ads1115Config(0b100, 0b001) &^ (1 << 15)
	require.NoError(t, adc.Tx([]byte{0x01, byte(c >> 8), byte(c)}, r))
	require.Equal(t, []byte{byte(c>>8) | 0x80, byte(c)}, r)
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	require.Equal(t, []byte{0x1f, 0x40}, r)

	// In continuous mode the conversion register follows the input and OS
	// reads 0.
	c &^= 1 << 8
	require.NoError(t, adc.Tx([]byte{0x01, byte(c >> 8), byte(c)}, r))
	require.Equal(t, []byte{byte(c >> 8), byte(c)}, r)
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	require.Equal(t, []byte{0x3e, 0x80}, r)
	require.NoError(t, adc.SetVoltage(0, 3*physic.Volt))
	require.NoError(t, adc.Tx(nil, r))
	require.Equal(t, []byte{0x5d, 0xc0}, r)

	// A one-byte read returns the most significant byte.
	one := make([]byte, 1)
	require.NoError(t, adc.Tx(nil, one))
	require.Equal(t, []byte{0x5d}, one)
}

func TestADS1115Errors(t *testing.T) {
	adc := simulate.NewADS1115(nil)
	for name, tx := range map[string]struct{ w, r []byte }{
		"reserved pointer bits":    {w: []byte{0x05}},
		"write conversion":         {w: []byte{0x00, 0x12, 0x34}},
		"a write of 2 bytes":       {w: []byte{0x01, 0x85}},
		"a write of 4 bytes":       {w: []byte{0x01, 0x85, 0x83, 0x00}},
		"a read past the register": {w: []byte{0x01}, r: make([]byte, 3)},
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, adc.Tx(tx.w, tx.r))
		})
	}
	require.Error(t, adc.SetVoltage(4, physic.Volt))
	require.Error(t, adc.SetVoltage(-1, physic.Volt))

	fault := errors.New("SDA stuck low")
	adc.Fail(fault)
	require.ErrorIs(t, adc.Tx([]byte{0x01}, make([]byte, 2)), fault)
	adc.Fail(nil)
	require.NoError(t, adc.Tx([]byte{0x01}, make([]byte, 2)))
}

func TestADS1115ConversionTime(t *testing.T) {
	clock := clockwork.NewFakeClock()
	adc := simulate.NewADS1115(clock)
	require.NoError(t, adc.SetVoltage(1, 2048*physic.MilliVolt))
	c := ads1115Config(0b101, 0b001)
	r := make([]byte, 2)
	require.NoError(t, adc.Tx([]byte{0x01, byte(c >> 8), byte(c)}, r))
	require.Equal(t, byte(c>>8)&^0x80, r[0], "OS reads 0 while converting")
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	require.Equal(t, []byte{0, 0}, r, "the conversion register keeps the last code until the conversion ends")

	clock.Advance(7 * time.Millisecond) // 128 SPS: 7.8125 ms
	require.NoError(t, adc.Tx([]byte{0x01}, r))
	require.Zero(t, r[0]&0x80)

	clock.Advance(time.Millisecond)
	require.NoError(t, adc.Tx([]byte{0x01}, r))
	require.Equal(t, byte(c>>8), r[0], "OS reads 1 when done")
	require.NoError(t, adc.Tx([]byte{0x00}, r))
	require.Equal(t, []byte{0x40, 0x00}, r)
}

// measure asks the sensor for a single-shot, high repeatability, no
// clock stretching measurement and reads the six bytes.
func measure(t *testing.T, bus *simulate.I2CBus, addr uint16) []byte {
	t.Helper()
	require.NoError(t, bus.Tx(addr, []byte{0x24, 0x00}, nil))
	r := make([]byte, 6)
	require.NoError(t, bus.Tx(addr, nil, r))
	return r
}

func TestSHT3xMeasurement(t *testing.T) {
	bus := simulate.NewI2CBus("SIM-I2C1")
	sht := simulate.NewSHT3x(nil)
	require.NoError(t, bus.Attach(0x44, sht))

	require.Equal(t, []byte{0x60, 0x8c, 0xd3, 0x73, 0x33, 0x01}, measure(t, bus, 0x44), "power-up climate 21 °C, 45 %RH")
	for _, tt := range []struct {
		celsius float64
		rh      physic.RelativeHumidity
		want    []byte
	}{
		{25, 50 * physic.PercentRH, []byte{0x66, 0x66, 0x93, 0x80, 0x00, 0xa2}},
		{31.5, 60 * physic.PercentRH, []byte{0x6f, 0xe8, 0x35, 0x99, 0x99, 0xbe}},
		{-45, 0, []byte{0x00, 0x00, 0x81, 0x00, 0x00, 0x81}},
		{130, 100 * physic.PercentRH, []byte{0xff, 0xff, 0xac, 0xff, 0xff, 0xac}},
		{-60, -5 * physic.PercentRH, []byte{0x00, 0x00, 0x81, 0x00, 0x00, 0x81}}, // beyond the scale: its limits
	} {
		t.Run(fmt.Sprintf("%g°C/%s", tt.celsius, tt.rh), func(t *testing.T) {
			sht.SetClimate(physic.ZeroCelsius+physic.Temperature(tt.celsius*float64(physic.Celsius)), tt.rh)
			got := measure(t, bus, 0x44)
			require.Equal(t, tt.want, got)
		})
	}

	// The datasheet's conversion formulas give back what was set, within
	// one raw step.
	sht.SetClimate(physic.ZeroCelsius+22_340*physic.MilliCelsius, 377_700*physic.MicroRH)
	got := measure(t, bus, 0x44)
	rawT, rawRH := float64(uint16(got[0])<<8|uint16(got[1])), float64(uint16(got[3])<<8|uint16(got[4]))
	require.InDelta(t, 22.34, -45+175*rawT/65535, 175.0/65535)
	require.InDelta(t, 37.77, 100*rawRH/65535, 100.0/65535)
}

func TestSHT3xCommands(t *testing.T) {
	sht := simulate.NewSHT3x(nil)
	r := make([]byte, 6)
	require.ErrorIs(t, sht.Tx(nil, r), simulate.ErrNACK, "a read before any measurement")

	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, nil))
	require.NoError(t, sht.Tx(nil, r[:3]), "a read of the temperature only")
	require.ErrorIs(t, sht.Tx(nil, r), simulate.ErrNACK, "a measurement is read once")

	for _, cmd := range [][]byte{{0x24, 0x0b}, {0x24, 0x16}, {0x2c, 0x06}, {0x2c, 0x0d}, {0x2c, 0x10}} {
		require.NoError(t, sht.Tx(cmd, r), "command %#x", cmd)
		require.Equal(t, []byte{0x60, 0x8c, 0xd3, 0x73, 0x33, 0x01}, r)
	}
	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, nil))
	require.Error(t, sht.Tx(nil, make([]byte, 7)), "a read past the measurement")

	status := make([]byte, 3)
	require.NoError(t, sht.Tx([]byte{0xf3, 0x2d}, status))
	require.Equal(t, []byte{0x80, 0x10, 0xe1}, status, "alert pending and reset seen after power-up")
	require.NoError(t, sht.Tx([]byte{0x30, 0x41}, nil))
	require.NoError(t, sht.Tx([]byte{0xf3, 0x2d}, status))
	require.Equal(t, []byte{0x00, 0x00, 0x81}, status)
	require.NoError(t, sht.Tx([]byte{0x30, 0xa2}, nil))
	require.NoError(t, sht.Tx([]byte{0xf3, 0x2d}, status))
	require.Equal(t, []byte{0x80, 0x10, 0xe1}, status, "after a soft reset")

	require.ErrorIs(t, sht.Tx([]byte{0x21, 0x30}, nil), simulate.ErrNACK, "periodic mode is not simulated")
	require.ErrorIs(t, sht.Tx([]byte{0x24}, nil), simulate.ErrNACK, "half a command")

	sht.SetSilent(true)
	require.ErrorIs(t, sht.Tx([]byte{0x24, 0x00}, nil), simulate.ErrNACK)
	sht.SetSilent(false)
	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, r))

	fault := errors.New("SCL stuck low")
	sht.Fail(fault)
	require.ErrorIs(t, sht.Tx([]byte{0x24, 0x00}, r), fault)
	sht.Fail(nil)
	require.NoError(t, sht.Tx([]byte{0x24, 0x00}, r))
}

func TestSHT3xMeasurementTime(t *testing.T) {
	clock := clockwork.NewFakeClock()
	sht := simulate.NewSHT3x(clock)
	r := make([]byte, 6)
	require.ErrorIs(t, sht.Tx([]byte{0x24, 0x00}, r), simulate.ErrNACK, "read at once: no clock stretching")
	clock.Advance(14 * time.Millisecond)
	require.ErrorIs(t, sht.Tx(nil, r), simulate.ErrNACK, "still measuring")
	clock.Advance(time.Millisecond)
	require.NoError(t, sht.Tx(nil, r))

	require.NoError(t, sht.Tx([]byte{0x2c, 0x06}, r), "clock stretching: the read waits for the measurement")
}
