package wing

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// CheckOutcome is what an officer found at a cell's check.
type CheckOutcome string

// The outcomes of a check. Spoke, SeenMoving and SignOfLife are signs of
// life; Seen (by day: seen, well) is not one, so a night check cannot be
// Seen: a prisoner who "appears asleep" has not been seen alive.
// NoResponse raises a priority-1 alarm at once.
const (
	Seen       CheckOutcome = "seen"
	SeenMoving CheckOutcome = "seen-moving"
	Spoke      CheckOutcome = "spoke"
	SignOfLife CheckOutcome = "sign-of-life"
	NoResponse CheckOutcome = "no-response"
)

// CheckOutcomes lists the outcomes in the order a screen offers them.
func CheckOutcomes() []CheckOutcome {
	return []CheckOutcome{Spoke, SeenMoving, SignOfLife, Seen, NoResponse}
}

// ParseCheckOutcome reads an outcome's name.
func ParseCheckOutcome(s string) (CheckOutcome, error) {
	for _, o := range CheckOutcomes() {
		if string(o) == s {
			return o, nil
		}
	}
	return "", fmt.Errorf("%q is not a check outcome (want spoke, seen-moving, sign-of-life, seen or no-response)", s)
}

// IsSignOfLife reports whether the outcome shows the prisoner alive.
func (o CheckOutcome) IsSignOfLife() bool { return o == Spoke || o == SeenMoving || o == SignOfLife }

// How a check was recorded.
const (
	// CheckedAtPanel: recorded at the panel, with nothing to prove the
	// officer stood at the cell.
	CheckedAtPanel = "panel"
	// CheckedAtDoor: proven at the cell door first, by its cell call's
	// reset key switch (an observation.presence record).
	CheckedAtDoor = "door"
)

// The plausibility flags of a check.
const (
	// FlagTooFast: recorded sooner after the officer's previous check than
	// walking between the two cells allows.
	FlagTooFast = "too-fast"
	// FlagOtherLanding: recorded on a screen on another landing than the
	// cell's.
	FlagOtherLanding = "other-landing"
)

// CheckEntry is what an officer enters for a check: the cell and the
// outcome (two taps), and an optional note. Screen is the landing of the
// screen it is entered on (empty when the screen names none); AtDoor says
// the officer means a check proven at the door, refused when no presence
// waits for it (a presence that waits is used whether or not it is said).
type CheckEntry struct {
	Cell    string
	Outcome CheckOutcome
	Note    string
	Screen  string
	AtDoor  bool
}

// Errors of a check that does not fit the cell or the night.
var (
	// ErrNoSignOfLife: a night check needs a sign of life (spoke, seen
	// moving, sign of life); "seen" is not one, nor is appearing asleep.
	ErrNoSignOfLife = errors.New("a night check needs a sign of life")
	// ErrCheckAtDoor: at night, a cell with a reset key switch is checked
	// at its door: turn the key there, then record the outcome.
	ErrCheckAtDoor = errors.New("at night this cell is checked at its door")
	// ErrNoPresence: a check at the door was asked for, but no presence at
	// the cell door waits for it.
	ErrNoPresence = errors.New("no presence at the cell door waits for a check")
)

// PresenceWindow is how long a presence at a cell door waits for its
// check's outcome: a check recorded within it is a check at the door.
const PresenceWindow = 15 * time.Minute

// Plan is a cell's observation plan: how often it is observed by day and
// in the night regime, how many conversations a day, and the longest gap
// ever allowed between two observations.
type Plan struct {
	DayPerHour          float64       `json:"day_per_hour"`
	NightPerHour        float64       `json:"night_per_hour"`
	ConversationsPerDay int           `json:"conversations_per_day"`
	MaxGap              time.Duration `json:"max_gap"`
}

// Limits of a plan.
const (
	MaxPerHour       = 12
	MaxConversations = 24
	MinGap           = 5 * time.Minute
	MaxGapLimit      = 24 * time.Hour
)

// ErrBadPlan is wrapped by Plan.Validate's error.
var ErrBadPlan = errors.New("not a valid observation plan")

// Validate says what is wrong with the plan, or nil.
func (p Plan) Validate() error {
	var errs []string
	for _, r := range []struct {
		what string
		v    float64
	}{{"observations an hour by day", p.DayPerHour}, {"observations an hour at night", p.NightPerHour}} {
		if !(r.v >= 0 && r.v <= MaxPerHour) {
			errs = append(errs, fmt.Sprintf("%s must be from 0 to %d, not %g", r.what, MaxPerHour, r.v))
		}
	}
	if p.ConversationsPerDay < 0 || p.ConversationsPerDay > MaxConversations {
		errs = append(errs, fmt.Sprintf("conversations a day must be from 0 to %d, not %d", MaxConversations, p.ConversationsPerDay))
	}
	if p.MaxGap < MinGap || p.MaxGap > MaxGapLimit {
		errs = append(errs, fmt.Sprintf("the longest gap must be from %s to %s, not %s", MinGap, MaxGapLimit, p.MaxGap))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrBadPlan, strings.Join(errs, "; "))
	}
	return nil
}

// Data is the plan as an event's data fields.
func (p Plan) Data() map[string]string {
	return map[string]string{
		"day_per_hour":          strconv.FormatFloat(p.DayPerHour, 'f', -1, 64),
		"night_per_hour":        strconv.FormatFloat(p.NightPerHour, 'f', -1, 64),
		"conversations_per_day": strconv.Itoa(p.ConversationsPerDay),
		"max_gap":               p.MaxGap.String(),
	}
}

// planFromData reads what Data wrote.
func planFromData(d map[string]string) (Plan, error) {
	var p Plan
	var errs []error
	parse := func(k string) float64 {
		v, err := strconv.ParseFloat(d[k], 64)
		errs = append(errs, err)
		return v
	}
	p.DayPerHour, p.NightPerHour = parse("day_per_hour"), parse("night_per_hour")
	n, err := strconv.Atoi(d["conversations_per_day"])
	p.ConversationsPerDay = n
	gap, gerr := time.ParseDuration(d["max_gap"])
	p.MaxGap = gap
	if err := errors.Join(append(errs, err, gerr)...); err != nil {
		return Plan{}, err
	}
	return p, p.Validate()
}

// Due is when a cell's next check is due, and whether it is to be a
// conversation rather than an observation.
type Due struct {
	At           time.Time `json:"at"`
	Conversation bool      `json:"conversation,omitempty"`
}

// dueFromData reads "next_due" and "next_conversation".
func dueFromData(d map[string]string) Due {
	at, _ := time.Parse(time.RFC3339Nano, d["next_due"])
	return Due{At: at, Conversation: d["next_conversation"] == "true"}
}

// Data returns the due time as an event's "next_due" and
// "next_conversation" fields.
func (d Due) Data(into map[string]string) {
	into["next_due"] = d.At.UTC().Format(time.RFC3339)
	if d.Conversation {
		into["next_conversation"] = "true"
	}
}

// PlanRecord is a cell's plan as its supervisor set it.
type PlanRecord struct {
	Plan
	By    string    `json:"by"`
	Since time.Time `json:"since"`
	Note  string    `json:"note,omitempty"`
	// First is the first check's due time, drawn when the plan was set.
	First Due       `json:"first"`
	Key   event.Key `json:"key"`
}

// Check is one recorded check of a cell.
type Check struct {
	ID      event.ID     `json:"id"`
	Cell    string       `json:"cell"`
	By      string       `json:"by"`
	At      time.Time    `json:"at"`
	Outcome CheckOutcome `json:"outcome"`
	How     string       `json:"how"` // CheckedAtPanel or CheckedAtDoor
	// Presence is the presence at the door that proved a check at the
	// door, and PresenceAt when the key was turned.
	Presence   event.ID  `json:"presence,omitzero"`
	PresenceAt time.Time `json:"presence_at,omitzero"`
	Note       string    `json:"note,omitempty"`
	Screen     string    `json:"screen,omitempty"` // the landing of the screen it was recorded on
	Regime     Regime    `json:"regime,omitempty"`
	// Due is the due time this check answered (zero for a cell on no
	// plan), Late whether it came after it, and Next the next check's
	// due time (zero for a cell on no plan).
	Due  time.Time `json:"due,omitzero"`
	Late bool      `json:"late,omitempty"`
	Next Due       `json:"next,omitzero"`
	// Flags are its plausibility flags (FlagTooFast, FlagOtherLanding);
	// with FlagTooFast, Previous is the officer's check before, Took the
	// time between them and Needs the least walk.
	Flags    []string      `json:"flags,omitempty"`
	Previous event.ID      `json:"previous,omitzero"`
	Took     time.Duration `json:"took,omitempty"`
	Needs    time.Duration `json:"needs,omitempty"`
	Key      event.Key     `json:"key"`
}

// AtCell is when the officer stood at the cell: when the key was turned
// for a check at the door, otherwise when the check was recorded.
func (c Check) AtCell() time.Time {
	if c.How == CheckedAtDoor && !c.PresenceAt.IsZero() {
		return c.PresenceAt
	}
	return c.At
}

// CheckFromEvent reads an observation.checked event.
func CheckFromEvent(e event.Event) Check {
	d := e.Data
	c := Check{ID: e.ID(), Cell: e.Subject, By: e.Actor, At: e.Wall, Outcome: CheckOutcome(d["outcome"]), How: d["how"],
		Note: d["note"], Screen: d["screen"], Regime: Regime(d["regime"]), Late: d["late"] == "true", Key: e.Key()}
	c.Presence, _ = event.ParseID(d["presence"])
	c.PresenceAt, _ = time.Parse(time.RFC3339Nano, d["presence_at"])
	c.Due, _ = time.Parse(time.RFC3339Nano, d["due"])
	if d["next_due"] != "" {
		c.Next = dueFromData(d)
	}
	if f := d["flags"]; f != "" {
		c.Flags = strings.Split(f, ",")
	}
	c.Previous, _ = event.ParseID(d["previous"])
	c.Took, _ = time.ParseDuration(d["took"])
	c.Needs, _ = time.ParseDuration(d["needs"])
	return c
}

// Flagged reports whether the check has a plausibility flag.
func (c Check) Flagged() bool { return len(c.Flags) > 0 }

// Presence is an officer standing at a cell door: its cell call's reset
// key switch turned with no call active.
type Presence struct {
	ID    event.ID  `json:"id"`
	Point string    `json:"point"`
	At    time.Time `json:"at"`
	Key   event.Key `json:"key"`
}

// CheckRef points at a check: the officer's latest, a conversation.
type CheckRef struct {
	ID   event.ID  `json:"id"`
	Wing string    `json:"wing"`
	Cell string    `json:"cell"`
	At   time.Time `json:"at"` // when the officer stood at the cell
	Key  event.Key `json:"key"`
}

// Observation is what the fold holds of one cell's observation: its plan,
// its latest checks, its latest presence at the door.
type Observation struct {
	Cell string `json:"cell"`
	Wing string `json:"wing"`
	// Plan is the plan in force, nil when the cell is on none; PlanKey is
	// the latest plan record's key (set or ended).
	Plan    *PlanRecord `json:"plan,omitempty"`
	PlanKey event.Key   `json:"plan_key"`
	// Checks are the latest checks, newest first, struck ones included
	// (State.Struck says which).
	Checks []Check `json:"checks,omitempty"`
	// Conversations are the latest checks in which the officer spoke with
	// the prisoner, newest first.
	Conversations []CheckRef `json:"conversations,omitempty"`
	Presence      *Presence  `json:"presence,omitempty"`
}

// How many of each the fold keeps: enough to fall back past corrections
// and to count a day's conversations.
const (
	keepChecks        = 8
	keepConversations = MaxConversations
)

func (s *State) observation(e event.Event) Observation {
	o := s.Observations[e.Subject]
	o.Cell = e.Subject
	if o.Wing == "" || e.Wing < o.Wing { // one wing's cell: whatever the order, the same
		o.Wing = e.Wing
	}
	return o
}

// foldObservation folds a plan, a check or a presence.
func (s *State) foldObservation(e event.Event, k event.Key) {
	o := s.observation(e)
	switch e.Kind {
	case event.ObservationPlanSet, event.ObservationPlanEnded:
		if k.Compare(o.PlanKey) <= 0 {
			return
		}
		o.PlanKey, o.Plan = k, nil
		if e.Kind == event.ObservationPlanSet {
			p, err := planFromData(e.Data)
			if err == nil {
				o.Plan = &PlanRecord{Plan: p, By: e.Actor, Since: e.Wall, Note: e.Data["note"], First: dueFromData(e.Data), Key: k}
			}
		}
	case event.ObservationChecked:
		c := CheckFromEvent(e)
		o.Checks = keepNewest(o.Checks, c, keepChecks, func(c Check) event.Key { return c.Key })
		if c.Outcome == Spoke {
			o.Conversations = keepNewest(o.Conversations, CheckRef{ID: c.ID, Wing: e.Wing, Cell: c.Cell, At: c.At, Key: k}, keepConversations,
				func(r CheckRef) event.Key { return r.Key })
		}
		if prev, ok := s.CheckedBy[e.Actor]; !ok || k.Compare(prev.Key) > 0 {
			s.CheckedBy[e.Actor] = CheckRef{ID: c.ID, Wing: e.Wing, Cell: c.Cell, At: c.AtCell(), Key: k}
		}
	case event.ObservationPresence:
		if o.Presence == nil || k.Compare(o.Presence.Key) > 0 {
			o.Presence = &Presence{ID: e.ID(), Point: e.Data["point"], At: e.Wall, Key: k}
		}
	}
	s.Observations[e.Subject] = o
}

// keepNewest inserts v into list (newest first by key) unless it is there
// already, keeping the newest n. It never changes list in place, so a
// clone of the state may share it.
func keepNewest[T any](list []T, v T, n int, key func(T) event.Key) []T {
	k := key(v)
	i, found := slices.BinarySearchFunc(list, k, func(x T, k event.Key) int { return k.Compare(key(x)) })
	if found || i >= n {
		return list
	}
	out := make([]T, 0, min(len(list)+1, n))
	out = append(append(append(out, list[:i]...), v), list[i:]...)
	return out[:min(len(out), n)]
}

// LastCheck returns the cell's latest check that has not been struck.
func (s *State) LastCheck(cell string) (Check, bool) {
	for _, c := range s.Observations[cell].Checks {
		if _, struck := s.Struck[c.ID]; !struck {
			return c, true
		}
	}
	return Check{}, false
}

// NextDue returns when the cell's next check is due, false when the cell
// is on no plan: drawn at its latest check since the plan was set, or
// when the plan was set.
func (s *State) NextDue(cell string) (Due, bool) {
	o := s.Observations[cell]
	if o.Plan == nil {
		return Due{}, false
	}
	if c, ok := s.LastCheck(cell); ok && c.Key.Compare(o.Plan.Key) > 0 && !c.Next.At.IsZero() {
		return c.Next, true
	}
	return o.Plan.First, true
}

// PendingPresence returns the cell's presence at the door that waits for
// its check's outcome at now: within PresenceWindow, and no check recorded
// since.
func (s *State) PendingPresence(cell string, now time.Time) (Presence, bool) {
	o := s.Observations[cell]
	if o.Presence == nil || now.Sub(o.Presence.At) > PresenceWindow || o.Presence.At.After(now.Add(time.Minute)) {
		return Presence{}, false
	}
	if c, ok := s.LastCheck(cell); ok && c.Key.Compare(o.Presence.Key) > 0 {
		return Presence{}, false
	}
	return *o.Presence, true
}

// ConversationsOn counts the cell's conversations recorded on the day of
// now (in now's location), struck ones left out.
func (s *State) ConversationsOn(cell string, now time.Time) int {
	y, m, d := now.Date()
	n := 0
	for _, r := range s.Observations[cell].Conversations {
		at := r.At.In(now.Location())
		if ay, am, ad := at.Date(); ay == y && am == m && ad == d {
			if _, struck := s.Struck[r.ID]; !struck {
				n++
			}
		}
	}
	return n
}

// CheckDue is a cell's next check, for the lists of due and overdue
// checks on the wing's screens.
type CheckDue struct {
	Cell string `json:"cell"`
	Due
	Overdue bool       `json:"overdue"`
	Plan    PlanRecord `json:"plan"`
	// Last is the cell's latest check, if it has one.
	Last *Check `json:"last,omitempty"`
}

// ChecksDue lists the checks of wing's cells on a plan, the soonest due
// first; a check due before now is overdue.
func (s *State) ChecksDue(wing string, now time.Time) []CheckDue {
	var out []CheckDue
	for cell, o := range s.Observations {
		if o.Wing != wing || o.Plan == nil {
			continue
		}
		due, _ := s.NextDue(cell)
		cd := CheckDue{Cell: cell, Due: due, Overdue: due.At.Before(now), Plan: *o.Plan}
		if c, ok := s.LastCheck(cell); ok {
			cd.Last = &c
		}
		out = append(out, cd)
	}
	slices.SortFunc(out, func(a, b CheckDue) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Cell, b.Cell))
	})
	return out
}
