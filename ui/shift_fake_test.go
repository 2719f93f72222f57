package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/shift"
	"wingnode/appliance/wing"
)

// The fake wing's shift: the panel's rules, simplified (a check's next
// due time is half the plan's gap on, not drawn at random), recorded as
// the panel records them so that the fold and the real shift room
// (appliance/shift, over the fake's records) read them as they read the
// appliance's.

func allowFake(by roster.Actor, need roster.Role) error {
	if !roster.ValidID(by.ID) || !by.Role.Allows(need) {
		return &Refusal{Kind: ErrNotAllowed, Sentence: "this needs a signed-in " + string(need)}
	}
	return nil
}

func badInput(format string, args ...any) error {
	return &Refusal{Kind: ErrBadInput, Sentence: fmt.Sprintf(format, args...)}
}

func (f *fakeWing) cellCheck(cell string) error {
	if d, ok := f.layout.Door(cell); !ok || !isCell(d.Kind) {
		return badInput("wing A has no cell %q", cell)
	}
	return nil
}

func (f *fakeWing) read(fn func(*wing.State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.state)
}

func (f *fakeWing) SetPlan(_ context.Context, by roster.Actor, cell string, plan wing.Plan, note string) error {
	if err := allowFake(by, roster.Supervisor); err != nil {
		return err
	}
	if err := f.cellCheck(cell); err != nil {
		return err
	}
	if err := plan.Validate(); err != nil {
		return badInput("%v", err)
	}
	if f.shiftErr != nil {
		return f.shiftErr
	}
	data := plan.Data()
	wing.Due{At: f.ago(-time.Second - plan.MaxGap/2)}.Data(data)
	if note != "" {
		data["note"] = note
	}
	f.record(event.ObservationPlanSet, cell, by.ID, data)
	return nil
}

func (f *fakeWing) EndPlan(_ context.Context, by roster.Actor, cell, reason string) error {
	if err := allowFake(by, roster.Supervisor); err != nil {
		return err
	}
	if err := f.cellCheck(cell); err != nil {
		return err
	}
	on := false
	f.read(func(s *wing.State) { on = s.Observations[cell].Plan != nil })
	if on {
		f.record(event.ObservationPlanEnded, cell, by.ID, map[string]string{"reason": reason})
	}
	return nil
}

func (f *fakeWing) RecordCheck(_ context.Context, by roster.Actor, c wing.CheckEntry) (wing.Check, error) {
	if err := allowFake(by, roster.Officer); err != nil {
		return wing.Check{}, err
	}
	if err := f.cellCheck(c.Cell); err != nil {
		return wing.Check{}, err
	}
	if _, err := wing.ParseCheckOutcome(string(c.Outcome)); err != nil {
		return wing.Check{}, badInput("%v", err)
	}
	if f.shiftErr != nil {
		return wing.Check{}, f.shiftErr
	}
	now := f.ago(0)
	var (
		regime   wing.Regime
		presence wing.Presence
		atDoor   bool
		plan     *wing.PlanRecord
		due      wing.Due
	)
	f.read(func(s *wing.State) {
		regime = s.RegimeAt(f.layout.ID, f.layout.Schedule, now)
		presence, atDoor = s.PendingPresence(c.Cell, now)
		plan = s.Observations[c.Cell].Plan
		due, _ = s.NextDue(c.Cell)
	})
	call, ok := f.layout.CellCall(c.Cell)
	hasReset := ok && call.Reset != nil
	switch {
	case regime == wing.Night && !c.Outcome.IsSignOfLife() && c.Outcome != wing.NoResponse:
		return wing.Check{}, &Refusal{Sentence: "a night check needs a sign of life", Err: wing.ErrNoSignOfLife}
	case c.AtDoor && !atDoor:
		return wing.Check{}, &Refusal{Sentence: "no presence at the cell door waits", Err: wing.ErrNoPresence}
	case regime == wing.Night && hasReset && !atDoor && c.Outcome != wing.NoResponse:
		return wing.Check{}, &Refusal{Sentence: "at night this cell is checked at its door", Err: wing.ErrCheckAtDoor}
	}
	data := map[string]string{"outcome": string(c.Outcome), "how": wing.CheckedAtPanel, "regime": string(regime)}
	if atDoor {
		data["how"], data["presence"], data["presence_at"] = wing.CheckedAtDoor, presence.ID.String(), presence.At.UTC().Format(time.RFC3339Nano)
	}
	if c.Note != "" {
		data["note"] = c.Note
	}
	if c.Screen != "" {
		data["screen"] = c.Screen
	}
	if plan != nil {
		data["due"] = due.At.UTC().Format(time.RFC3339)
		if now.After(due.At) {
			data["late"] = "true"
		}
		wing.Due{At: now.Add(plan.MaxGap / 2)}.Data(data)
	}
	e := f.record(event.ObservationChecked, c.Cell, by.ID, data)
	check := wing.CheckFromEvent(e)
	if c.Outcome == wing.NoResponse {
		f.record(event.AlarmRaised, c.Cell, by.ID, map[string]string{"point_kind": wing.CheckNoResponse, "priority": "1", "check": check.ID.String()})
	}
	return check, nil
}

// presence records the reset key of a cell's call turned with no call.
func (f *fakeWing) presence(cell string) event.Event {
	return f.record(event.ObservationPresence, cell, event.SystemActor, map[string]string{"point": cell + "-CALL"})
}

func (f *fakeWing) SetExpectedRoll(_ context.Context, by roster.Actor, rolls map[string]wing.CellRoll) error {
	if err := allowFake(by, roster.Supervisor); err != nil {
		return err
	}
	for cell, r := range rolls {
		if err := f.cellCheck(cell); err != nil {
			return err
		}
		if r.Occupants < 0 || r.Occupants > wing.MaxOccupants || r.Out < 0 || r.Out > r.Occupants {
			return badInput("cell %s: %d occupants, %d out", cell, r.Occupants, r.Out)
		}
		if r.Out > 0 && r.Reason == "" {
			return badInput("cell %s: a reason is needed", cell)
		}
	}
	for _, d := range f.layout.Cells("") {
		r, ok := rolls[d.ID]
		if !ok {
			continue
		}
		same := false
		f.read(func(s *wing.State) { old, ok := s.Roll[d.ID]; same = ok && old.CellRoll == r })
		if same {
			continue
		}
		data := map[string]string{"occupants": strconv.Itoa(r.Occupants)}
		if r.Out > 0 {
			data["out"], data["reason"] = strconv.Itoa(r.Out), r.Reason
		}
		f.record(event.RollExpectedSet, d.ID, by.ID, data)
	}
	return nil
}

func (f *fakeWing) CountLanding(_ context.Context, by roster.Actor, landing string, counted int) (wing.Count, error) {
	if err := allowFake(by, roster.Officer); err != nil {
		return wing.Count{}, err
	}
	cells := f.layout.Cells(landing)
	if landing == "" || len(cells) == 0 {
		return wing.Count{}, badInput("wing A has no landing %q with cells", landing)
	}
	if counted < 0 || counted > 9999 {
		return wing.Count{}, badInput("a count from 0 to 9999, not %d", counted)
	}
	var ids, open []string
	for _, c := range cells {
		ids = append(ids, c.ID)
	}
	expected, unset := 0, []string(nil)
	f.read(func(s *wing.State) {
		expected, unset = s.ExpectedOn(ids)
		for _, id := range ids {
			if d, ok := s.Doors[id]; ok && d.Open {
				open = append(open, id)
			}
		}
	})
	if len(unset) == len(ids) {
		return wing.Count{}, &Refusal{Sentence: "landing " + landing + ": no expected roll is set", Err: wing.ErrNoExpectedRoll}
	}
	data := map[string]string{"landing": landing, "counted": strconv.Itoa(counted), "expected": strconv.Itoa(expected)}
	if len(open) > 0 {
		data["open_doors"], data["open_cells"] = strconv.Itoa(len(open)), strings.Join(open, ",")
	}
	point := wing.LandingID("A", landing)
	c := wing.CountFromEvent(f.record(event.RollCounted, point, by.ID, data))
	if !c.Reconciled() {
		f.record(event.AlarmRaised, point, by.ID, map[string]string{"point_kind": wing.RollDiscrepancy, "priority": "1", "count": c.ID.String()})
	}
	return c, nil
}

func (f *fakeWing) SignRoll(_ context.Context, by roster.Actor) (wing.RollSign, error) {
	if err := allowFake(by, roster.Supervisor); err != nil {
		return wing.RollSign{}, err
	}
	now := f.ago(0)
	var problems, counts []string
	counted, expected := 0, 0
	f.read(func(s *wing.State) {
		for _, l := range f.layout.Landings {
			var ids []string
			for _, c := range f.layout.Cells(l) {
				ids = append(ids, c.ID)
			}
			want, unset := s.ExpectedOn(ids)
			if len(unset) == len(ids) {
				continue
			}
			c, ok := s.LastCount("A", l)
			if !ok || now.Sub(c.At) > wing.RollWindow || c.Expected != want || !c.Reconciled() {
				problems = append(problems, "landing "+l+" does not reconcile")
				continue
			}
			counts = append(counts, c.ID.String())
			counted += c.Counted
			expected += c.Expected
		}
	})
	if len(problems) > 0 || len(counts) == 0 {
		return wing.RollSign{}, &Refusal{Sentence: "the roll does not reconcile: " + strings.Join(problems, "; "), Err: wing.ErrRollNotReconciled}
	}
	e := f.record(event.RollSigned, "A", by.ID, map[string]string{"counted": strconv.Itoa(counted), "expected": strconv.Itoa(expected), "counts": strings.Join(counts, ",")})
	return wing.RollSign{ID: e.ID(), Wing: "A", By: by.ID, At: e.Wall, Counted: counted, Expected: expected}, nil
}

func (f *fakeWing) SignHandover(_ context.Context, by roster.Actor, h wing.HandoverEntry) (event.ID, error) {
	if err := allowFake(by, roster.Officer); err != nil {
		return event.ID{}, err
	}
	if h.From.IsZero() || !h.To.After(h.From) || len(h.Digest) != 64 {
		return event.ID{}, badInput("not a shift: %s to %s", h.From, h.To)
	}
	data := map[string]string{"from": h.From.UTC().Format(time.RFC3339), "to": h.To.UTC().Format(time.RFC3339), "digest": h.Digest,
		"open_items": strconv.Itoa(h.OpenItems)}
	wing.NotesData(h.Notes, data)
	return f.record(event.HandoverSigned, "A", by.ID, data).ID(), nil
}

func (f *fakeWing) ReadHandover(_ context.Context, by roster.Actor, id event.ID) error {
	if err := allowFake(by, roster.Officer); err != nil {
		return err
	}
	var h wing.Handover
	found, struck := false, false
	f.read(func(s *wing.State) {
		for _, x := range s.Handovers[id.Wing] {
			if x.ID == id && x.Signed {
				h, found = x, true
			}
		}
		_, struck = s.Struck[id]
	})
	switch {
	case !found:
		return &Refusal{Sentence: "handover " + id.String() + ": no such handover", Err: wing.ErrNoSuchHandover}
	case struck:
		return &Refusal{Sentence: "handover " + id.String() + " is struck", Err: wing.ErrAlreadyStruck}
	case h.By == by.ID:
		return &Refusal{Sentence: "the incoming officer signs a handover as read, not the outgoing one", Err: wing.ErrOwnHandover}
	}
	if _, read := h.ReadBy(by.ID); !read {
		f.record(event.HandoverRead, "A", by.ID, map[string]string{"handover": id.String()})
	}
	return nil
}

func (f *fakeWing) Correct(_ context.Context, by roster.Actor, id event.ID, reason string) error {
	if err := allowFake(by, roster.Officer); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return badInput("a reason is needed")
	}
	rec, err := f.Get(id)
	if err != nil {
		return &Refusal{Sentence: "record " + id.String() + ": no such record", Err: wing.ErrNoSuchRecord}
	}
	e := rec.Event
	if !wing.Correctable(e.Kind) {
		return &Refusal{Sentence: "record " + id.String() + " is a " + string(e.Kind), Err: wing.ErrNotCorrectable}
	}
	if e.Actor != by.ID && !by.Role.Allows(roster.Supervisor) {
		return &Refusal{Kind: ErrNotAllowed, Sentence: "record " + id.String() + " is " + e.Actor + "'s: they or a supervisor may correct it"}
	}
	struck := false
	f.read(func(s *wing.State) { _, struck = s.Struck[id] })
	if struck {
		return &Refusal{Sentence: "record " + id.String() + " is already struck", Err: wing.ErrAlreadyStruck}
	}
	f.record(event.RecordCorrected, e.Subject, by.ID, map[string]string{"record": id.String(), "kind": string(e.Kind), "reason": reason})
	return nil
}

// Get returns the fake's record with the given id.
func (f *fakeWing) Get(id event.ID) (event.Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.records {
		if r.Event.ID() == id {
			return r, nil
		}
	}
	return event.Record{}, fmt.Errorf("fake: no record %s", id)
}

// fakeStore is the fake's records as the shift room reads them.
type fakeStore struct{ f *fakeWing }

func (s fakeStore) Query(q event.Query) (event.Page, error) {
	return s.f.Query(context.Background(), q)
}

func (s fakeStore) Get(id event.ID) (event.Record, error) { return s.f.Get(id) }

// fakeClock is the fake's clock, as the shift room reads it.
type fakeClock struct {
	clockwork.Clock
	f *fakeWing
}

func (c fakeClock) Now() time.Time { return c.f.ago(0) }

func (f *fakeWing) room() *shift.Room {
	return shift.New(shift.Config{Wing: f.layout, Store: fakeStore{f}, Read: f.read, Clock: fakeClock{f: f}})
}

func (f *fakeWing) HandoverDraft(ctx context.Context, from, to time.Time) (shift.Draft, error) {
	return f.room().Draft(ctx, from, to)
}

func (f *fakeWing) Figures(ctx context.Context, wingID string, from, to time.Time) (shift.Figures, error) {
	return f.room().Figures(ctx, wingID, from, to)
}

func (f *fakeWing) Timeline(ctx context.Context, req shift.TimelineRequest) (shift.Timeline, error) {
	return f.room().Timeline(ctx, req)
}

func (f *fakeWing) CheckHistory(ctx context.Context, cell string, limit int) ([]shift.CheckItem, error) {
	return f.room().CheckHistory(ctx, cell, limit)
}
