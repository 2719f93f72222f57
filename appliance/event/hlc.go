package event

import (
	"sync"
	"time"
)

// HLC is a hybrid logical clock reading: wall-clock nanoseconds, and a
// counter that orders readings within the same nanosecond or while the wall
// clock stands still or runs backwards. Readings from one Clock only ever
// increase, across reboots (the clock resumes from the last stored event)
// and across wings (receiving an event advances the clock past it).
type HLC struct {
	WallNanos int64  `json:"wall_ns"`
	Logical   uint32 `json:"logical"`
}

// Compare returns -1, 0 or +1 as h is before, equal to or after o.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.WallNanos < o.WallNanos:
		return -1
	case h.WallNanos > o.WallNanos:
		return 1
	case h.Logical < o.Logical:
		return -1
	case h.Logical > o.Logical:
		return 1
	}
	return 0
}

// Time returns the wall-clock part as a time.
func (h HLC) Time() time.Time { return time.Unix(0, h.WallNanos).UTC() }

// trustFloor is the earliest wall time the appliance believes, in Unix
// seconds (2026-01-01 UTC): a board without a real-time clock that boots
// into 1970 (or into its build date) reads earlier until its time is set.
const trustFloor = 1767225600

// Trusted reports whether t is at or after the earliest wall time the
// appliance believes; a zero t is not.
func Trusted(t time.Time) bool { return !t.Before(time.Unix(trustFloor, 0)) }

// untrustedStep is how far the wall clock may stand behind the last reading
// before the clock is no longer trusted.
const untrustedStep = 2 * time.Second

// Clock issues HLC readings. It is safe for concurrent use.
type Clock struct {
	now  func() time.Time
	mu   sync.Mutex
	last HLC
}

// NewClock returns a clock reading wall time from now (time.Now if nil).
func NewClock(now func() time.Time) *Clock {
	if now == nil {
		now = time.Now
	}
	return &Clock{now: now}
}

// Reading is one tick of the clock.
type Reading struct {
	HLC     HLC
	Wall    time.Time
	Trusted bool // false when the wall clock is before the trust floor (Trusted) or has jumped back
}

// Now returns a reading later than every reading and every observed HLC before it.
func (c *Clock) Now() Reading {
	wall := c.now()
	pt := wall.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	trusted := Trusted(wall) && pt >= c.last.WallNanos-int64(untrustedStep)
	if pt > c.last.WallNanos {
		c.last = HLC{WallNanos: pt}
	} else {
		c.last.Logical++
	}
	return Reading{HLC: c.last, Wall: wall.UTC(), Trusted: trusted}
}

// Observe moves the clock past h, so that every later reading sorts after
// it. The store calls it with the newest stored HLC at start, and
// replication with each event received from another wing.
func (c *Clock) Observe(h HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h.Compare(c.last) > 0 {
		c.last = h
	}
}
