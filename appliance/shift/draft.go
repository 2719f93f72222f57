package shift

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Draft is a shift's handover, drafted from its events and what is still
// open at its end, for the outgoing officer to review, add notes to and
// sign (officer.Panel.SignHandover with Digest and len(OpenItems)).
type Draft struct {
	Wing string    `json:"wing"`
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Alarms raised in the shift, oldest first, with their response
	// times: cell calls, staff alarms, no response at a check, roll
	// discrepancies. DoorAnomalies are the forced, held-open and
	// opened-when-shut doors.
	Alarms        []AlarmItem `json:"alarms"`
	DoorAnomalies []AlarmItem `json:"door_anomalies"`
	Checks        Checks      `json:"checks"`
	// Counts are the landings' counts in the shift, and Rolls the rolls
	// signed in it, oldest first, struck ones marked.
	Counts    []CountItem    `json:"counts"`
	Rolls     []RollItem     `json:"rolls"`
	WalkTests []WalkTestItem `json:"walk_tests"`
	// Faults are the wing's inputs still faulted at the shift's end.
	Faults []Fault `json:"faults"`
	// OpenItems are what the shift hands over, each with its owner.
	OpenItems []OpenItem `json:"open_items"`
	// Corrections made in the shift, each with the record it struck.
	Corrections []StruckRecord `json:"corrections"`
	Figures     Figures        `json:"figures"`
	// Digest is the hex SHA-256 of the draft's JSON without it: what the
	// outgoing officer signs as reviewed.
	Digest string `json:"digest"`
}

// Checks are a shift's observation checks.
type Checks struct {
	// Done counts the checks recorded (struck ones left out), AtDoor
	// those proven at the cell door.
	Done   int `json:"done"`
	AtDoor int `json:"at_door"`
	// Records are every check, oldest first; Late those recorded after
	// they were due, Flagged those with a plausibility flag.
	Records []CheckItem `json:"records"`
	Late    []CheckItem `json:"late"`
	Flagged []CheckItem `json:"flagged"`
	// Missed are the due times that passed without a check (each raised
	// an overdue alarm).
	Missed []Missed `json:"missed"`
}

// Missed is a due time that passed without a check.
type Missed struct {
	Cell  string    `json:"cell"`
	Due   time.Time `json:"due"`
	Alarm event.ID  `json:"alarm"`
	// Checked is when the check came at last, zero when it had not by
	// the draft.
	Checked time.Time `json:"checked,omitzero"`
}

// CountItem is a landing's count, struck through when corrected.
type CountItem struct {
	wing.Count
	Struck *wing.Correction `json:"struck,omitempty"`
}

// RollItem is a signed roll, struck through when corrected.
type RollItem struct {
	wing.RollSign
	Struck *wing.Correction `json:"struck,omitempty"`
}

// WalkTestItem is a walk test run in the shift.
type WalkTestItem struct {
	Started time.Time `json:"started"`
	By      string    `json:"by"`
	Until   time.Time `json:"until"`
	// Ended is when it ended, zero while it ran at the shift's end.
	Ended   time.Time `json:"ended,omitzero"`
	Landing string    `json:"landing,omitempty"`
	Points  []string  `json:"points,omitempty"`
	Proven  int       `json:"proven"`
}

// Fault is an input still faulted.
type Fault struct {
	Input  string    `json:"input"`
	Fault  string    `json:"fault"`
	Detail string    `json:"detail,omitempty"`
	Since  time.Time `json:"since"`
}

// The kinds of open item.
const (
	OpenAlarm        = "alarm"
	OpenFault        = "fault"
	OpenOverdueCheck = "overdue-check"
	OpenOutOfWing    = "out-of-wing"
)

// OpenItem is something the shift hands over. Its Owner is the officer
// who last acted on it, or OwnerInCharge.
type OpenItem struct {
	What    string    `json:"what"` // OpenAlarm, OpenFault, OpenOverdueCheck, OpenOutOfWing
	Subject string    `json:"subject"`
	Detail  string    `json:"detail"`
	Since   time.Time `json:"since"`
	Owner   string    `json:"owner"`
	Ref     event.ID  `json:"ref,omitzero"` // the alarm, for an alarm
}

// OwnerInCharge owns an open item no officer has acted on: the officer in
// charge of the wing.
const OwnerInCharge = "officer-in-charge"

// StruckRecord is a correction and the record it struck.
type StruckRecord struct {
	Correction wing.Correction `json:"correction"`
	Record     event.Event     `json:"record"`
}

// isDoorAnomaly reports whether an alarm's point kind is a door's.
func isDoorAnomaly(kind string) bool {
	switch kind {
	case wing.DoorForced, wing.DoorHeldOpen, wing.DoorOpenedInLockdown, wing.DoorOpenedAtNight:
		return true
	}
	return false
}

// Draft drafts the handover of the wing's shift from..to; a shift not
// yet over is drafted as it stands now.
func (r *Room) Draft(ctx context.Context, from, to time.Time) (Draft, error) {
	from, to, end, err := r.checkRange(from, to)
	if err != nil {
		return Draft{}, err
	}
	id := r.cfg.Wing.ID
	evs, err := r.events(ctx, event.Query{Wing: id, From: from, To: to})
	if err != nil {
		return Draft{}, err
	}
	d := Draft{Wing: id, From: from, To: to}
	var (
		alarms      []AlarmItem
		checks      []wing.Check
		corrections []wing.Correction
		walk        *WalkTestItem
	)
	r.cfg.Read(func(s *wing.State) {
		for _, e := range evs {
			switch e.Kind {
			case event.AlarmRaised:
				a := alarmItem(s.Alarms[e.ID()])
				alarms = append(alarms, a)
				switch {
				case a.PointKind == wing.CheckOverdue:
					m := Missed{Cell: a.Point, Alarm: a.ID}
					m.Due, _ = time.Parse(time.RFC3339, e.Data["due"])
					if a.Resolved != nil && a.Outcome == wing.OutcomeCheckRecorded {
						m.Checked = a.Resolved.At
					}
					d.Checks.Missed = append(d.Checks.Missed, m)
				case isDoorAnomaly(a.PointKind):
					d.DoorAnomalies = append(d.DoorAnomalies, a)
				default:
					d.Alarms = append(d.Alarms, a)
				}
			case event.ObservationChecked:
				c := CheckItem{Check: wing.CheckFromEvent(e), Struck: struck(s, e.ID())}
				d.Checks.Records = append(d.Checks.Records, c)
				if c.Struck != nil {
					continue
				}
				checks = append(checks, c.Check)
				d.Checks.Done++
				if c.How == wing.CheckedAtDoor {
					d.Checks.AtDoor++
				}
				if c.Late {
					d.Checks.Late = append(d.Checks.Late, c)
				}
				if c.Flagged() {
					d.Checks.Flagged = append(d.Checks.Flagged, c)
				}
			case event.RollCounted:
				d.Counts = append(d.Counts, CountItem{Count: wing.CountFromEvent(e), Struck: struck(s, e.ID())})
			case event.RollSigned:
				rs := RollItem{Struck: struck(s, e.ID())}
				for _, x := range s.RollSigns[id] {
					if x.ID == e.ID() {
						rs.RollSign = x
					}
				}
				if rs.ID == (event.ID{}) { // no longer among the latest the fold keeps
					rs.RollSign = wing.RollSign{ID: e.ID(), Wing: id, By: e.Actor, At: e.Wall}
				}
				d.Rolls = append(d.Rolls, rs)
			case event.WalkTestStarted:
				if walk != nil {
					d.WalkTests = append(d.WalkTests, *walk)
				}
				walk = &WalkTestItem{Started: e.Wall, By: e.Actor, Landing: e.Data["landing"]}
				walk.Until, _ = time.Parse(time.RFC3339, e.Data["until"])
				if p := e.Data["points"]; p != "" {
					walk.Points = strings.Split(p, ",")
				}
			case event.InputProven:
				if walk != nil {
					walk.Proven++
				}
			case event.WalkTestEnded:
				if walk != nil {
					walk.Ended = e.Wall
					d.WalkTests = append(d.WalkTests, *walk)
					walk = nil
				}
			case event.RecordCorrected:
				if c, ok := wing.CorrectionFromEvent(e); ok {
					corrections = append(corrections, c)
				}
			}
		}
		d.Faults, d.OpenItems = r.stillOpen(s, end)
	})
	if walk != nil {
		d.WalkTests = append(d.WalkTests, *walk)
	}
	for _, c := range corrections {
		rec, err := r.cfg.Store.Get(c.Record)
		if err != nil {
			return Draft{}, fmt.Errorf("shift: the record %s that a correction struck: %w", c.Record, err)
		}
		d.Corrections = append(d.Corrections, StruckRecord{Correction: c, Record: rec.Event})
	}
	d.Figures = figures(id, from, to, end, alarms, checks)
	d.Digest, err = d.digest()
	return d, err
}

// stillOpen lists the wing's inputs faulted and what the shift hands
// over at its end: active alarms, faults, overdue checks and prisoners
// out of the wing.
func (r *Room) stillOpen(s *wing.State, end time.Time) ([]Fault, []OpenItem) {
	id := r.cfg.Wing.ID
	var faults []Fault
	var items []OpenItem
	for _, a := range s.ActiveAlarms() {
		if a.ID.Wing != id || a.PointKind == wing.CheckOverdue {
			continue
		}
		it := alarmItem(a)
		owner := OwnerInCharge
		switch {
		case a.Attended != nil && a.Attended.By != event.SystemActor:
			owner = a.Attended.By
		case a.Acknowledged != nil:
			owner = a.Acknowledged.By
		}
		detail := a.PointKind
		if it.Acknowledged == nil {
			detail += ", not acknowledged"
		}
		items = append(items, OpenItem{What: OpenAlarm, Subject: a.Point, Detail: detail, Since: it.Raised, Owner: owner, Ref: a.ID})
	}
	for _, in := range r.inputs() {
		if f, ok := s.Inputs[in]; ok && f.Faulted {
			faults = append(faults, Fault{Input: in, Fault: f.Fault, Detail: f.Detail, Since: f.Since.UTC()})
			items = append(items, OpenItem{What: OpenFault, Subject: in, Detail: f.Fault, Since: f.Since.UTC(), Owner: OwnerInCharge})
		}
	}
	for _, c := range s.ChecksDue(id, end) {
		if !c.Overdue {
			continue
		}
		owner := OwnerInCharge
		if c.Last != nil {
			owner = c.Last.By
		}
		items = append(items, OpenItem{What: OpenOverdueCheck, Subject: c.Cell, Detail: "due " + c.At.UTC().Format("15:04"), Since: c.At.UTC(), Owner: owner})
	}
	for _, d := range r.cfg.Wing.Cells("") {
		if roll, ok := s.Roll[d.ID]; ok && roll.Out > 0 {
			items = append(items, OpenItem{What: OpenOutOfWing, Subject: d.ID, Detail: fmt.Sprintf("%d out: %s", roll.Out, roll.Reason),
				Since: roll.Since.UTC(), Owner: roll.By})
		}
	}
	slices.SortStableFunc(items, func(a, b OpenItem) int { return a.Since.Compare(b.Since) })
	return faults, items
}

// inputs lists the ids of the wing's inputs, in configuration order.
func (r *Room) inputs() []string {
	w := r.cfg.Wing
	var out []string
	for _, d := range w.Doors {
		out = append(out, d.ID)
		if d.Lock != nil {
			out = append(out, d.ID+wing.LockSuffix)
		}
	}
	for _, p := range w.AlarmPoints {
		out = append(out, p.ID)
		if p.Reset != nil {
			out = append(out, p.ID+wing.ResetSuffix)
		}
	}
	for _, sn := range w.Sensors {
		out = append(out, sn.ID)
	}
	return out
}

// digest returns the hex SHA-256 of the draft's JSON without its digest.
func (d Draft) digest() (string, error) {
	d.Digest = ""
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("shift: the draft's digest: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
