// Command stuck stands in for a broken wingnode release in the update
// tests: it starts and then hangs, answering nothing. (A bare select{}
// would not do: Go's runtime ends a program whose goroutines all block.)
package main

import "time"

func main() {
	for {
		time.Sleep(time.Hour)
	}
}
