package supervise

import "time"

// Stuck finds an input that is expected to move but has not changed for
// longer than MaxQuiet: a landing gate not opened for three days is more
// likely a welded reed switch or a cut sense wire than a quiet landing.
// The fault ends at the next change.
//
// A Stuck is a pure state machine on the caller's clock: the caller
// reports each debounced change with Observe and calls Check from time to
// time. The quiet period counts from the latest change, or, before any,
// from the first call, so starting the appliance starts the count. Times
// must never go backwards. Set MaxQuiet before the first call; the zero
// value is ready to use with the default. It is not safe for concurrent
// use.
type Stuck struct {
	MaxQuiet time.Duration // zero means 72 h

	last  time.Time // the latest change, or the first call
	fault string    // FaultStuck or ""
}

// Observe records a change of the input at at. The input is not stuck
// after a change: it returns "", with changed true if it was stuck.
func (s *Stuck) Observe(at time.Time) (fault string, changed bool) {
	s.last = at
	changed = s.fault != ""
	s.fault = ""
	return "", changed
}

// Check returns the input's fault as of now: FaultStuck once the input
// has not changed for longer than MaxQuiet, else "". Changed says the
// fault differs from what the previous call returned.
func (s *Stuck) Check(now time.Time) (fault string, changed bool) {
	if s.last.IsZero() {
		s.last = now
	}
	maxQuiet := s.MaxQuiet
	if maxQuiet <= 0 {
		maxQuiet = 72 * time.Hour
	}
	if s.fault == "" && now.Sub(s.last) > maxQuiet {
		s.fault = FaultStuck
		return s.fault, true
	}
	return s.fault, false
}
