package climate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
	"periph.io/x/conn/v3/physic"
)

// measurement is the bus traffic of one Sense at addr that reads data.
func measurement(addr uint16, data ...byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x24, 0x00}},
		{Addr: addr, R: data},
	}
}

// words returns the 6 bytes the sensor sends for raw temperature t and
// humidity rh, each followed by its CRC.
func words(t, rh uint16) []byte {
	var b []byte
	for _, v := range []uint16{t, rh} {
		w := []byte{byte(v >> 8), byte(v)}
		b = append(b, append(w, crc8(w))...)
	}
	return b
}

// newSHT3x returns a driver on bus whose sleeps are recorded instead of
// slept.
func newSHT3x(t *testing.T, bus i2c.Bus, addr uint16) (*SHT3x, *[]time.Duration) {
	t.Helper()
	d, err := NewSHT3x(bus, addr)
	require.NoError(t, err)
	var slept []time.Duration
	d.sleep = func(dt time.Duration) { slept = append(slept, dt) }
	return d, &slept
}

// playback returns a bus that plays ops and fails the test if any is left
// unplayed.
func playback(t *testing.T, ops ...[]i2ctest.IO) *i2ctest.Playback {
	bus := &i2ctest.Playback{DontPanic: true}
	for _, o := range ops {
		bus.Ops = append(bus.Ops, o...)
	}
	t.Cleanup(func() { require.NoError(t, bus.Close(), "unplayed bus traffic") })
	return bus
}

func celsius(c float64) physic.Temperature {
	return physic.ZeroCelsius + physic.Temperature(c*float64(physic.Celsius))
}

func TestCRC8DatasheetExample(t *testing.T) {
	require.Equal(t, byte(0x92), crc8([]byte{0xBE, 0xEF}))
}

func TestSHT3xSenseConverts(t *testing.T) {
	for _, tc := range []struct {
		raw    uint16
		wantT  physic.Temperature
		wantRH physic.RelativeHumidity
	}{
		{0x0000, celsius(-45), 0},
		{0x6666, celsius(25), 40 * physic.PercentRH}, // 0x6666 is exactly 2/5 of 0xFFFF
		{0xFFFF, celsius(130), 100 * physic.PercentRH},
	} {
		bus := playback(t, measurement(0x44, words(tc.raw, tc.raw)...))
		d, _ := newSHT3x(t, bus, 0x44)
		r, err := d.Sense()
		require.NoError(t, err)
		require.Equal(t, tc.wantT, r.Temperature, "raw %#04x gave %s", tc.raw, r.Temperature)
		require.Equal(t, tc.wantRH, r.Humidity, "raw %#04x gave %s", tc.raw, r.Humidity)
	}
}

// The exact frames of the datasheet's CRC example, 0xBEEF with CRC 0x92,
// as both words, from a sensor at the other address.
func TestSHT3xSenseDatasheetFrames(t *testing.T) {
	bus := playback(t, []i2ctest.IO{
		{Addr: 0x45, W: []byte{0x24, 0x00}},
		{Addr: 0x45, R: []byte{0xBE, 0xEF, 0x92, 0xBE, 0xEF, 0x92}},
	})
	d, _ := newSHT3x(t, bus, 0x45)
	r, err := d.Sense()
	require.NoError(t, err)
	// -45 + 175·48879/65535 = 85.5230…°C; 100·48879/65535 = 74.5845…%.
	require.InDelta(t, 85.5230, r.Temperature.Celsius(), 0.0001)
	require.InDelta(t, 74.5845, float64(r.Humidity)/float64(physic.PercentRH), 0.0001)
}

func TestSHT3xWaitsMeasurementTimeBeforeReading(t *testing.T) {
	bus := playback(t, measurement(0x44, words(0x6666, 0x6666)...))
	d, err := NewSHT3x(bus, 0x44)
	require.NoError(t, err)
	var slept []time.Duration
	d.sleep = func(dt time.Duration) {
		require.Equal(t, 1, bus.Count, "the wait must fall between the command and the read")
		slept = append(slept, dt)
	}
	_, err = d.Sense()
	require.NoError(t, err)
	require.Equal(t, []time.Duration{15 * time.Millisecond}, slept)
}

func TestSHT3xWaitsOnItsClock(t *testing.T) {
	bus := playback(t, measurement(0x44, words(0x6666, 0x6666)...))
	clock := clockwork.NewFakeClock()
	d, err := NewSHT3x(bus, 0x44, WithClock(clock))
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := d.Sense()
		done <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	require.NoError(t, clock.BlockUntilContext(ctx, 1))
	clock.Advance(14 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("read before the measurement time")
	case <-time.After(10 * time.Millisecond):
	}
	clock.Advance(time.Millisecond)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(2 * time.Second):
		t.Fatal("Sense did not return")
	}
}

func TestSHT3xSenseCRCMismatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		flip int // index of the byte corrupted
	}{
		{"temperature", 2},
		{"humidity", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := words(0x6666, 0x6666)
			data[tc.flip] ^= 0x01
			d, _ := newSHT3x(t, playback(t, measurement(0x44, data...)), 0x44)
			_, err := d.Sense()
			require.ErrorIs(t, err, ErrCRC)
			require.ErrorContains(t, err, tc.name+" word")
		})
	}
}

// errNACK is what the Linux driver reports when nothing acknowledges the
// address.
var errNACK = errors.New("remote I/O error")

// nackBus passes its first ok transactions to Bus and fails every later
// one with errNACK, like a sensor that stops answering.
type nackBus struct {
	i2c.Bus
	ok, calls int
}

func (b *nackBus) Tx(addr uint16, w, r []byte) error {
	b.calls++
	if b.calls > b.ok {
		return errNACK
	}
	return b.Bus.Tx(addr, w, r)
}

func TestSHT3xSenseBusError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ok      int
		ops     []i2ctest.IO
		context string
		slept   []time.Duration
	}{
		{"command not acknowledged", 0, nil, "start measurement", nil},
		{"read not acknowledged", 1, measurement(0x44)[:1], "read measurement", []time.Duration{15 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bus := &nackBus{Bus: playback(t, tc.ops), ok: tc.ok}
			d, slept := newSHT3x(t, bus, 0x44)
			_, err := d.Sense()
			require.ErrorIs(t, err, errNACK)
			require.ErrorContains(t, err, "SHT3x at 0x44")
			require.ErrorContains(t, err, tc.context)
			require.Equal(t, tc.slept, *slept)
		})
	}
}

func TestNewSHT3xRejects(t *testing.T) {
	for _, addr := range []uint16{0, 0x40, 0x43, 0x46, 0x144} {
		_, err := NewSHT3x(&i2ctest.Playback{}, addr)
		require.ErrorContains(t, err, "answers only at 0x44 or 0x45", "address %#x", addr)
	}
	_, err := NewSHT3x(nil, 0x44)
	require.ErrorContains(t, err, "no I²C bus")
}

func TestSHT3xReset(t *testing.T) {
	bus := playback(t, []i2ctest.IO{{Addr: 0x45, W: []byte{0x30, 0xA2}}})
	d, slept := newSHT3x(t, bus, 0x45)
	require.NoError(t, d.Reset())
	require.Equal(t, []time.Duration{1500 * time.Microsecond}, *slept)

	d, slept = newSHT3x(t, &nackBus{Bus: playback(t)}, 0x45)
	err := d.Reset()
	require.ErrorIs(t, err, errNACK)
	require.ErrorContains(t, err, "soft reset")
	require.Empty(t, *slept)
}
