package recording

import (
	"context"
	"fmt"
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
)

// input is what the rules know of one input: its role, and what it
// last submitted, so that it records changes, not repeats, even before
// they are folded.
type input struct {
	id    string // input id: door id, "DOOR#lock", alarm point id
	role  inputRole
	door  string // the door, for door and lock contacts
	point config.AlarmPoint

	known  bool // a state has been recorded
	active bool // door open, lock locked, button pressed
	fault  string

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
	rec    *Recorder
	wing   config.Wing
	inputs map[string]*input
}

func newRules(rec *Recorder) *rules {
	r := &rules{rec: rec, wing: rec.cfg.Wing, inputs: map[string]*input{}}
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
		in := &input{id: d.ID, role: doorContact, door: d.ID}
		if st, ok := s.Doors[d.ID]; ok {
			in.known, in.active = true, st.Open
		}
		add(in, d.Input)
		if d.Lock != nil {
			lock := &input{id: d.ID + wing.LockSuffix, role: lockContact, door: d.ID}
			if st, ok := s.Locks[d.ID]; ok {
				lock.known, lock.active = true, st.Locked
			}
			add(lock, *d.Lock)
		}
	}
	for _, p := range r.wing.AlarmPoints {
		add(&input{id: p.ID, role: alarmButton, point: p, known: true}, p.Input) // buttons rest released
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

func (r *rules) reading(ctx context.Context, in *input, rd sensors.Reading) {
	if rd.Fault != "" {
		r.setFault(ctx, in, rd.Fault, rd.Detail)
		in.known = false // after a fault, the next state is recorded whatever it is
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
	pressed := in.role == alarmButton && rd.Active && !in.active
	in.known, in.active = true, rd.Active
	walk, walking := r.walkTest(r.rec.cfg.Clock.Now())
	if walking && (changed && in.role != alarmButton || pressed) && in.proven != walk.Key {
		in.proven = walk.Key
		r.submit(ctx, event.Draft{Kind: event.InputProven, Subject: in.id, Actor: walk.By})
	}
	switch in.role {
	case doorContact:
		if changed {
			r.submit(ctx, event.Draft{Kind: map[bool]event.Kind{true: event.DoorOpened, false: event.DoorClosed}[rd.Active], Subject: in.door})
			r.checkForced(ctx, in.door)
		}
	case lockContact:
		if changed {
			r.submit(ctx, event.Draft{Kind: map[bool]event.Kind{true: event.DoorLocked, false: event.DoorUnlocked}[rd.Active], Subject: in.door})
			r.checkForced(ctx, in.door)
		}
	case alarmButton:
		// A walk test proves cell calls without raising them; a staff
		// alarm always raises: duress is never suppressed.
		if pressed && !(walking && in.point.Kind == config.CellCall) && r.rec.claimRaise(in.id) {
			r.submit(ctx, event.Draft{Kind: event.AlarmRaised, Subject: in.id,
				Data: map[string]string{"point_kind": string(in.point.Kind), "priority": strconv.Itoa(in.point.Priority)}})
		}
	}
}

// checkForced raises a door-forced alarm when a door reads open while its
// lock reads locked: the door was forced, or one of its contacts lies.
func (r *rules) checkForced(ctx context.Context, door string) {
	d, lock := r.inputs[door], r.inputs[door+wing.LockSuffix]
	if lock == nil || !d.known || !lock.known || !d.active || !lock.active {
		return
	}
	if r.rec.claimRaise(door) {
		r.submit(ctx, event.Draft{Kind: event.AlarmRaised, Subject: door,
			Data: map[string]string{"point_kind": wing.DoorForced, "priority": "1"}})
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

// tick runs the checks that depend on time passing rather than on edges.
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
	}
	if w, ok := r.walkTestRecord(); ok && w.Active && !now.Before(w.Until) {
		r.submit(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: r.wing.ID})
	}
}

// walkTestRecord returns this wing's walk test as folded, if there was one.
func (r *rules) walkTestRecord() (w wing.WalkTest, ok bool) {
	r.rec.cfg.Read(func(s *wing.State) { w, ok = s.WalkTests[r.wing.ID] })
	return w, ok
}

// walkTest returns this wing's walk test if it is running at now.
func (r *rules) walkTest(now time.Time) (wing.WalkTest, bool) {
	w, ok := r.walkTestRecord()
	return w, ok && w.Running(now)
}
