// Package simulate is a simulated wing: door contacts and alarm buttons on
// fake pins registered in periph's gpioreg, so the appliance reads them
// through the same code path as real hardware, for make run, tests and
// benchmarks.
package simulate
