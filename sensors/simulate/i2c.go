package simulate

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// ErrNACK is wrapped by the errors of transactions that a simulated device
// does not acknowledge: nothing at the address, a silent device, a
// command it does not know, or a read with nothing to read.
var ErrNACK = errors.New("not acknowledged")

// I2CDevice is a simulated device on an I2CBus. Tx is one transaction at
// the device's address, as i2c.Bus.Tx: w written first, then r read.
type I2CDevice interface {
	Tx(w, r []byte) error
}

// I2CBus is a simulated I²C bus: it passes each transaction to the device
// attached at its address. It implements i2c.BusCloser, so the drivers
// take it as they take a board's bus. Its methods are safe for concurrent
// use; transactions are serialised, as on a real bus.
type I2CBus struct {
	name string

	mu      sync.Mutex
	devices map[uint16]I2CDevice
	closed  bool
}

var _ i2c.BusCloser = (*I2CBus)(nil)

// NewI2CBus returns an empty bus; name is what String returns.
func NewI2CBus(name string) *I2CBus {
	return &I2CBus{name: name, devices: make(map[uint16]I2CDevice)}
}

// Attach puts d on the bus at the 7-bit address addr.
func (b *I2CBus) Attach(addr uint16, d I2CDevice) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case addr > 0x7f:
		return fmt.Errorf("simulate: i2c bus %s: address %#x is not a 7-bit address", b.name, addr)
	case b.devices[addr] != nil:
		return fmt.Errorf("simulate: i2c bus %s: a device is already attached at %#02x", b.name, addr)
	}
	b.devices[addr] = d
	return nil
}

// Tx implements i2c.Bus. A transaction to an address with no device
// fails with ErrNACK.
func (b *I2CBus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return fmt.Errorf("simulate: i2c bus %s is closed", b.name)
	}
	d := b.devices[addr]
	if d == nil {
		return fmt.Errorf("simulate: i2c bus %s: no device at %#02x: %w", b.name, addr, ErrNACK)
	}
	if err := d.Tx(w, r); err != nil {
		return fmt.Errorf("simulate: i2c bus %s: device at %#02x: %w", b.name, addr, err)
	}
	return nil
}

// SetSpeed implements i2c.Bus. The simulated devices answer at any speed;
// f must be positive.
func (b *I2CBus) SetSpeed(f physic.Frequency) error {
	if f <= 0 {
		return fmt.Errorf("simulate: i2c bus %s: invalid speed %s", b.name, f)
	}
	return nil
}

// String implements i2c.Bus.
func (b *I2CBus) String() string { return b.name }

// Close implements i2c.BusCloser: later transactions fail. Close is
// idempotent.
func (b *I2CBus) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
