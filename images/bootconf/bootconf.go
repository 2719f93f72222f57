// Package bootconf is the boot configuration of a wingnode image: the image
// builder writes it to Path and the image's init (cmd/wingnode-init) reads
// it to set up the network, start the appliance and watch it.
package bootconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path"
)

// Path is where the configuration sits in the image.
const Path = "/etc/wingnode/boot.json"

// Config says how the init brings a wing up.
type Config struct {
	// Network lists the interfaces to configure, in order. The loopback
	// interface is always brought up and need not be listed.
	Network []Interface `json:"network"`
	// Command is the program the init starts and watches, and its
	// arguments: Command[0] is an absolute path. When the data partition
	// holds a wing configuration (WingConfig), the init adds
	// "-config" and its path.
	Command []string `json:"command"`
	// Health is the URL the init polls once the command runs; an answer
	// means the appliance is alive, 200 means it is healthy (screen up,
	// store open, recording), which confirms a slot on trial. "" means no
	// health check: no slot is ever confirmed.
	Health string `json:"health,omitempty"`
	// StartGrace is how long, in seconds, the appliance may take to
	// answer the health check for the first time; the watchdog is petted
	// meanwhile.
	StartGrace int `json:"start_grace_s,omitempty"`
	// Watchdog is the hardware watchdog the init pets while the health
	// check answers; nil means none.
	Watchdog *Watchdog `json:"watchdog,omitempty"`
}

// WingConfig is where a provisioned wing configuration sits on the data
// partition.
const WingConfig = "/data/wing.conf"

// Watchdog is a Linux watchdog device.
type Watchdog struct {
	Device  string `json:"device"`    // e.g. /dev/watchdog
	Timeout int    `json:"timeout_s"` // seconds without a pet before the board resets
}

// Interface is a statically addressed IPv4 interface.
type Interface struct {
	Name    string       `json:"name"`             // e.g. "eth0"
	Address netip.Prefix `json:"address"`          // e.g. 10.0.2.15/24
	Gateway netip.Addr   `json:"gateway,omitzero"` // default route; none when zero
}

// Parse decodes and checks a configuration.
func Parse(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return Config{}, fmt.Errorf("bootconf: %w", err)
	}
	if err := c.Check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Check reports the first problem with c.
func (c Config) Check() error {
	if len(c.Command) == 0 || !path.IsAbs(c.Command[0]) {
		return errors.New("bootconf: command must start with an absolute path")
	}
	if c.Watchdog != nil {
		switch {
		case !path.IsAbs(c.Watchdog.Device):
			return errors.New("bootconf: watchdog device must be an absolute path, e.g. /dev/watchdog")
		case c.Watchdog.Timeout < 1 || c.Watchdog.Timeout > 600:
			return fmt.Errorf("bootconf: watchdog timeout %d s: use 1 to 600", c.Watchdog.Timeout)
		case c.Health == "":
			return errors.New("bootconf: a watchdog needs a health check, which decides when to pet it")
		}
	}
	if c.StartGrace < 0 {
		return fmt.Errorf("bootconf: start grace %d s is negative", c.StartGrace)
	}
	for i, n := range c.Network {
		switch {
		case n.Name == "":
			return fmt.Errorf("bootconf: network %d has no interface name", i)
		case !n.Address.IsValid() || !n.Address.Addr().Is4():
			return fmt.Errorf("bootconf: interface %s: address must be IPv4 with a prefix length, e.g. 10.0.2.15/24", n.Name)
		case n.Gateway.IsValid() && !n.Gateway.Is4():
			return fmt.Errorf("bootconf: interface %s: gateway %s is not IPv4", n.Name, n.Gateway)
		case n.Gateway.IsValid() && !n.Address.Contains(n.Gateway):
			return fmt.Errorf("bootconf: interface %s: gateway %s is outside %s", n.Name, n.Gateway, n.Address.Masked())
		}
	}
	return nil
}
