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
	// DoorLocked: the door's lock (bolt) contact reports locked. Subject: door id.
	DoorLocked Kind = "door.locked"
	// DoorUnlocked: the door's lock contact reports unlocked. Subject: door id.
	DoorUnlocked Kind = "door.unlocked"
	// AlarmRaised: an alarm point was activated, or a door anomaly was
	// seen. Subject: alarm point id, or door id for a door anomaly, cell
	// door id for a check, landing id for a roll. Data: "point_kind"
	// (cell-call, staff-alarm, door-forced, door-held-open,
	// door-opened-in-lockdown, door-opened-at-night; check-no-response:
	// an officer's check found no response, with "check", its ID;
	// check-overdue: a cell's check went past its due time, with "due";
	// roll-discrepancy: a landing's count differs from its expected roll,
	// with "count", "landing", "counted" and "expected"), "priority" (1
	// highest). Actor: system, or the officer whose record raised it. The
	// alarm is identified by this event's ID. It latches: it stays
	// active, whatever its input does, until it is resolved.
	AlarmRaised Kind = "alarm.raised"
	// AlarmAcknowledged: an officer acknowledged an alarm. Subject: alarm
	// point id. Actor: officer. Data: "alarm" (the raising event's ID).
	AlarmAcknowledged Kind = "alarm.acknowledged"
	// AlarmAttended: an officer attended the alarm where it was raised.
	// Subject: alarm point id. Actor: the officer, or system when the
	// cell door's reset key switch was turned. Data: "alarm", "how"
	// (reset: at the cell door, by its key switch; panel: reported at the
	// panel), "where" (the cell door, or the panel's wing).
	AlarmAttended Kind = "alarm.attended"
	// AlarmResolved: an officer resolved an alarm. Subject: alarm point id.
	// Actor: officer. Data: "alarm", "outcome" (one of the wing's
	// configured outcomes), "note" (optional). An overdue check is
	// resolved by the system once the check is recorded (outcome
	// check-recorded, with "check", its ID) or the plan ends (plan-ended).
	AlarmResolved Kind = "alarm.resolved"
	// AlarmClosedRemotely: a supervisor closed an alarm without it being
	// attended at its source: an exception, counted in the response
	// figures. Subject: alarm point id. Actor: supervisor. Data: "alarm",
	// "reason".
	AlarmClosedRemotely Kind = "alarm.closed_remotely"
	// AlarmEscalated: an alarm went unacknowledged, or a cell call
	// unattended, for longer than the wing allows. Subject: alarm point id.
	// Data: "alarm", "reason" (unacknowledged, unattended), "after" (the
	// limit, e.g. "1m0s").
	AlarmEscalated Kind = "alarm.escalated"
	// AlarmCleared: an officer resolved an alarm, as recorded before
	// alarm.resolved existed; folded as alarm.resolved without an outcome.
	AlarmCleared Kind = "alarm.cleared"
	// InputFault: an input can no longer be trusted. Subject: input (door,
	// lock contact "DOOR#lock", alarm point or sensor) id. Data: "fault"
	// (pin-missing, pin-setup, open-circuit, short-circuit, tamper,
	// adc-error, flapping, stuck, silent), "detail", and for a silent
	// sensor "last_reading" (RFC 3339: its last good reading, so silent
	// since then).
	InputFault Kind = "input.fault"
	// InputRestored: a faulted input reads normally again. Subject: input id.
	InputRestored Kind = "input.restored"
	// InputProven: an input was seen to work during a walk test. Subject:
	// input id. Actor: the officer running the walk test.
	InputProven Kind = "input.proven"
	// WalkTestStarted: a supervisor started a walk test. Subject: wing id.
	// Data: "until" (RFC 3339: the walk test ends by itself then),
	// "points" (the inputs it covers, comma-separated; a list too long
	// for one value goes on in "points.2", "points.3", ...; absent: all),
	// "landing" (the landing they were chosen by, if so).
	WalkTestStarted Kind = "walktest.started"
	// WalkTestEnded: the walk test ended. Subject: wing id.
	WalkTestEnded Kind = "walktest.ended"
	// LockdownDeclared: a supervisor declared a site-wide lockdown, agreed
	// by the site. Subject: site name. Actor: supervisor. Data: "reason".
	LockdownDeclared Kind = "lockdown.declared"
	// LockdownEnded: a supervisor ended the site's lockdown. Subject: site
	// name. Actor: supervisor.
	LockdownEnded Kind = "lockdown.ended"
	// RegimeSet: a supervisor put the wing in a regime (unlock, lockup,
	// night) until the next scheduled change. Subject: wing id. Data:
	// "regime".
	RegimeSet Kind = "regime.set"
	// ObservationPlanSet: a supervisor put a cell on an observation plan,
	// or changed its plan. Subject: cell door id. Actor: supervisor. Data:
	// "day_per_hour" and "night_per_hour" (observations an hour by day and
	// in the night regime, a decimal such as "2" or "0.5"),
	// "conversations_per_day" (a whole number), "max_gap" (the longest
	// time between two observations, a Go duration such as "1h0m0s"),
	// "next_due" (RFC 3339: the first observation is due then, drawn at
	// random by the panel), "next_conversation" ("true" when that one is to
	// be a conversation), "note" (optional).
	ObservationPlanSet Kind = "observation.plan_set"
	// ObservationPlanEnded: a supervisor took a cell off its observation
	// plan. Subject: cell door id. Actor: supervisor. Data: "reason"
	// (optional).
	ObservationPlanEnded Kind = "observation.plan_ended"
	// ObservationChecked: an officer checked a cell. Subject: cell door id.
	// Actor: officer. Data: "outcome" (seen, seen-moving, spoke,
	// sign-of-life, no-response), "how" (panel: recorded at the panel;
	// door: proven at the cell door by its reset key switch first),
	// "presence" and "presence_at" (for a check at the door, the
	// observation.presence event's ID and RFC 3339 time), "note" (optional), "screen" (the landing of the screen
	// it was recorded on, if the screen names one), "regime" (the wing's
	// regime then; at night a check needs a sign of life), "due" (RFC
	// 3339: the due time this check answered, for a cell on a plan),
	// "late" ("true" when recorded after it), "next_due" and
	// "next_conversation" (the next check of a cell on a plan, drawn at
	// random by the panel), "flags" (plausibility, comma-separated:
	// too-fast, faster than walking from the officer's previous check
	// allows; other-landing, recorded on a screen on another landing),
	// and with too-fast "previous" (that check's ID), "took" and "needs"
	// (Go durations: the time between the two, and the least walk).
	ObservationChecked Kind = "observation.checked"
	// ObservationPresence: an officer stood at a cell door and turned its
	// cell call's reset key switch with no call active: presence at the
	// door, recorded silently (nothing sounds or lights), for the check
	// that follows. Subject: cell door id. Actor: system. Data: "point"
	// (the cell call whose reset key switch was turned).
	ObservationPresence Kind = "observation.presence"
	// RollExpectedSet: a supervisor set a cell's expected roll. Subject:
	// cell door id. Actor: supervisor. Data: "occupants" (prisoners on the
	// roll in the cell, 0 for an empty cell), "out" (how many of them are
	// out of the wing; absent when none), "reason" (why they are out).
	RollExpectedSet Kind = "roll.expected_set"
	// RollCounted: an officer counted a landing. Subject: the landing's id
	// (wing id, "-landing-", landing: "A-landing-1"). Actor: officer.
	// Data: "landing", "counted", "expected" (the expected roll of the
	// landing then: occupants less those out of the wing), "discrepancy"
	// (counted less expected, when not 0), "open_doors" (how many cell
	// doors of the landing were open, or moved, during the count; absent
	// when none) and "open_cells" (those cells, comma-separated, as many
	// as fit).
	RollCounted Kind = "roll.counted"
	// RollSigned: the officer in charge signed the wing's roll as correct.
	// Subject: wing id. Actor: supervisor. Data: "counted", "expected"
	// (the wing's totals), "counts" (the roll.counted events signed for,
	// comma-separated IDs).
	RollSigned Kind = "roll.signed"
	// HandoverSigned: the outgoing officer signed the shift's handover.
	// Subject: wing id. Actor: outgoing officer. Data: "from", "to" (RFC
	// 3339: the shift), "digest" (hex SHA-256 of the draft the officer
	// reviewed), "open_items" (how many items it hands over), "notes"
	// (optional; longer notes go on in "notes.2" to "notes.5").
	HandoverSigned Kind = "handover.signed"
	// HandoverRead: the incoming officer signed a handover as read.
	// Subject: wing id. Actor: incoming officer. Data: "handover" (the
	// handover.signed event's ID).
	HandoverRead Kind = "handover.read"
	// RecordCorrected: an officer struck an earlier record (a check, a
	// count, a signed roll or handover, a reading of one). Nothing is
	// erased: the struck record stays in the chain, shown struck through.
	// Subject: the struck record's subject. Actor: its officer, or a
	// supervisor. Data: "record" (the struck event's ID), "kind" (its
	// kind), "reason".
	RecordCorrected Kind = "record.corrected"
	// ClimateCondition: an environment reading crossed a limit, or came back.
	// Subject: sensor id. Data: "condition" (too-hot, too-cold, too-humid),
	// "active" ("true" or "false"), "value" (e.g. "31.2°C").
	ClimateCondition Kind = "climate.condition"
	// ApplianceStarted: the appliance began recording. Subject: wing id.
	// Data: "version".
	ApplianceStarted Kind = "appliance.started"
	// ApplianceStopped: the appliance stopped cleanly. Subject: wing id.
	ApplianceStopped Kind = "appliance.stopped"

	// Officers at the wing's screen (appliance/signin). None of these
	// ever carries a PIN, a PIN hash or what was typed.

	// OfficerSignedIn: an officer signed in on the wing's screen with
	// number and PIN. Subject and actor: the officer's number. Data:
	// "role" (officer, supervisor, siteit).
	OfficerSignedIn Kind = "officer.signed_in"
	// OfficerSignedOut: an officer's session on the wing's screen ended.
	// Subject and actor: the officer's number. Data: "reason" (idle: no
	// touch for the wing's signout_idle; switch: a quick switch of
	// officer; signed-out: the officer signed out; removed: the officer
	// left the roster).
	OfficerSignedOut Kind = "officer.signed_out"
	// OfficerSignInFailed: a sign-in was refused: a wrong PIN, an officer
	// with no PIN set, or a number not on the roster. Subject: the
	// officer's number, or "unknown" when the number is not on the roster
	// or not a number at all (what was typed is not recorded). Actor:
	// system. Data: "failures" (wrong PINs in a row for a known officer).
	OfficerSignInFailed Kind = "officer.sign_in_failed"
	// OfficerLockedOut: after too many wrong PINs in a row, the officer's
	// sign-ins are refused for a while. Subject: the officer's number.
	// Actor: system. Data: "failures", "until" (RFC 3339).
	OfficerLockedOut Kind = "officer.locked_out"
	// RosterChanged: a supervisor or site IT changed the site's officer
	// roster on this wing's screen, and the site agreed it. Subject: the
	// officer changed. Actor: who changed it. Data: "officer", "role" (the
	// officer's role after the change, or before a removal), "change"
	// (added, removed, pin-reset, role-changed).
	RosterChanged Kind = "roster.changed"
)

// Kinds lists every kind, in a stable order for filters and documentation.
func Kinds() []Kind {
	return []Kind{
		DoorOpened, DoorClosed, DoorLocked, DoorUnlocked,
		AlarmRaised, AlarmAcknowledged, AlarmAttended, AlarmResolved, AlarmClosedRemotely, AlarmEscalated, AlarmCleared,
		InputFault, InputRestored, InputProven,
		WalkTestStarted, WalkTestEnded,
		LockdownDeclared, LockdownEnded, RegimeSet,
		ObservationPlanSet, ObservationPlanEnded, ObservationChecked, ObservationPresence,
		RollExpectedSet, RollCounted, RollSigned,
		HandoverSigned, HandoverRead, RecordCorrected,
		ClimateCondition,
		ApplianceStarted, ApplianceStopped,
		OfficerSignedIn, OfficerSignedOut, OfficerSignInFailed, OfficerLockedOut,
		RosterChanged,
	}
}

// ParseKind returns the Kind named s, or an error listing the valid kinds.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("event: unknown kind %q (want one of %v)", s, Kinds())
}
