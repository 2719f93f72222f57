package wing

import (
	"fmt"
	"slices"
	"time"

	"wingnode/appliance/event"
)

// Regime is the wing's daily state: unlocked, locked up, or night. A door
// opened at night raises an alarm.
type Regime string

// The regimes.
const (
	Unlock Regime = "unlock"
	LockUp Regime = "lockup"
	Night  Regime = "night"
)

// Regimes lists the regimes, in the order of a day.
func Regimes() []Regime { return []Regime{Unlock, LockUp, Night} }

// ParseRegime reads a regime's name.
func ParseRegime(s string) (Regime, error) {
	for _, r := range Regimes() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%q is not a regime (want unlock, lockup or night)", s)
}

// ScheduledRegime is a daily change of regime at a time of day (the
// wing's local time).
type ScheduledRegime struct {
	At     time.Duration `json:"at"` // since midnight
	Regime Regime        `json:"regime"`
}

// Schedule is a wing's daily regime changes, in order of time of day.
// An empty schedule keeps the wing unlocked unless a supervisor sets it.
type Schedule []ScheduledRegime

// last returns the scheduled change most recently before or at now, and
// when it happened; false for an empty schedule.
func (s Schedule) last(now time.Time) (ScheduledRegime, time.Time, bool) {
	if len(s) == 0 {
		return ScheduledRegime{}, time.Time{}, false
	}
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
	for day := 0; day < 2; day++ {
		m := midnight.AddDate(0, 0, -day)
		for i := len(s) - 1; i >= 0; i-- {
			if at := m.Add(s[i].At); !at.After(now) {
				return s[i], at, true
			}
		}
	}
	return ScheduledRegime{}, time.Time{}, false
}

// SiteLockdown is the site's lockdown as folded from its declarations and
// ends: the latest wins.
type SiteLockdown struct {
	Lockdown
	Key event.Key `json:"key"`
}

// RegimeSet is a supervisor putting a wing in a regime: it holds until the
// next scheduled change.
type RegimeSet struct {
	Wing   string    `json:"wing"`
	Regime Regime    `json:"regime"`
	By     string    `json:"by"`
	Since  time.Time `json:"since"`
	Key    event.Key `json:"key"`
}

// RegimeAt returns the regime of wing at now under its schedule: the last
// scheduled change, unless a supervisor set the regime since.
func (s *State) RegimeAt(wing string, sched Schedule, now time.Time) Regime {
	scheduled, at, ok := sched.last(now)
	set, manual := s.Regimes[wing]
	switch {
	case manual && (!ok || !set.Since.Before(at)) && !set.Since.After(now):
		return set.Regime
	case ok:
		return scheduled.Regime
	}
	return Unlock
}

// Sorted returns the schedule in order of time of day.
func (s Schedule) Sorted() Schedule {
	out := slices.Clone(s)
	slices.SortStableFunc(out, func(a, b ScheduledRegime) int { return int(a.At - b.At) })
	return out
}
