package sensors

import (
	"strconv"
	"strings"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3/gpioioctl"
)

// PinByName finds a GPIO line by the name the wing configuration uses: a
// name in periph's registry (e.g. "GPIO17", or a simulated pin), or
// "CHIP/LINE" for a line of a Linux GPIO character device (e.g.
// "gpiochip0/17"). It returns nil when there is no such line. The
// registry and the chips are filled by periph's host.Init.
func PinByName(name string) gpio.PinIO {
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
