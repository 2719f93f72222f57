package event

import "fmt"

// Kind says what happened. The data fields each kind carries are listed
// beside it; readers must tolerate fields they do not know.
type Kind string

// The kinds of event.
const (
	// DoorOpened: the door's position contact reports open. Subject: door id.
	DoorOpened Kind = "door.opened"
	// DoorClosed: the door's position contact reports closed. Subject: door id.
	DoorClosed Kind = "door.closed"
	// AlarmRaised: an alarm point was activated. Subject: alarm point id.
	// Data: "point_kind" (cell-call, staff-alarm), "priority" (1 highest).
	// The alarm is identified by this event's ID.
	AlarmRaised Kind = "alarm.raised"
	// AlarmAcknowledged: an officer acknowledged an alarm. Subject: alarm
	// point id. Actor: officer. Data: "alarm" (the raising event's ID).
	AlarmAcknowledged Kind = "alarm.acknowledged"
	// AlarmCleared: an officer resolved an alarm. Subject: alarm point id.
	// Actor: officer. Data: "alarm" (the raising event's ID), "note" (optional).
	AlarmCleared Kind = "alarm.cleared"
	// InputFault: an input can no longer be trusted. Subject: input (door or
	// alarm point) id. Data: "fault" (pin-missing, read-error, ...), "detail".
	InputFault Kind = "input.fault"
	// InputRestored: a faulted input reads normally again. Subject: input id.
	InputRestored Kind = "input.restored"
	// ApplianceStarted: the appliance began recording. Subject: wing id.
	// Data: "version".
	ApplianceStarted Kind = "appliance.started"
	// ApplianceStopped: the appliance stopped cleanly. Subject: wing id.
	ApplianceStopped Kind = "appliance.stopped"
)

// Kinds lists every kind, in a stable order for filters and documentation.
var Kinds = []Kind{
	DoorOpened, DoorClosed,
	AlarmRaised, AlarmAcknowledged, AlarmCleared,
	InputFault, InputRestored,
	ApplianceStarted, ApplianceStopped,
}

// ParseKind returns the Kind named s, or an error listing the valid kinds.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("event: unknown kind %q (want one of %v)", s, Kinds)
}
