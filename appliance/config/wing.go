package config

import (
	"fmt"
	"strings"
	"time"

	"wingnode/appliance/wing"
)

// Wing is one wing's configuration: its identity, its doors and its alarm
// points, each wired to an input.
type Wing struct {
	ID          string       // short id used in events and on the screen, e.g. "A"
	Name        string       // display name, e.g. "A wing"
	Landings    []string     // landing names in display order, e.g. "1", "2", "3"
	Doors       []Door       // in file order
	AlarmPoints []AlarmPoint // in file order
	Sensors     []Sensor     // environment sensors, in file order
	Outputs     []Output     // annunciators, in file order
	// ProveEvery is how often every input must be proven in a walk test;
	// inputs not proven for longer are flagged on the screen.
	ProveEvery time.Duration
	// EscalateUnacknowledged is how long an alarm may go unacknowledged,
	// and EscalateUnattended how long a cell call may go unattended at its
	// door, before it escalates: the sounder's escalation pattern, and a
	// banner on every wing's screens.
	EscalateUnacknowledged time.Duration
	EscalateUnattended     time.Duration
	// Outcomes are the outcomes an officer chooses from when resolving an
	// alarm, as short ids (e.g. "assistance-given"), in the order shown.
	Outcomes []string
	// Schedule is the wing's daily regime changes (unlock, lockup,
	// night), in order of time of day; a supervisor may set the regime
	// until the next change.
	Schedule wing.Schedule
	// SignOutIdle is how long a signed-in officer may leave the screen
	// untouched before being signed out.
	SignOutIdle time.Duration
	// Hosts are the names and addresses the wing's screens answer to
	// besides loopback (lower case, no port); a request naming another
	// host is refused.
	Hosts []string
	// WalkPace is the least time an officer takes from one cell door to
	// the next along a landing: a check recorded sooner after the same
	// officer's previous one than the walk between the two cells allows
	// is flagged as implausible.
	WalkPace time.Duration
	Source   string // file the configuration came from, or "built-in simulated wing"
}

// Door returns the door with id, if the wing has one.
func (w Wing) Door(id string) (Door, bool) {
	for _, d := range w.Doors {
		if d.ID == id {
			return d, true
		}
	}
	return Door{}, false
}

// Cells returns the wing's cell doors on landing in their order along it
// (the file's order); all the wing's cells when landing is empty.
func (w Wing) Cells(landing string) []Door {
	var out []Door
	for _, d := range w.Doors {
		if d.Kind == CellDoor && (landing == "" || d.Landing == landing) {
			out = append(out, d)
		}
	}
	return out
}

// CellCall returns the cell call of a cell, if it has one.
func (w Wing) CellCall(cell string) (AlarmPoint, bool) {
	for _, p := range w.AlarmPoints {
		if p.Kind == CellCall && p.Cell == cell {
			return p, true
		}
	}
	return AlarmPoint{}, false
}

// Defaults of the wing record.
const (
	DefaultProveEvery             = 30 * 24 * time.Hour
	DefaultEscalateUnacknowledged = time.Minute
	DefaultEscalateUnattended     = 5 * time.Minute
	DefaultWalkPace               = 3 * time.Second
)

// DefaultOutcomes are the outcomes of a wing whose record names none.
func DefaultOutcomes() []string {
	return []string{"assistance-given", "no-assistance-needed", "false-alarm", "referred-to-healthcare", "fault-reported"}
}

// OutcomeLabel is how an outcome id reads on the screen:
// "assistance-given" is "Assistance given".
func OutcomeLabel(id string) string {
	s := strings.ReplaceAll(id, "-", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// DefaultSignOutIdle is used when the wing record does not set
// signout_idle.
const DefaultSignOutIdle = 2 * time.Minute

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
func DoorKinds() []DoorKind {
	return []DoorKind{CellDoor, LandingGate, OfficeDoor, ExitDoor, ServiceDoor}
}

// Door is a door with a position contact.
type Door struct {
	ID      string // e.g. "A1-07"
	Name    string // shown on the tile; defaults to ID
	Kind    DoorKind
	Landing string // landing name; empty for doors not on a landing
	Input   Input
	// Lock is the door's lock (bolt) contact, where one is fitted: active
	// means locked. A door open while its lock reads locked is forced or
	// its contacts are faulty.
	Lock *Input
	// HeldOpen is how long the door may stand open before it raises a
	// held-open alarm; zero means never.
	HeldOpen time.Duration
	Line     int // line in the configuration file
}

// DefaultHeldOpen is how long a door of each kind may stand open when its
// record does not say: an office door may stand open all day.
func DefaultHeldOpen(k DoorKind) time.Duration {
	switch k {
	case CellDoor:
		return 5 * time.Minute
	case LandingGate, ServiceDoor:
		return 2 * time.Minute
	case ExitDoor:
		return time.Minute
	}
	return 0
}

// AlarmPointKind says what raises an alarm point.
type AlarmPointKind string

// The alarm point kinds.
const (
	CellCall   AlarmPointKind = "cell-call"
	StaffAlarm AlarmPointKind = "staff-alarm"
)

// AlarmPointKinds lists the valid alarm point kinds.
func AlarmPointKinds() []AlarmPointKind { return []AlarmPointKind{CellCall, StaffAlarm} }

// DefaultPriority is the priority of each alarm point kind when the
// configuration does not give one: 1 is the most urgent.
func DefaultPriority(k AlarmPointKind) int {
	if k == StaffAlarm {
		return 1
	}
	return 2
}

// AlarmPoint is a button or key switch that raises an alarm.
type AlarmPoint struct {
	ID       string // e.g. "A1-07-CALL"
	Name     string
	Kind     AlarmPointKind
	Landing  string
	Cell     string // the cell door id a cell call belongs to
	Priority int    // 1 is the most urgent
	Input    Input
	// Reset is the cell call's reset key switch at the cell door, where
	// one is fitted: an officer turning it attends the call at its source.
	Reset *Input
	Line  int
}

// Pull is the input's bias resistor.
type Pull string

// The pulls.
const (
	PullUp   Pull = "up"
	PullDown Pull = "down"
	PullNone Pull = "none" // biased by external resistors
)

// Input is how a point is wired: to a GPIO line (Pin), or as a
// supervised line read through an ADC (ADC).
type Input struct {
	// Pin is the GPIO line: a name as the board's periph registry knows
	// it (e.g. "GPIO17"), or "CHIP/LINE" (e.g. "gpiochip0/17").
	Pin string
	// ADC, when set instead of Pin, makes this a supervised input wired
	// with end-of-line resistors and read through an ADC channel.
	ADC *ADCChannel
	// ActiveLow says the point is active (door open, button pressed) when
	// the pin reads low.
	ActiveLow bool
	Pull      Pull
	Debounce  time.Duration // how long a new level must hold before it counts
	// StuckAfter, when set, flags the input as stuck if it does not change
	// for this long (for inputs that move daily, such as landing gates).
	StuckAfter time.Duration
}

// Wiring names where an input is connected, for messages and probing.
func (in Input) Wiring() string {
	if in.ADC != nil {
		return in.ADC.String()
	}
	return in.Pin
}

// ADCChannel is one channel of an ADC on an I2C bus.
type ADCChannel struct {
	Bus     string // I2C bus name or number as periph knows it, e.g. "1"
	Addr    uint16 // e.g. 0x48
	Channel int    // 0..3
}

func (c ADCChannel) String() string { return fmt.Sprintf("%s/0x%02x/%d", c.Bus, c.Addr, c.Channel) }

// SensorKind is the family of an environment sensor.
type SensorKind string

// The sensor kinds.
const SHT3x SensorKind = "sht3x"

// Sensor is an environment (temperature and humidity) sensor on I2C.
type Sensor struct {
	ID      string
	Name    string
	Kind    SensorKind
	Bus     string
	Addr    uint16
	Landing string
	Cell    string // the cell it is in, if any
	// Limits; nil means no limit.
	HotAboveC  *float64
	ColdBelowC *float64
	HumidAbove *float64 // percent relative humidity
	Line       int
}

// OutputKind is what an annunciator output drives. Outputs are
// annunciators only: the appliance never drives a lock.
type OutputKind string

// The output kinds.
const (
	Sounder OutputKind = "sounder"
	Strobe  OutputKind = "strobe"
	LED     OutputKind = "led"
)

// OutputKinds lists the valid output kinds.
func OutputKinds() []OutputKind { return []OutputKind{Sounder, Strobe, LED} }

// Output is an annunciator wired to a GPIO output.
type Output struct {
	ID        string
	Name      string
	Kind      OutputKind
	Pin       string
	ActiveLow bool // energised (sounding, lit) when the pin is driven low
	Line      int
}

// Debounce periods used when an input does not set one: door and lock
// contacts settle slowly and a false "door open" costs an officer a walk;
// alarm buttons settle within a few milliseconds and every millisecond of
// an alarm counts.
const (
	DefaultDebounce       = 20 * time.Millisecond
	DefaultButtonDebounce = 5 * time.Millisecond
)
