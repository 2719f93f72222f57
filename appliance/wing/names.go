package wing

import "time"

// Names and limits that the appliance, which records events, and the
// screens, which show them, must agree on.
const (
	// LockSuffix makes a door's lock contact input id from the door's id:
	// "A1-07#lock".
	LockSuffix = "#lock"
	// DoorForced is the point kind of the alarm raised when a door reads
	// open while its lock reads locked; the alarm's point is the door.
	DoorForced = "door-forced"
	// MaxWalkTest is the longest walk test; every walk test ends by itself.
	MaxWalkTest = 2 * time.Hour
)
