package appliance

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
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

// input is what the recorder knows of one input: its role, and what it
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

// recorder turns readings into events. It submits without waiting for
// each fsync, so a burst of edges shares transactions, and in order, so a
// door's open and close are never swapped. Every decision it takes from
// the folded state it also remembers itself, because what it submitted a
// moment ago may not be folded yet.
type recorder struct {
	a      *Appliance
	inputs map[string]*input
	waits  chan submitted
}

type submitted struct {
	draft   event.Draft
	pending *store.Pending
}

func newRecorder(a *Appliance) *recorder {
	r := &recorder{a: a, inputs: map[string]*input{}}
	s := a.State()
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
	for _, d := range a.layout.Doors {
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
	for _, p := range a.layout.AlarmPoints {
		add(&input{id: p.ID, role: alarmButton, point: p, known: true}, p.Input) // buttons rest released
	}
	return r
}

func (r *recorder) run(ctx context.Context, readings <-chan sensors.Reading) {
	r.waits = make(chan submitted, 1024)
	var waiter sync.WaitGroup
	waiter.Go(func() {
		for w := range r.waits {
			if _, err := w.pending.Wait(); err != nil {
				r.a.failed(w.draft, err)
			}
		}
	})
	defer func() {
		close(r.waits)
		waiter.Wait()
	}()
	tick := r.a.cfg.Clock.NewTicker(time.Second)
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

func (r *recorder) submit(ctx context.Context, d event.Draft) {
	if d.Actor == "" {
		d.Actor = event.SystemActor
	}
	if r.a.queueBehindHeld(d) {
		return
	}
	p, err := r.a.store.Submit(ctx, d)
	if err != nil {
		r.a.failed(d, err)
		return
	}
	r.waits <- submitted{d, p}
}

func (r *recorder) reading(ctx context.Context, in *input, rd sensors.Reading) {
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
	walk, walking := r.a.walkTest(r.a.cfg.Clock.Now())
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
		if pressed && !(walking && in.point.Kind == config.CellCall) && r.a.claimRaise(in.id) {
			r.submit(ctx, event.Draft{Kind: event.AlarmRaised, Subject: in.id,
				Data: map[string]string{"point_kind": string(in.point.Kind), "priority": strconv.Itoa(in.point.Priority)}})
		}
	}
}

// checkForced raises a door-forced alarm when a door reads open while its
// lock reads locked: the door was forced, or one of its contacts lies.
func (r *recorder) checkForced(ctx context.Context, door string) {
	d, lock := r.inputs[door], r.inputs[door+wing.LockSuffix]
	if lock == nil || !d.known || !lock.known || !d.active || !lock.active {
		return
	}
	if r.a.claimRaise(door) {
		r.submit(ctx, event.Draft{Kind: event.AlarmRaised, Subject: door,
			Data: map[string]string{"point_kind": wing.DoorForced, "priority": "1"}})
	}
}

// setFault records a fault unless the input already has that one.
func (r *recorder) setFault(ctx context.Context, in *input, fault, detail string) {
	if in.fault == fault {
		return
	}
	in.fault = fault
	r.submit(ctx, event.Draft{Kind: event.InputFault, Subject: in.id, Data: map[string]string{"fault": fault, "detail": detail}})
}

func (r *recorder) restore(ctx context.Context, in *input) {
	if in.fault == "" {
		return
	}
	in.fault = ""
	r.submit(ctx, event.Draft{Kind: event.InputRestored, Subject: in.id})
}

// health applies a flapping or stuck verdict: fault when it starts,
// restore when it ends (if that is still the input's fault).
func (r *recorder) health(ctx context.Context, in *input, fault, detail string) {
	switch {
	case fault != "" && in.fault == "":
		r.setFault(ctx, in, fault, detail)
	case fault == "" && (in.fault == supervise.FaultFlapping || in.fault == supervise.FaultStuck):
		r.restore(ctx, in)
	}
}

// tick runs the checks that depend on time passing rather than on edges.
func (r *recorder) tick(ctx context.Context, now time.Time) {
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
	if w, ok := r.a.walkTestRecord(); ok && w.Active && !now.Before(w.Until) {
		r.submit(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: r.a.layout.ID})
	}
}
