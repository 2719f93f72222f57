// Package central serves the site's events to central systems: every
// wing's events in the site's commit order (sync/site), the same on every
// wing, from a cursor, each with its canonical bytes so a reader can check
// its hash and its wing's chain. The appliance mounts it on the screens'
// port at /api/v1/site/events (docs/central.md).
package central
