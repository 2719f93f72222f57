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
	// The point kinds of the alarms the officer's shift raises.
	// CheckNoResponse: a check found no response (priority 1; its point
	// is the cell door). CheckOverdue: a cell's check went past its due
	// time (priority 2; the cell door). RollDiscrepancy: a landing's
	// count differs from its expected roll (priority 1; the LandingID).
	CheckNoResponse = "check-no-response"
	CheckOverdue    = "check-overdue"
	RollDiscrepancy = "roll-discrepancy"
	// The outcomes of an overdue check's alarm, which the system resolves:
	// the check was recorded, or the cell's plan ended.
	OutcomeCheckRecorded = "check-recorded"
	OutcomePlanEnded     = "plan-ended"
	// MaxWalkTest is the longest walk test; every walk test ends by itself.
	MaxWalkTest = 2 * time.Hour
)
