package adc

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

const mV = physic.MilliVolt

// sleeper is a fake clock whose Sleep returns at once, advancing the clock
// and recording how long the driver meant to wait.
type sleeper struct {
	*clockwork.FakeClock
	slept []time.Duration
}

func (s *sleeper) Sleep(d time.Duration) {
	s.slept = append(s.slept, d)
	s.Advance(d)
}

func newSleeper() *sleeper {
	return &sleeper{FakeClock: clockwork.NewFakeClock()}
}

// conversion is the bus traffic of one Read of a chip at addr that answers
// the first config poll as done: write the config register, read it back
// with OS set, read the conversion register.
func conversion(addr uint16, msb, lsb byte, code uint16) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x01, msb, lsb}},
		{Addr: addr, W: []byte{0x01}, R: []byte{msb | 0x80, lsb}},
		{Addr: addr, W: []byte{0x00}, R: []byte{byte(code >> 8), byte(code)}},
	}
}

// The config words below are worked out by hand from the datasheet's
// register map (TI SBAS444, table 8): OS=1, MUX=1xx (AINx against GND),
// PGA, MODE=1 (single-shot), DR, and COMP_QUE=11 (comparator off). At
// ±2.048 V and 128 SPS on a differential MUX they would give the chip's
// reset value 0x8583, which is where the lsb 0x83 comes from.
func TestReadConfigWord(t *testing.T) {
	tests := []struct {
		name     string
		opt      Options
		channel  int
		msb, lsb byte
	}{
		{"defaults, AIN0: ±4.096 V, 860 SPS", Options{}, 0, 0xC3, 0xE3},
		{"defaults, AIN1", Options{}, 1, 0xD3, 0xE3},
		{"defaults, AIN2", Options{}, 2, 0xE3, 0xE3},
		{"defaults, AIN3", Options{}, 3, 0xF3, 0xE3},
		{"±6.144 V, 128 SPS, AIN0", Options{Range: 6144 * mV, DataRate: 128 * physic.Hertz}, 0, 0xC1, 0x83},
		{"±2.048 V, 8 SPS, AIN3", Options{Range: 2048 * mV, DataRate: 8 * physic.Hertz}, 3, 0xF5, 0x03},
		{"±0.256 V, 475 SPS, AIN1", Options{Range: 256 * mV, DataRate: 475 * physic.Hertz}, 1, 0xDB, 0xC3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: conversion(0x48, tt.msb, tt.lsb, 0)}
			tt.opt.Clock = newSleeper()
			d, err := NewADS1115(bus, 0x48, tt.opt)
			require.NoError(t, err)
			v, err := d.Read(tt.channel)
			require.NoError(t, err)
			require.Zero(t, v)
			require.NoError(t, bus.Close())
		})
	}
}

func TestReadScaling(t *testing.T) {
	tests := []struct {
		name  string
		rng   physic.ElectricPotential
		code  uint16
		volts physic.ElectricPotential
	}{
		{"zero", 4096 * mV, 0x0000, 0},
		{"one code is 125 µV", 4096 * mV, 0x0001, 125 * physic.MicroVolt},
		{"half the supply of a 3.3 V line", 4096 * mV, 0x3390, 1650 * mV},
		{"mid-scale", 4096 * mV, 0x4000, 2048 * mV},
		{"positive full scale", 4096 * mV, 0x7FFF, 4095875 * physic.MicroVolt},
		{"minus one code", 4096 * mV, 0xFFFF, -125 * physic.MicroVolt},
		{"negative full scale", 4096 * mV, 0x8000, -4096 * mV},
		{"±6.144 V full scale", 6144 * mV, 0x7FFF, 6143812500 * physic.NanoVolt},
		{"±0.256 V, one code rounds toward zero", 256 * mV, 0x0001, 7812 * physic.NanoVolt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{}
			d, err := NewADS1115(bus, 0x48, Options{Range: tt.rng, Clock: newSleeper()})
			require.NoError(t, err)
			cfg := d.config(0) // checked by TestReadConfigWord
			bus.Ops = conversion(0x48, byte(cfg>>8), byte(cfg), tt.code)
			v, err := d.Read(0)
			require.NoError(t, err)
			require.Equal(t, tt.volts, v)
			require.NoError(t, bus.Close())
		})
	}
}

func TestReadPollsUntilDone(t *testing.T) {
	// Channel 2 of the chip at 0x49, defaults: busy (OS=0) twice, then done.
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x49, W: []byte{0x01, 0xE3, 0xE3}},
		{Addr: 0x49, W: []byte{0x01}, R: []byte{0x63, 0xE3}},
		{Addr: 0x49, W: []byte{0x01}, R: []byte{0x63, 0xE3}},
		{Addr: 0x49, W: []byte{0x01}, R: []byte{0xE3, 0xE3}},
		{Addr: 0x49, W: []byte{0x00}, R: []byte{0x33, 0x90}},
	}}
	clock := newSleeper()
	d, err := NewADS1115(bus, 0x49, Options{Clock: clock})
	require.NoError(t, err)
	v, err := d.Read(2)
	require.NoError(t, err)
	require.Equal(t, 1650*mV, v)
	require.NoError(t, bus.Close())

	period := (860 * physic.Hertz).Period()
	require.Equal(t, []time.Duration{period, period / 10, period / 10}, clock.slept)
}

func TestReadGivesUpOnABusyChip(t *testing.T) {
	ops := []i2ctest.IO{{Addr: 0x48, W: []byte{0x01, 0xC3, 0xE3}}}
	for range maxPolls {
		ops = append(ops, i2ctest.IO{Addr: 0x48, W: []byte{0x01}, R: []byte{0x43, 0xE3}})
	}
	bus := &i2ctest.Playback{Ops: ops}
	clock := newSleeper()
	d, err := NewADS1115(bus, 0x48, Options{Clock: clock})
	require.NoError(t, err)
	_, err = d.Read(0)
	require.ErrorContains(t, err, "adc: ads1115 0x48 channel 0: conversion still running after 1.627907ms")
	require.NoError(t, bus.Close(), "the conversion register must not be read")
	require.Len(t, clock.slept, maxPolls)
}

func TestReadTakesTurns(t *testing.T) {
	// Two conversions interleaved on the bus would not match the playback.
	bus := &i2ctest.Playback{
		Ops:       append(conversion(0x48, 0xC3, 0xE3, 0x3390), conversion(0x48, 0xC3, 0xE3, 0x3390)...),
		DontPanic: true,
	}
	d, err := NewADS1115(bus, 0x48, Options{}) // the real clock: about 1.2 ms a read
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			v, err := d.Read(0)
			assert.NoError(t, err)
			assert.Equal(t, 1650*mV, v)
		})
	}
	wg.Wait()
	require.NoError(t, bus.Close())
}

// failingBus is an i2c.Bus whose transactions fail after the first ok.
type failingBus struct {
	ok  int
	err error
}

func (b *failingBus) String() string                  { return "failing" }
func (b *failingBus) SetSpeed(physic.Frequency) error { return nil }
func (b *failingBus) Tx(addr uint16, w, r []byte) error {
	if b.ok == 0 {
		return b.err
	}
	b.ok--
	if len(r) == 2 {
		r[0] = 0x80 // OS: done
	}
	return nil
}

func TestReadBusError(t *testing.T) {
	nak := errors.New("i2c: no acknowledge")
	tests := []struct {
		ok   int
		want string
	}{
		{0, "adc: ads1115 0x4a channel 2: start conversion: i2c: no acknowledge"},
		{1, "adc: ads1115 0x4a channel 2: read config: i2c: no acknowledge"},
		{2, "adc: ads1115 0x4a channel 2: read conversion: i2c: no acknowledge"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			d, err := NewADS1115(&failingBus{ok: tt.ok, err: nak}, 0x4A, Options{Clock: newSleeper()})
			require.NoError(t, err)
			_, err = d.Read(2)
			require.ErrorIs(t, err, nak)
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestReadBadChannel(t *testing.T) {
	bus := &i2ctest.Playback{}
	d, err := NewADS1115(bus, 0x4B, Options{})
	require.NoError(t, err)
	for _, ch := range []int{-1, 4} {
		_, err := d.Read(ch)
		require.ErrorContains(t, err, "adc: ads1115 0x4b: channel")
		require.ErrorContains(t, err, "channels 0 to 3")
	}
	require.NoError(t, bus.Close(), "a bad channel must not reach the bus")
}

func TestNewADS1115Refuses(t *testing.T) {
	tests := []struct {
		name string
		addr uint16
		opt  Options
		want string
	}{
		{"address below", 0x47, Options{}, "address 0x47 is not one of 0x48 to 0x4B"},
		{"address above", 0x4C, Options{}, "address 0x4c is not one of 0x48 to 0x4B"},
		{"range", 0x48, Options{Range: 5 * physic.Volt}, "range 5V is not one of"},
		{"data rate", 0x48, Options{DataRate: 1 * physic.KiloHertz}, "data rate 1kHz is not one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewADS1115(&i2ctest.Playback{}, tt.addr, tt.opt)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestString(t *testing.T) {
	d, err := NewADS1115(&i2ctest.Playback{}, 0x48, Options{})
	require.NoError(t, err)
	require.Equal(t, "ads1115 0x48", d.String())
}
