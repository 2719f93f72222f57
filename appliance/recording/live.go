package recording

import "sync"

// liveInputs is what each input read last, for the screens: not every
// reading is an event (a button's release is not recorded), so the fold
// cannot say whether a latched alarm's input is back to normal.
type liveInputs struct {
	mu     sync.Mutex
	active map[string]bool // by input id; absent: not read since the start, or faulted
}

func (l *liveInputs) set(id string, active bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.active == nil {
		l.active = map[string]bool{}
	}
	l.active[id] = active
}

func (l *liveInputs) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.active, id)
}

// Reading returns what the input id (a door or lock contact, an alarm
// button, a reset key switch) read last: active (open, locked, pressed,
// turned), and known once it has been read since the recording started
// and while it is not faulted.
func (r *Recorder) Reading(id string) (active, known bool) {
	r.live.mu.Lock()
	defer r.live.mu.Unlock()
	active, known = r.live.active[id]
	return active, known
}
