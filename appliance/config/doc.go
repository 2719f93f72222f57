// Package config reads a wing's configuration: the wing's identity, its
// doors and its alarm points, and the input each is wired to.
//
// # File format
//
// One record per line; '#' starts a comment. A record is a type followed
// by key=value fields; values with spaces go in double quotes.
//
//	wing  id=A name="A wing"
//	door  id=A1-01 kind=cell landing=1 pin=GPIO5
//	door  id=A1-GATE kind=gate landing=1 pin=GPIO6 name="Landing 1 gate"
//	alarm id=A1-01-CALL kind=cell-call cell=A1-01 pin=GPIO13
//	alarm id=A1-STAFF kind=staff-alarm landing=1 pin=GPIO19 priority=1
//
// Records:
//
//   - wing: id (required; letters, digits, '-', '_', '.'), name.
//   - door: id, kind (cell, gate, office, exit, service), pin (required);
//     landing, name, and the input fields below.
//   - alarm: id, kind (cell-call, staff-alarm), pin (required); cell (the
//     cell door a cell call belongs to; required for cell-call), landing,
//     name, priority (1 most urgent to 9; default 1 for staff alarms, 2 for
//     cell calls), and the input fields below.
//
// Input fields: active=high|low says which level means "door open" or
// "button pressed" (default: high for doors, whose contact opens against a
// pull-up, low for alarm buttons, which close to ground); pull=up|down|none
// (default up); debounce=DURATION such as 20ms (default 20ms, 1ms to 5s).
//
// Pins are the names the board's GPIO registry uses (e.g. GPIO17 on a
// Raspberry Pi; the simulator's names are DOOR_..., CALL_..., STAFF_...).
// Every problem in a file is reported at once, each with its line and
// field.
package config
