package main

import (
	"fmt"
	"strconv"
	"strings"

	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"

	"wingnode/appliance/hardware"
)

// board describes what periph's host drivers found: the binary is the one
// place that loads them.
func board(drivers *driverreg.State) hardware.Board {
	b := hardware.Board{Drivers: drivers, PinByName: pinByName}
	for _, c := range gpioioctl.Chips {
		b.Chips = append(b.Chips, fmt.Sprintf("%s [%s] %d lines", c.Name(), c.Label(), c.LineCount()))
	}
	return b
}

// pinByName finds a GPIO line by the name the wing configuration uses: a
// name in periph's registry (e.g. "GPIO17", or a simulated pin), or
// "CHIP/LINE" for a line of a Linux GPIO character device (e.g.
// "gpiochip0/17"). It returns nil when there is no such line.
func pinByName(name string) gpio.PinIO {
	chipName, line, ok := strings.Cut(name, "/")
	if !ok {
		return gpioreg.ByName(name)
	}
	n, err := strconv.Atoi(line)
	if err != nil {
		return nil
	}
	for _, chip := range gpioioctl.Chips {
		if chip.Name() != chipName {
			continue
		}
		for _, l := range chip.Lines() {
			if l.Number() == n {
				return l
			}
		}
	}
	return nil
}
