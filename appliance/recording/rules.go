package recording

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
	"wingnode/sensors"
	"wingnode/sensors/supervise"
)

// inputRole says what an input is for.
type inputRole int

const (
	doorContact inputRole = iota + 1
	lockContact
	alarmButton
	resetSwitch // a cell call's reset key switch at the cell door
)

// input is what the rules know of one input: its role, and what it
// last submitted, so that it records changes, not repeats, even before
// they are folded.
type input struct {
	id    string // input id: door id, "DOOR#lock", alarm point id, "POINT#reset"
	role  inputRole
	door  config.Door       // for door and lock contacts
	point config.AlarmPoint // for alarm buttons and reset switches

	known     bool      // a state has been recorded
	active    bool      // door open, lock locked, button pressed, key turned
	openSince time.Time // a door contact: when it last opened, as read
	heldOpen  bool      // a door contact: this opening has raised its held-open alarm
	fault     string

	chatter *supervise.Chatter // plain GPIO inputs only
	stuck   *supervise.Stuck   // inputs configured with stuck_after
	proven  event.Key          // the walk test this input was last proven in
}

// rules are the input rules: they turn readings into events, through
// the recorder's write path, in order, so a door's open and close are
// never swapped. Every decision they take from the folded state they also
// remember themselves, because what they recorded a moment ago may not be
// folded yet.
type rules struct {
	rec       *Recorder
	wing      config.Wing
	inputs    map[string]*input
	escalated map[string]bool   // "alarm/reason" escalations recorded, before they fold
	resolved  map[event.ID]bool // overdue checks' alarms resolved, before they fold
}

func newRules(rec *Recorder) *rules {
	r := &rules{rec: rec, wing: rec.cfg.Wing, inputs: map[string]*input{}, escalated: map[string]bool{}, resolved: map[event.ID]bool{}}
	var s *wing.State
	rec.cfg.Read(func(st *wing.State) { s = st.Clone() })
	add := func(in *input, cfg config.Input) {
		if cfg.ADC == nil {
			in.chatter = &supervise.Chatter{}
		}
		if cfg.StuckAfter > 0 {
			in.stuck = &supervise.Stuck{MaxQuiet: cfg.StuckAfter}
		}
		if f := s.Inputs[in.id]; f.Faulted {
			in.fault = f.Fault
		}
		r.inputs[in.id] = in
	}
	for _, d := range r.wing.Doors {
		in := &input{id: d.ID, role: doorContact, door: d}
		if st, ok := s.Doors[d.ID]; ok {
			in.known, in.active = true, st.Open
			if st.Open {
				in.openSince = st.Since
				_, in.heldOpen = s.ActiveAlarmOf(d.ID, wing.DoorHeldOpen)
			}
		}
		add(in, d.Input)
		if d.Lock != nil {
			lock := &input{id: d.ID + wing.LockSuffix, role: lockContact, door: d}
			if st, ok := s.Locks[d.ID]; ok {
				lock.known, lock.active = true, st.Locked
			}
			add(lock, *d.Lock)
		}
	}
	for _, p := range r.wing.AlarmPoints {
		add(&input{id: p.ID, role: alarmButton, point: p, known: true}, p.Input) // buttons rest released
		if p.Reset != nil {
			add(&input{id: p.ID + wing.ResetSuffix, role: resetSwitch, point: p, known: true}, *p.Reset)
		}
	}
	return r
}

func (r *rules) run(ctx context.Context, readings <-chan sensors.Reading) {
	tick := r.rec.cfg.Clock.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.Chan():
			r.tick(ctx, now)
		case rd := <-readings:
			if in := r.inputs[rd.Point]; in != nil {
				r.reading(ctx, in, rd)
			}
		}
	}
}

func (r *rules) submit(ctx context.Context, d event.Draft) { r.rec.Record(ctx, d) }

// raise raises an alarm of kind on point with priority, unless one is
// active or on its way.
func (r *rules) raise(ctx context.Context, point, kind string, priority int) {
	r.raiseWith(ctx, point, kind, priority, map[string]string{})
}

// raiseWith is raise with more data fields.
func (r *rules) raiseWith(ctx context.Context, point, kind string, priority int, data map[string]string) {
	if r.rec.claimRaise(point, kind) {
		data["point_kind"], data["priority"] = kind, strconv.Itoa(priority)
		r.submit(ctx, event.Draft{Kind: event.AlarmRaised, Subject: point, Data: data})
	}
}

func (r *rules) reading(ctx context.Context, in *input, rd sensors.Reading) {
	if rd.Fault != "" {
		r.setFault(ctx, in, rd.Fault, rd.Detail)
		in.known = false // after a fault, the next state is recorded whatever it is
		r.rec.live.forget(in.id)
		return
	}
	if in.fault != "" && in.fault != supervise.FaultFlapping && in.fault != supervise.FaultStuck {
		r.restore(ctx, in)
	}
	if in.chatter != nil {
		if fault, changed := in.chatter.Observe(rd.At); changed {
			r.health(ctx, in, fault, "the contact changed more than 10 times in 10 seconds: check its wiring and mounting")
		}
	}
	if in.stuck != nil {
		if _, changed := in.stuck.Observe(rd.At); changed && in.fault == supervise.FaultStuck {
			r.restore(ctx, in)
		}
	}
	changed := !in.known || in.active != rd.Active
	pressed := (in.role == alarmButton || in.role == resetSwitch) && rd.Active && !in.active
	in.known, in.active = true, rd.Active
	r.rec.live.set(in.id, rd.Active)
	walk, walking := r.walkTest(r.rec.cfg.Clock.Now())
	covered := walking && walk.Covers(in.id)
	if covered && (changed && in.role != alarmButton && in.role != resetSwitch || pressed) && in.proven != walk.Key {
		in.proven = walk.Key
		r.submit(ctx, event.Draft{Kind: event.InputProven, Subject: in.id, Actor: walk.By})
	}
	switch in.role {
	case doorContact:
		if changed {
			r.submit(ctx, event.Draft{Kind: map[bool]event.Kind{true: event.DoorOpened, false: event.DoorClosed}[rd.Active], Subject: in.door.ID})
			if rd.Active {
				in.openSince, in.heldOpen = rd.At, false
				r.checkOpenedWhenShut(ctx, in.door)
			}
			r.checkForced(ctx, in.door.ID)
		}
	case lockContact:
		if changed {
			r.submit(ctx, event.Draft{Kind: map[bool]event.Kind{true: event.DoorLocked, false: event.DoorUnlocked}[rd.Active], Subject: in.door.ID})
			r.checkForced(ctx, in.door.ID)
		}
	case alarmButton:
		// A walk test proves the cell calls it covers without raising
		// them; a staff alarm always raises: duress is never suppressed.
		if pressed && !(covered && in.point.Kind == config.CellCall) {
			r.raise(ctx, in.id, string(in.point.Kind), in.point.Priority)
		}
	case resetSwitch:
		if pressed {
			r.attendAtSource(ctx, in.point, covered)
		}
	}
}

// attendAtSource records that the cell call's alarm was attended at the
// cell door: its reset key switch was turned. A turn with no call active
// is an officer's presence at the door, for a check: recorded silently
// (it raises nothing, so nothing sounds or lights); in a walk test that
// covers the switch, it is only the proof.
func (r *rules) attendAtSource(ctx context.Context, p config.AlarmPoint, walkTest bool) {
	var alarm wing.Alarm
	active := false
	r.rec.cfg.Read(func(s *wing.State) { alarm, active = s.ActiveAlarmOf(p.ID, string(config.CellCall)) })
	if !active && !walkTest {
		r.submit(ctx, event.Draft{Kind: event.ObservationPresence, Subject: p.Cell, Data: map[string]string{"point": p.ID}})
		return
	}
	if !active || alarm.Attended != nil && alarm.Attended.How == wing.AttendedAtReset {
		return
	}
	r.submit(ctx, event.Draft{Kind: event.AlarmAttended, Subject: p.ID,
		Data: map[string]string{"alarm": alarm.ID.String(), "how": wing.AttendedAtReset, "where": p.Cell}})
}

// checkForced raises a door-forced alarm when a door reads open while its
// lock reads locked: the door was forced, or one of its contacts lies.
func (r *rules) checkForced(ctx context.Context, door string) {
	d, lock := r.inputs[door], r.inputs[door+wing.LockSuffix]
	if lock == nil || !d.known || !lock.known || !d.active || !lock.active {
		return
	}
	r.raise(ctx, door, wing.DoorForced, 1)
}

// checkOpenedWhenShut raises an alarm when a door opens while the site is
// locked down (any door but an office's) or, for a cell or the exit, while
// the wing is in its night regime.
func (r *rules) checkOpenedWhenShut(ctx context.Context, d config.Door) {
	var lockdown bool
	var regime wing.Regime
	now := r.rec.cfg.Clock.Now()
	r.rec.cfg.Read(func(s *wing.State) {
		lockdown = s.Lockdown.Active
		regime = s.RegimeAt(r.wing.ID, r.wing.Schedule, now)
	})
	switch {
	case lockdown && d.Kind != config.OfficeDoor:
		r.raise(ctx, d.ID, wing.DoorOpenedInLockdown, 1)
	case regime == wing.Night && (d.Kind == config.CellDoor || d.Kind == config.ExitDoor):
		r.raise(ctx, d.ID, wing.DoorOpenedAtNight, 1)
	}
}

// setFault records a fault unless the input already has that one.
func (r *rules) setFault(ctx context.Context, in *input, fault, detail string) {
	if in.fault == fault {
		return
	}
	in.fault = fault
	r.submit(ctx, event.Draft{Kind: event.InputFault, Subject: in.id, Data: map[string]string{"fault": fault, "detail": detail}})
}

func (r *rules) restore(ctx context.Context, in *input) {
	if in.fault == "" {
		return
	}
	in.fault = ""
	r.submit(ctx, event.Draft{Kind: event.InputRestored, Subject: in.id})
}

// health applies a flapping or stuck verdict: fault when it starts,
// restore when it ends (if that is still the input's fault).
func (r *rules) health(ctx context.Context, in *input, fault, detail string) {
	switch {
	case fault != "" && in.fault == "":
		r.setFault(ctx, in, fault, detail)
	case fault == "" && (in.fault == supervise.FaultFlapping || in.fault == supervise.FaultStuck):
		r.restore(ctx, in)
	}
}

// tick runs the checks that depend on time passing rather than on edges:
// flapping and stuck inputs, doors held open, alarms that escalate,
// observation checks overdue, and a walk test running out.
func (r *rules) tick(ctx context.Context, now time.Time) {
	for _, in := range r.inputs {
		if in.chatter != nil {
			if fault, changed := in.chatter.Check(now); changed {
				r.health(ctx, in, fault, "")
			}
		}
		if in.stuck != nil {
			if fault, changed := in.stuck.Check(now); changed {
				r.health(ctx, in, fault, fmt.Sprintf("no change for longer than %s: check the contact", in.stuck.MaxQuiet))
			}
		}
		if in.role == doorContact && in.known && in.active && in.fault == "" && !in.heldOpen &&
			in.door.HeldOpen > 0 && !in.openSince.IsZero() && now.Sub(in.openSince) >= in.door.HeldOpen {
			in.heldOpen = true
			r.raise(ctx, in.door.ID, wing.DoorHeldOpen, 2)
		}
	}
	r.escalate(ctx, now)
	r.overdueChecks(ctx, now)
	if w, ok := r.walkTestRecord(); ok && w.Active && !now.Before(w.Until) {
		r.submit(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: r.wing.ID})
	}
}

// escalate records the escalation of each of this wing's alarms that has
// gone unacknowledged, or (a cell call) unattended at its door, for longer
// than the wing allows.
func (r *rules) escalate(ctx context.Context, now time.Time) {
	type due struct {
		alarm  wing.Alarm
		reason string
		after  time.Duration
	}
	var dues []due
	r.rec.cfg.Read(func(s *wing.State) {
		for _, a := range s.ActiveAlarms() {
			if a.ID.Wing != r.wing.ID {
				continue
			}
			if lim := r.wing.EscalateUnacknowledged; lim > 0 && a.Acknowledged == nil && now.Sub(a.RaisedAt) >= lim && !a.Escalated(wing.EscalatedUnacknowledged) {
				dues = append(dues, due{a, wing.EscalatedUnacknowledged, lim})
			}
			attended := a.Attended != nil && a.Attended.How == wing.AttendedAtReset
			if lim := r.wing.EscalateUnattended; lim > 0 && a.PointKind == wing.CellCall && !attended && now.Sub(a.RaisedAt) >= lim && !a.Escalated(wing.EscalatedUnattended) {
				dues = append(dues, due{a, wing.EscalatedUnattended, lim})
			}
		}
	})
	for _, d := range dues {
		key := d.alarm.ID.String() + "/" + d.reason
		if r.escalated[key] {
			continue
		}
		r.escalated[key] = true
		r.submit(ctx, event.Draft{Kind: event.AlarmEscalated, Subject: d.alarm.Point,
			Data: map[string]string{"alarm": d.alarm.ID.String(), "reason": d.reason, "after": d.after.String()}})
	}
	if len(r.escalated) > 1000 { // forget what has long been folded
		for key := range r.escalated {
			delete(r.escalated, key)
		}
	}
}

// walkTestRecord returns this wing's walk test as folded, if there was one.
func (r *rules) walkTestRecord() (w wing.WalkTest, ok bool) {
	r.rec.cfg.Read(func(s *wing.State) {
		w, ok = s.WalkTests[r.wing.ID]
		w.Points = slices.Clone(w.Points)
	})
	return w, ok
}

// walkTest returns this wing's walk test if it is running at now.
func (r *rules) walkTest(now time.Time) (wing.WalkTest, bool) {
	w, ok := r.walkTestRecord()
	return w, ok && w.Running(now)
}
