package config

import "time"

// Wing is one wing's configuration: its identity, its doors and its alarm
// points, each wired to an input.
type Wing struct {
	ID          string       // short id used in events and on the screen, e.g. "A"
	Name        string       // display name, e.g. "A wing"
	Landings    []string     // landing names in display order, e.g. "1", "2", "3"
	Doors       []Door       // in file order
	AlarmPoints []AlarmPoint // in file order
	Source      string       // file the configuration came from, or "built-in simulated wing"
}

// DoorKind says what a door is for. Cells are shown per landing; the
// others in their own group.
type DoorKind string

// The door kinds.
const (
	CellDoor    DoorKind = "cell"
	LandingGate DoorKind = "gate"
	OfficeDoor  DoorKind = "office"
	ExitDoor    DoorKind = "exit"
	ServiceDoor DoorKind = "service"
)

// DoorKinds lists the valid door kinds.
var DoorKinds = []DoorKind{CellDoor, LandingGate, OfficeDoor, ExitDoor, ServiceDoor}

// Door is a door with a position contact.
type Door struct {
	ID      string // e.g. "A1-07"
	Name    string // shown on the tile; defaults to ID
	Kind    DoorKind
	Landing string // landing name; empty for doors not on a landing
	Input   Input
	Line    int // line in the configuration file
}

// AlarmPointKind says what raises an alarm point.
type AlarmPointKind string

// The alarm point kinds.
const (
	CellCall   AlarmPointKind = "cell-call"
	StaffAlarm AlarmPointKind = "staff-alarm"
)

// AlarmPointKinds lists the valid alarm point kinds.
var AlarmPointKinds = []AlarmPointKind{CellCall, StaffAlarm}

// DefaultPriority is the priority of each alarm point kind when the
// configuration does not give one: 1 is the most urgent.
var DefaultPriority = map[AlarmPointKind]int{StaffAlarm: 1, CellCall: 2}

// AlarmPoint is a button or key switch that raises an alarm.
type AlarmPoint struct {
	ID       string // e.g. "A1-07-CALL"
	Name     string
	Kind     AlarmPointKind
	Landing  string
	Cell     string // the cell door id a cell call belongs to
	Priority int    // 1 is the most urgent
	Input    Input
	Line     int
}

// Pull is the input's bias resistor.
type Pull string

// The pulls.
const (
	PullUp   Pull = "up"
	PullDown Pull = "down"
	PullNone Pull = "none" // biased by external resistors
)

// Input is how a point is wired.
type Input struct {
	Pin string // GPIO name as the board's periph registry knows it, e.g. "GPIO17"
	// ActiveLow says the point is active (door open, button pressed) when
	// the pin reads low.
	ActiveLow bool
	Pull      Pull
	Debounce  time.Duration // how long a new level must hold before it counts
}

// DefaultDebounce is used when an input does not set one.
const DefaultDebounce = 20 * time.Millisecond
