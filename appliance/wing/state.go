package wing

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// State is the folded picture of one or more wings. The zero value is not
// ready: use New.
type State struct {
	Doors      map[string]Door      `json:"doors"`
	Locks      map[string]Lock      `json:"locks"`
	Alarms     map[event.ID]Alarm   `json:"alarms"`
	Inputs     map[string]Input     `json:"inputs"`
	Proven     map[string]Proof     `json:"proven"`
	Conditions map[string]Condition `json:"conditions"` // by "sensor/condition"
	WalkTests  map[string]WalkTest  `json:"walk_tests"` // by wing
	Wings      map[string]WingClock `json:"wings"`
	// Lockdown is the site's lockdown as its declarations and ends were
	// recorded: the latest wins.
	Lockdown SiteLockdown `json:"lockdown"`
	// Regimes is each wing's latest regime set by a supervisor, by wing.
	Regimes map[string]RegimeSet `json:"regimes"`

	// The officer's shift. Observations is each cell's plan, latest
	// checks and presence at the door, by cell (NextDue, LastCheck and
	// PendingPresence read them); CheckedBy each officer's latest check,
	// for the plausibility of the next. Roll is each cell's expected
	// roll; Counts each landing's latest counts, by LandingID; RollSigns
	// each wing's latest signed rolls (RollCorrect). Handovers are each
	// wing's latest handovers, newest first. Struck is every record a
	// correction has struck, by the struck record's ID.
	Observations map[string]Observation  `json:"observations"`
	CheckedBy    map[string]CheckRef     `json:"checked_by"`
	Roll         map[string]ExpectedRoll `json:"roll"`
	Counts       map[string][]Count      `json:"counts"`
	RollSigns    map[string][]RollSign   `json:"roll_signs"`
	Handovers    map[string][]Handover   `json:"handovers"`
	Struck       map[event.ID]Correction `json:"struck"`

	// active indexes the active alarms by point: every screen asks for
	// the alarms on each door and point it shows at every change. Its
	// slices are replaced, never changed in place, so that a clone may
	// share them. nil in a state that has neither folded nor been cloned
	// (one decoded from JSON): the alarms are then searched instead.
	active map[string][]event.ID
}

// Lock is a door's last reported lock (bolt) position.
type Lock struct {
	Door   string    `json:"door"`
	Locked bool      `json:"locked"`
	Since  time.Time `json:"since"`
	Key    event.Key `json:"key"`
}

// Proof is when an input was last seen to work in a walk test.
type Proof struct {
	Input string    `json:"input"`
	By    string    `json:"by"`
	At    time.Time `json:"at"`
	Key   event.Key `json:"key"`
}

// Condition is an environment sensor's state against one of its limits.
type Condition struct {
	Sensor    string    `json:"sensor"`
	Condition string    `json:"condition"`
	Active    bool      `json:"active"`
	Value     string    `json:"value"`
	Since     time.Time `json:"since"`
	Key       event.Key `json:"key"`
}

// WalkTest is a wing's walk test, running or last run.
type WalkTest struct {
	Wing   string    `json:"wing"`
	Active bool      `json:"active"`
	By     string    `json:"by"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"` // when a running walk test ends by itself
	// Points are the inputs it covers (a door's id covers its lock
	// contact too); none means every input of the wing.
	Points []string `json:"points,omitempty"`
	// Landing names the landing the points were chosen by, if so.
	Landing string    `json:"landing,omitempty"`
	Key     event.Key `json:"key"`
}

// WalkTestPoints chooses what a walk test covers: the whole wing (zero),
// one landing, or a list of inputs (a door's id covers its lock contact).
type WalkTestPoints struct {
	Landing string
	Points  []string
}

// Running reports whether the walk test is on at now.
func (w WalkTest) Running(now time.Time) bool { return w.Active && now.Before(w.Until) }

// Covers reports whether the walk test covers the input id (a door's
// lock contact, "DOOR#lock", is covered with its door).
func (w WalkTest) Covers(input string) bool {
	if len(w.Points) == 0 {
		return true
	}
	door, _ := strings.CutSuffix(input, LockSuffix)
	return slices.Contains(w.Points, input) || slices.Contains(w.Points, door)
}

// Door is a door's last reported position.
type Door struct {
	ID    string    `json:"id"`
	Wing  string    `json:"wing"`
	Open  bool      `json:"open"`
	Since time.Time `json:"since"`
	Key   event.Key `json:"key"`
}

// Alarm is one raising of an alarm point, from raised to resolved:
// raised, acknowledged (who, when), attended (who, when, where), resolved
// with an outcome, or closed remotely by a supervisor with a reason.
// Each step's first record wins, wherever and in whatever order the
// records arrive.
type Alarm struct {
	ID           event.ID    `json:"id"`
	Point        string      `json:"point"`
	PointKind    string      `json:"point_kind"`
	Priority     int         `json:"priority"`
	Raised       bool        `json:"raised"` // false while only later steps have arrived
	RaisedAt     time.Time   `json:"raised_at"`
	RaisedKey    event.Key   `json:"raised_key"`
	Acknowledged *Action     `json:"acknowledged,omitempty"`
	Attended     *Attendance `json:"attended,omitempty"`
	Resolved     *Resolution `json:"resolved,omitempty"`
	// Escalations are the alarm's escalations, at most one of each
	// reason, by reason.
	Escalations []Escalation `json:"escalations,omitempty"`
}

// Active reports whether the alarm has been raised and not yet resolved.
func (a Alarm) Active() bool { return a.Raised && a.Resolved == nil }

// Escalated reports whether the alarm has escalated for reason.
func (a Alarm) Escalated(reason string) bool {
	return slices.ContainsFunc(a.Escalations, func(e Escalation) bool { return e.Reason == reason })
}

// Input is the health of one input (door contact or alarm point).
type Input struct {
	ID      string    `json:"id"`
	Faulted bool      `json:"faulted"`
	Fault   string    `json:"fault,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Since   time.Time `json:"since"`
	Key     event.Key `json:"key"`
}

// WingClock is what the state knows of one wing's recording.
type WingClock struct {
	Wing      string    `json:"wing"`
	LastSeq   uint64    `json:"last_seq"`
	LastEvent time.Time `json:"last_event"`
	Running   bool      `json:"running"` // started and not cleanly stopped
	// ClockTrusted is false when the wing's latest event was stamped by an
	// unset or stepped-back wall clock.
	ClockTrusted bool      `json:"clock_trusted"`
	Key          event.Key `json:"key"`
	// Lifecycle is the key of the latest started or stopped event.
	Lifecycle event.Key `json:"lifecycle"`
}

// New returns an empty state.
func New() *State {
	return &State{
		Doors:      map[string]Door{},
		Locks:      map[string]Lock{},
		Alarms:     map[event.ID]Alarm{},
		active:     map[string][]event.ID{},
		Inputs:     map[string]Input{},
		Proven:     map[string]Proof{},
		Conditions: map[string]Condition{},
		WalkTests:  map[string]WalkTest{},
		Wings:      map[string]WingClock{},
		Regimes:    map[string]RegimeSet{},

		Observations: map[string]Observation{},
		CheckedBy:    map[string]CheckRef{},
		Roll:         map[string]ExpectedRoll{},
		Counts:       map[string][]Count{},
		RollSigns:    map[string][]RollSign{},
		Handovers:    map[string][]Handover{},
		Struck:       map[event.ID]Correction{},
	}
}

// Fold applies one event. Events of kinds it does not know are ignored
// (a newer wing may record kinds this build has never heard of).
func (s *State) Fold(e event.Event) {
	k := e.Key()
	s.foldWing(e, k)
	switch e.Kind {
	case event.DoorOpened, event.DoorClosed:
		if d, ok := s.Doors[e.Subject]; !ok || k.Compare(d.Key) > 0 {
			s.Doors[e.Subject] = Door{ID: e.Subject, Wing: e.Wing, Open: e.Kind == event.DoorOpened, Since: e.Wall, Key: k}
		}
	case event.AlarmRaised:
		a := s.Alarms[e.ID()]
		a.ID, a.Point, a.Raised, a.RaisedAt, a.RaisedKey = e.ID(), e.Subject, true, e.Wall, k
		a.PointKind = e.Data["point_kind"]
		a.Priority, _ = strconv.Atoi(e.Data["priority"])
		s.setAlarm(a)
	case event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved, event.AlarmClosedRemotely, event.AlarmCleared, event.AlarmEscalated:
		s.foldAlarmStep(e, k)
	case event.DoorLocked, event.DoorUnlocked:
		if l, ok := s.Locks[e.Subject]; !ok || k.Compare(l.Key) > 0 {
			s.Locks[e.Subject] = Lock{Door: e.Subject, Locked: e.Kind == event.DoorLocked, Since: e.Wall, Key: k}
		}
	case event.InputProven:
		if p, ok := s.Proven[e.Subject]; !ok || k.Compare(p.Key) > 0 {
			s.Proven[e.Subject] = Proof{Input: e.Subject, By: e.Actor, At: e.Wall, Key: k}
		}
	case event.ClimateCondition:
		id := e.Subject + "/" + e.Data["condition"]
		if c, ok := s.Conditions[id]; !ok || k.Compare(c.Key) > 0 {
			s.Conditions[id] = Condition{Sensor: e.Subject, Condition: e.Data["condition"], Active: e.Data["active"] == "true",
				Value: e.Data["value"], Since: e.Wall, Key: k}
		}
	case event.WalkTestStarted, event.WalkTestEnded:
		if w, ok := s.WalkTests[e.Wing]; !ok || k.Compare(w.Key) > 0 {
			w := WalkTest{Wing: e.Wing, Active: e.Kind == event.WalkTestStarted, By: e.Actor, Since: e.Wall, Key: k}
			if w.Active {
				w.Until, _ = time.Parse(time.RFC3339, e.Data["until"])
				w.Points = PointsOf(e.Data)
				w.Landing = e.Data["landing"]
			}
			s.WalkTests[e.Wing] = w
		}
	case event.LockdownDeclared, event.LockdownEnded:
		if k.Compare(s.Lockdown.Key) > 0 {
			s.Lockdown = SiteLockdown{Lockdown: Lockdown{Active: e.Kind == event.LockdownDeclared, Reason: e.Data["reason"], By: e.Actor, Since: e.Wall}, Key: k}
		}
	case event.RegimeSet:
		if r, ok := s.Regimes[e.Wing]; !ok || k.Compare(r.Key) > 0 {
			if regime, err := ParseRegime(e.Data["regime"]); err == nil {
				s.Regimes[e.Wing] = RegimeSet{Wing: e.Wing, Regime: regime, By: e.Actor, Since: e.Wall, Key: k}
			}
		}
	case event.ObservationPlanSet, event.ObservationPlanEnded, event.ObservationChecked, event.ObservationPresence:
		s.foldObservation(e, k)
	case event.RollExpectedSet, event.RollCounted, event.RollSigned:
		s.foldRoll(e, k)
	case event.HandoverSigned, event.HandoverRead:
		s.foldHandover(e, k)
	case event.RecordCorrected:
		s.foldCorrection(e)
	case event.InputFault, event.InputRestored:
		if in, ok := s.Inputs[e.Subject]; !ok || k.Compare(in.Key) > 0 {
			s.Inputs[e.Subject] = Input{
				ID: e.Subject, Faulted: e.Kind == event.InputFault,
				Fault: e.Data["fault"], Detail: e.Data["detail"], Since: e.Wall, Key: k,
			}
		}
	}
}

func (s *State) foldWing(e event.Event, k event.Key) {
	w, ok := s.Wings[e.Wing]
	if !ok || k.Compare(w.Key) > 0 {
		w.Wing, w.LastEvent, w.ClockTrusted, w.Key = e.Wing, e.Wall, e.ClockTrusted, k
	}
	w.LastSeq = max(w.LastSeq, e.Seq)
	if e.Kind == event.ApplianceStarted || e.Kind == event.ApplianceStopped {
		// Whether the wing runs is decided by its latest lifecycle event,
		// which the last-event key alone cannot tell apart from others.
		if w.Lifecycle == (event.Key{}) || k.Compare(w.Lifecycle) > 0 {
			w.Lifecycle = k
			w.Running = e.Kind == event.ApplianceStarted
		}
	}
	s.Wings[e.Wing] = w
}

// Clone returns a deep copy, safe to read while s goes on folding.
func (s *State) Clone() *State {
	c := &State{
		Doors:      maps.Clone(s.Doors),
		Locks:      maps.Clone(s.Locks),
		Alarms:     make(map[event.ID]Alarm, len(s.Alarms)),
		Inputs:     maps.Clone(s.Inputs),
		Proven:     maps.Clone(s.Proven),
		Conditions: maps.Clone(s.Conditions),
		WalkTests:  maps.Clone(s.WalkTests),
		Wings:      maps.Clone(s.Wings),
		Lockdown:   s.Lockdown,
		Regimes:    maps.Clone(s.Regimes),
		// The shift's values hold slices and pointers that the fold
		// replaces, never changes in place: sharing them is safe.
		Observations: maps.Clone(s.Observations),
		CheckedBy:    maps.Clone(s.CheckedBy),
		Roll:         maps.Clone(s.Roll),
		Counts:       maps.Clone(s.Counts),
		RollSigns:    maps.Clone(s.RollSigns),
		Handovers:    maps.Clone(s.Handovers),
		Struck:       maps.Clone(s.Struck),
		active:       maps.Clone(s.active),
	}
	if c.active == nil {
		c.active = activeIndex(s.Alarms)
	}
	for id, a := range s.Alarms {
		if a.Acknowledged != nil {
			ack := *a.Acknowledged
			a.Acknowledged = &ack
		}
		if a.Attended != nil {
			att := *a.Attended
			a.Attended = &att
		}
		if a.Resolved != nil {
			res := *a.Resolved
			a.Resolved = &res
		}
		a.Escalations = slices.Clone(a.Escalations)
		c.Alarms[id] = a
	}
	return c
}
