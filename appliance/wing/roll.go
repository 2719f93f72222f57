package wing

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
)

// CellRoll is a cell's expected roll: how many prisoners are on the roll
// in it (0: an empty cell), and how many of them are out of the wing, and
// why.
type CellRoll struct {
	Occupants int    `json:"occupants"`
	Out       int    `json:"out,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// MaxOccupants bounds a cell's occupants.
const MaxOccupants = 4

// Errors of counts and of signing the roll.
var (
	// ErrNoExpectedRoll: no cell of the landing has an expected roll: a
	// supervisor sets it first.
	ErrNoExpectedRoll = errors.New("no expected roll is set for the landing")
	// ErrRollNotReconciled: a landing has not been counted lately, or its
	// latest count differs from its expected roll.
	ErrRollNotReconciled = errors.New("the roll does not reconcile")
)

// RollWindow is how recent a landing's count must be for the roll to be
// signed on it.
const RollWindow = time.Hour

// CountWindow is how long before a count was entered a cell door that
// moved counts as moved during the count.
const CountWindow = 10 * time.Minute

// Expected is how many of the cell's prisoners are expected in it.
func (r CellRoll) Expected() int { return r.Occupants - r.Out }

// ExpectedRoll is a cell's expected roll as a supervisor last set it.
type ExpectedRoll struct {
	Cell string `json:"cell"`
	Wing string `json:"wing"`
	CellRoll
	By    string    `json:"by"`
	Since time.Time `json:"since"`
	Key   event.Key `json:"key"`
}

// LandingID is the id of a wing's landing, the subject of its counts and
// of their discrepancy alarms: "A-landing-1".
func LandingID(wing, landing string) string { return wing + "-landing-" + landing }

// Count is one count of a landing, reconciled when it was entered with the
// landing's expected roll and its doors.
type Count struct {
	ID       event.ID `json:"id"`
	Wing     string   `json:"wing"`
	Landing  string   `json:"landing"`
	Counted  int      `json:"counted"`
	Expected int      `json:"expected"`
	// OpenDoors is how many cell doors of the landing were open, or
	// moved, during the count; OpenCells names them (as many as fitted
	// in the record).
	OpenDoors int       `json:"open_doors,omitempty"`
	OpenCells []string  `json:"open_cells,omitempty"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	Key       event.Key `json:"key"`
}

// Discrepancy is the count less the expected roll.
func (c Count) Discrepancy() int { return c.Counted - c.Expected }

// Reconciled reports whether the count agrees with the expected roll.
func (c Count) Reconciled() bool { return c.Counted == c.Expected }

// CountFromEvent reads a roll.counted event.
func CountFromEvent(e event.Event) Count {
	c := Count{ID: e.ID(), Wing: e.Wing, Landing: e.Data["landing"], By: e.Actor, At: e.Wall, Key: e.Key()}
	c.Counted, _ = strconv.Atoi(e.Data["counted"])
	c.Expected, _ = strconv.Atoi(e.Data["expected"])
	c.OpenDoors, _ = strconv.Atoi(e.Data["open_doors"])
	if v := e.Data["open_cells"]; v != "" {
		c.OpenCells = strings.Split(v, ",")
	}
	return c
}

// RollSign is the officer in charge signing a wing's roll as correct.
type RollSign struct {
	ID       event.ID   `json:"id"`
	Wing     string     `json:"wing"`
	By       string     `json:"by"`
	At       time.Time  `json:"at"`
	Counted  int        `json:"counted"`
	Expected int        `json:"expected"`
	Counts   []event.ID `json:"counts,omitempty"`
	Key      event.Key  `json:"key"`
}

// How many of each the fold keeps, to fall back past corrections.
const (
	keepCounts    = 4
	keepRollSigns = 4
)

// foldRoll folds an expected roll, a count or a signed roll.
func (s *State) foldRoll(e event.Event, k event.Key) {
	switch e.Kind {
	case event.RollExpectedSet:
		if r, ok := s.Roll[e.Subject]; ok && k.Compare(r.Key) <= 0 {
			return
		}
		r := ExpectedRoll{Cell: e.Subject, Wing: e.Wing, By: e.Actor, Since: e.Wall, Key: k}
		r.Occupants, _ = strconv.Atoi(e.Data["occupants"])
		r.Out, _ = strconv.Atoi(e.Data["out"])
		r.Reason = e.Data["reason"]
		s.Roll[e.Subject] = r
	case event.RollCounted:
		s.Counts[e.Subject] = keepNewest(s.Counts[e.Subject], CountFromEvent(e), keepCounts, func(c Count) event.Key { return c.Key })
	case event.RollSigned:
		r := RollSign{ID: e.ID(), Wing: e.Wing, By: e.Actor, At: e.Wall, Key: k}
		r.Counted, _ = strconv.Atoi(e.Data["counted"])
		r.Expected, _ = strconv.Atoi(e.Data["expected"])
		for _, id := range strings.Split(e.Data["counts"], ",") {
			if id, err := event.ParseID(id); err == nil {
				r.Counts = append(r.Counts, id)
			}
		}
		s.RollSigns[e.Wing] = keepNewest(s.RollSigns[e.Wing], r, keepRollSigns, func(r RollSign) event.Key { return r.Key })
	}
}

// LastCount returns the latest count of a landing that has not been
// struck.
func (s *State) LastCount(wing, landing string) (Count, bool) {
	for _, c := range s.Counts[LandingID(wing, landing)] {
		if _, struck := s.Struck[c.ID]; !struck {
			return c, true
		}
	}
	return Count{}, false
}

// SignedRoll returns the wing's latest signed roll that has not been
// struck.
func (s *State) SignedRoll(wing string) (RollSign, bool) {
	for _, r := range s.RollSigns[wing] {
		if _, struck := s.Struck[r.ID]; !struck {
			return r, true
		}
	}
	return RollSign{}, false
}

// RollCorrect returns the wing's signed roll while it still stands: it has
// been signed, and no landing of the wing has been counted since with a
// discrepancy. Its At says since when the wing's roll is correct.
func (s *State) RollCorrect(wing string) (RollSign, bool) {
	r, ok := s.SignedRoll(wing)
	if !ok {
		return RollSign{}, false
	}
	for _, counts := range s.Counts {
		if len(counts) == 0 || counts[0].Wing != wing {
			continue
		}
		if c, ok := s.LastCount(wing, counts[0].Landing); ok && c.Key.Compare(r.Key) > 0 && !c.Reconciled() {
			return RollSign{}, false
		}
	}
	return r, true
}

// ExpectedOn returns the expected roll of the cells given (a landing's),
// and the cells that have none set.
func (s *State) ExpectedOn(cells []string) (expected int, unset []string) {
	for _, c := range cells {
		r, ok := s.Roll[c]
		if !ok {
			unset = append(unset, c)
			continue
		}
		expected += r.Expected()
	}
	return expected, unset
}
