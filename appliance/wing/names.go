package wing

import "time"

// Names and limits that the appliance, which records events, and the
// screens, which show them, must agree on.
const (
	// LockSuffix makes a door's lock contact input id from the door's id:
	// "A1-07#lock".
	LockSuffix = "#lock"
	// ResetSuffix makes a cell call's reset key switch input id from the
	// alarm point's id: "A1-07-CALL#reset".
	ResetSuffix = "#reset"
	// The point kinds of the door anomalies; each alarm's point is the
	// door. DoorForced: open while its lock reads locked. DoorHeldOpen:
	// open longer than the door allows. DoorOpenedInLockdown and
	// DoorOpenedAtNight: opened while the site is locked down, or the
	// wing is in its night regime.
	DoorForced           = "door-forced"
	DoorHeldOpen         = "door-held-open"
	DoorOpenedInLockdown = "door-opened-in-lockdown"
	DoorOpenedAtNight    = "door-opened-at-night"
	// MaxWalkTest is the longest walk test; every walk test ends by itself.
	MaxWalkTest = 2 * time.Hour
)
