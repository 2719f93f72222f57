// Package recording turns what the wing's hardware reads into events. Its
// rules (rules.go) record each change of a door, lock or alarm button, the
// faults of an input, forced doors, walk-test proofs and the end of a walk
// test, a cell call's reset key switch turned with no call active as a
// silent presence at the cell door, and (checks.go) observation checks
// gone past their due time as alarms, resolved once the check is recorded;
// every event the appliance observes goes to the store through its
// one write path (Recorder.Record), which submits without waiting for each
// fsync and keeps each caller's order. An event the store refuses (a full
// or failed disk) is held, in order, and stored once the store takes
// events again (held.go); until then Recording says that recording has
// stopped.
package recording
