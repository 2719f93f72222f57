package observation

import (
	"slices"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
)

// LandingChange is how many cells' walk a change of landing counts as: a
// flight of stairs and a gate.
const LandingChange = 10

// Walk is the least time an officer takes between the cells of a wing:
// the wing's walking pace for each cell along a landing, in the
// configuration's order, and LandingChange cells for a change of landing.
type Walk struct {
	Layout config.Wing
	Pace   time.Duration // default Layout.WalkPace, else config.DefaultWalkPace
}

func (w Walk) pace() time.Duration {
	switch {
	case w.Pace > 0:
		return w.Pace
	case w.Layout.WalkPace > 0:
		return w.Layout.WalkPace
	}
	return config.DefaultWalkPace
}

// place returns a cell's landing and its place along it.
func (w Walk) place(cell string) (landing string, at int, ok bool) {
	d, ok := w.Layout.Door(cell)
	if !ok || d.Kind != config.CellDoor {
		return "", 0, false
	}
	return d.Landing, slices.IndexFunc(w.Layout.Cells(d.Landing), func(c config.Door) bool { return c.ID == cell }), true
}

// Needs returns the least walk from one cell door to another; false when
// either is not a cell of the wing.
func (w Walk) Needs(from, to string) (time.Duration, bool) {
	la, a, ok1 := w.place(from)
	lb, b, ok2 := w.place(to)
	if !ok1 || !ok2 {
		return 0, false
	}
	cells := a - b
	if cells < 0 {
		cells = -cells
	}
	if la != lb {
		cells = LandingChange
	}
	return time.Duration(cells) * w.pace(), true
}

// Plausibility is what is implausible about a check.
type Plausibility struct {
	Flags []string // wing.FlagTooFast, wing.FlagOtherLanding
	// With FlagTooFast: the time since the officer's previous check, and
	// the least walk between the two cells.
	Took, Needs time.Duration
}

// Judge says what is implausible about a check of cell, the officer
// standing there at at, recorded on a screen on landing screen (empty
// when the screen names none), after the officer's previous check prev
// (nil when none on this wing).
func (w Walk) Judge(cell string, at time.Time, screen string, prev *wing.CheckRef) Plausibility {
	var p Plausibility
	if prev != nil && prev.Wing == w.Layout.ID {
		if needs, ok := w.Needs(prev.Cell, cell); ok && at.Sub(prev.At) < needs {
			p.Flags = append(p.Flags, wing.FlagTooFast)
			p.Took, p.Needs = max(at.Sub(prev.At), 0), needs
		}
	}
	if landing, _, ok := w.place(cell); ok && screen != "" && screen != landing {
		p.Flags = append(p.Flags, wing.FlagOtherLanding)
	}
	return p
}
