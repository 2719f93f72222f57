// Package siterun runs a site of real wingnode processes on one machine:
// each wing with its own data folder, screens port and site port on
// loopback, optionally with a fault proxy between every pair of wings. It
// serves `make site`, the site's fault tests and the bench.
//
// Check reads the wings' stores once the processes have stopped and
// asserts what replication promises: every event any wing recorded is on
// every wing exactly once, every chain verifies, the commit order is the
// same everywhere and the wing states agree.
package siterun
