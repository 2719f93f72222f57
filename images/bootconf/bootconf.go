// Package bootconf is the boot configuration of a wingnode image: the image
// builder writes it to Path and the image's init (cmd/wingnode-init) reads
// it to set up the network and start the appliance.
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
	// Command is the program the init replaces itself with, and its
	// arguments: Command[0] is an absolute path.
	Command []string `json:"command"`
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
