package firmware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"wingnode/appliance/datadir"
)

// TrialTries is how many boots a freshly installed slot gets to confirm
// itself before the boot falls back to the previous slot.
const TrialTries = 3

// SlotName names one of the two root slots.
type SlotName string

// The two slots.
const (
	SlotA SlotName = "a"
	SlotB SlotName = "b"
)

// Other returns the other slot.
func (n SlotName) Other() SlotName {
	if n == SlotA {
		return SlotB
	}
	return SlotA
}

// Status is a slot's boot status.
type Status string

// Slot statuses.
const (
	Good  Status = "good"  // confirmed by a health check; bootable
	Trial Status = "trial" // installed, not yet confirmed; bootable while Tries > 0
	Bad   Status = "bad"   // empty, half-written, failed verification or exhausted its tries; never booted
)

// Slot is what the state records about one slot.
type Slot struct {
	Display    string `json:"display,omitempty"`
	MinVersion uint64 `json:"min_version"`
	Status     Status `json:"status"`
	Tries      int    `json:"tries"` // boots left; only a trial slot has any
	Version    uint64 `json:"version"`
}

// Slots is the A/B state, kept as a small JSON file on the data partition.
// Boot, Confirm, Prepare and Install are pure functions from one state to
// the next; the caller persists each result (SaveSlots) before acting on it.
type Slots struct {
	A      Slot     `json:"a"`
	Active SlotName `json:"active"` // the slot booted last
	B      Slot     `json:"b"`
	Floor  uint64   `json:"floor"` // anti-rollback floor: highest MinVersion confirmed
}

// NewSlots returns the state of a freshly flashed image: slot a holds
// version (confirmed good by the factory image), slot b is empty.
func NewSlots(version uint64, display string) Slots {
	return Slots{
		Active: SlotA,
		A:      Slot{Status: Good, Version: version, Display: display},
		B:      Slot{Status: Bad},
	}
}

// Slot returns a pointer to the named slot's record.
func (s *Slots) Slot(n SlotName) *Slot {
	if n == SlotB {
		return &s.B
	}
	return &s.A
}

// Target returns what a bundle must fit to be installed next to the
// running slot on the given hardware.
func (s Slots) Target(hardware string) Target {
	return Target{Hardware: hardware, Version: s.Slot(s.Active).Version, Floor: s.Floor}
}

// Validate checks the state's rules.
func (s Slots) Validate() error {
	if s.Active != SlotA && s.Active != SlotB {
		return fmt.Errorf("%w: active slot %q is not a or b", ErrState, s.Active)
	}
	trials := 0
	for _, n := range []SlotName{SlotA, SlotB} {
		sl := *s.Slot(n)
		switch sl.Status {
		case Trial:
			trials++
			if sl.Tries < 0 || sl.Tries > TrialTries {
				return fmt.Errorf("%w: slot %s has %d tries; 0 to %d allowed", ErrState, n, sl.Tries, TrialTries)
			}
		case Good, Bad:
			if sl.Tries != 0 {
				return fmt.Errorf("%w: slot %s is %s but has %d tries", ErrState, n, sl.Status, sl.Tries)
			}
		default:
			return fmt.Errorf("%w: slot %s has status %q; use good, trial or bad", ErrState, n, sl.Status)
		}
	}
	if trials > 1 {
		return fmt.Errorf("%w: both slots are on trial", ErrState)
	}
	return nil
}

// Boot decides which slot to boot and returns the state to persist before
// booting it: a trial slot with tries left loses one try and is booted (so
// a hang or crash counts); a trial slot with none left is marked bad; else
// the active slot if good, else the other if good. A bad slot is never
// booted. It wraps ErrNoBootableSlot when neither slot can boot.
func Boot(s Slots) (Slots, SlotName, error) {
	if err := s.Validate(); err != nil {
		return s, "", err
	}
	for _, n := range []SlotName{SlotA, SlotB} {
		sl := s.Slot(n)
		if sl.Status != Trial {
			continue
		}
		if sl.Tries > 0 {
			sl.Tries--
			s.Active = n
			return s, n, nil
		}
		sl.Status = Bad
	}
	for _, n := range []SlotName{s.Active, s.Active.Other()} {
		if s.Slot(n).Status == Good {
			s.Active = n
			return s, n, nil
		}
	}
	return s, "", fmt.Errorf("%w: both slots are bad; reflash the board from a USB stick", ErrNoBootableSlot)
}

// Booted returns the state after the boot loader booted the slot of entry
// e: the same rules as Boot, applied to what systemd-boot did, which is
// what counts (a try used by a kernel that hung before the init ran is
// known only to the boot loader). A trial slot that was passed over has
// run out of tries and is marked bad; a booted trial slot keeps the tries
// its entry has left. It wraps ErrState when the booted slot is marked
// bad, which only a hand-edited ESP can cause: such a slot must not be
// confirmed.
func Booted(s Slots, e BootEntry) (Slots, error) {
	if err := s.Validate(); err != nil {
		return s, err
	}
	if o := s.Slot(e.Slot.Other()); o.Status == Trial {
		o.Status, o.Tries = Bad, 0
	}
	sl := s.Slot(e.Slot)
	switch sl.Status {
	case Bad:
		return s, fmt.Errorf("%w: slot %s was booted (entry %s) but is marked bad; reinstall an update", ErrState, e.Slot, e)
	case Trial:
		// Without a counter the entry was blessed but the state not yet
		// saved: the health check confirms it again.
		if e.Counting {
			sl.Tries = min(sl.Tries, e.Left)
		}
	}
	s.Active = e.Slot
	return s, nil
}

// Confirm marks the booted (active) slot good once the health check has
// passed, and raises the anti-rollback floor to its minimum version. It is
// a no-op on a slot that is already good.
func Confirm(s Slots) (Slots, error) {
	if err := s.Validate(); err != nil {
		return s, err
	}
	sl := s.Slot(s.Active)
	switch sl.Status {
	case Good:
		return s, nil
	case Trial:
		sl.Status, sl.Tries = Good, 0
		s.Floor = max(s.Floor, sl.MinVersion)
		return s, nil
	}
	return s, fmt.Errorf("%w: active slot %s is bad and cannot be confirmed; run Boot first", ErrState, s.Active)
}

// Prepare returns the state to persist before writing to the inactive
// slot: that slot marked bad, so a power cut mid-write leaves nothing that
// claims to be bootable. It wraps ErrUnconfirmed when the running slot is
// not good, because the inactive slot is then the only fall-back.
func Prepare(s Slots) (Slots, SlotName, error) {
	if err := s.Validate(); err != nil {
		return s, "", err
	}
	if st := s.Slot(s.Active).Status; st != Good {
		return s, "", fmt.Errorf("%w: slot %s is %s; let its health check confirm it (or reboot to fall back) before installing again", ErrUnconfirmed, s.Active, st)
	}
	n := s.Active.Other()
	*s.Slot(n) = Slot{Status: Bad}
	return s, n, nil
}

// ParseSlots parses a slot state file strictly.
func ParseSlots(b []byte) (Slots, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Slots
	if err := dec.Decode(&s); err != nil {
		return Slots{}, fmt.Errorf("%w: %w", ErrState, err)
	}
	if dec.More() {
		return Slots{}, fmt.Errorf("%w: data after the state object", ErrState)
	}
	return s, s.Validate()
}

// LoadSlots reads the state file at path.
func LoadSlots(path string) (Slots, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Slots{}, fmt.Errorf("firmware: load slot state: %w", err)
	}
	s, err := ParseSlots(b)
	if err != nil {
		return Slots{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// SaveSlots writes the state file at path whole or not at all
// (datadir.WriteFile), so a power cut leaves either the old state or the
// new one.
func SaveSlots(path string, s Slots) error {
	if err := s.Validate(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err == nil {
		err = datadir.WriteFile(path, append(b, '\n'), 0o600)
	}
	if err != nil {
		return fmt.Errorf("firmware: save slot state %s: %w", path, err)
	}
	return nil
}
