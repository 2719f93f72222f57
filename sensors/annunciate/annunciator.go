package annunciate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
)

// DefaultStale is the heartbeat timeout of Options that do not set one.
const DefaultStale = 30 * time.Second

// ErrStale is wrapped by the error passed to Options.OnError when Show has
// not been called for Options.Stale and the outputs have fallen to the
// safe state.
var ErrStale = errors.New("annunciate: no alarm summary within the heartbeat timeout, outputs are off: check that the appliance is running")

// OutputKind is what an output drives, which sets how it follows the
// alarms.
type OutputKind int

// The kinds of output.
const (
	Sounder OutputKind = iota + 1
	Strobe
	LED
)

func (k OutputKind) String() string {
	switch k {
	case Sounder:
		return "sounder"
	case Strobe:
		return "strobe"
	case LED:
		return "LED"
	}
	return fmt.Sprintf("OutputKind(%d)", int(k))
}

// Output is one annunciator wired to a pin.
type Output struct {
	ID   string // names the output in errors, e.g. "landing-sounder"
	Kind OutputKind
	Pin  gpio.PinOut
	// ActiveLow says the annunciator is energised when the pin is Low.
	ActiveLow bool
}

// Summary is the state of the alarms that the annunciators show.
type Summary struct {
	Unacknowledged int // alarms not yet acknowledged
	// HighestUnacknowledgedPriority is the most urgent priority among the
	// unacknowledged alarms, 1 being the most urgent. It matters only when
	// Unacknowledged > 0; zero or less counts as 1, so an alarm of unknown
	// priority sounds as the most urgent.
	HighestUnacknowledgedPriority int
	Active                        int // alarms not yet resolved, acknowledged or not
	Faults                        int // equipment faults
	// Escalated counts the alarms escalated and still waiting for what
	// they escalated for: an acknowledgement, or a cell call attended at
	// its door. They sound the escalation pattern, acknowledged or not.
	Escalated int
}

// Options configures an Annunciator. The zero value works.
type Options struct {
	// Clock times the patterns and the heartbeat. Nil means the real clock.
	Clock clockwork.Clock
	// Stale is how long after the last Show (or New, before the first
	// Show) the outputs fall to the safe state. Zero means DefaultStale.
	Stale time.Duration
	// OnError receives errors nobody is waiting for: pin writes that fail
	// and the heartbeat going stale. It is called without locks held, from
	// New, Show or Run's goroutine, and must not block for long. Nil means
	// slog.Default().
	OnError func(error)
}

// Annunciator drives a set of outputs. Its methods are safe for concurrent
// use.
type Annunciator struct {
	clock   clockwork.Clock
	stale   time.Duration
	onError func(error)
	safed   chan struct{} // closed by Safe

	mu       sync.Mutex
	outputs  []*output
	summary  Summary
	shown    time.Time       // when Show was last called, or New
	isStale  bool            // the heartbeat has timed out since that Show
	newAlarm bool            // Unacknowledged has risen since the patterns were last set
	latched  bool            // Safe has been called
	timer    clockwork.Timer // wakes Run at the next change; nil unless Run is running
}

// output is an Output and what the Annunciator knows of it.
type output struct {
	Output
	pattern pattern
	since   time.Time // when pattern began
	on      bool      // the state last written successfully
	written bool      // the last write succeeded, so the pin shows on
	failing bool      // the last write failed; it was reported then
}

// New returns an Annunciator for outputs. It first puts every output that
// has a pin in the safe state, reporting write errors to Options.OnError,
// and then checks the outputs: each needs an id, a known kind and a pin,
// and no id or pin may be used twice. The heartbeat starts now: call Show
// within Options.Stale, and Run.
func New(outputs []Output, opt Options) (*Annunciator, error) {
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	if opt.Stale == 0 {
		opt.Stale = DefaultStale
	}
	if opt.OnError == nil {
		opt.OnError = func(err error) { slog.Error("annunciator", "err", err) }
	}
	a := &Annunciator{
		clock:   opt.Clock,
		stale:   opt.Stale,
		onError: opt.OnError,
		safed:   make(chan struct{}),
		shown:   opt.Clock.Now(),
	}
	for _, o := range outputs {
		a.outputs = append(a.outputs, &output{Output: o})
	}
	for _, o := range a.outputs {
		if o.Pin == nil {
			continue
		}
		if err := o.set(false); err != nil {
			a.onError(err)
		}
	}
	if opt.Stale < 0 {
		return nil, fmt.Errorf("annunciate: negative heartbeat timeout %s", opt.Stale)
	}
	if err := validate(outputs); err != nil {
		return nil, err
	}
	return a, nil
}

func validate(outputs []Output) error {
	ids := make(map[string]bool, len(outputs))
	pins := make(map[string]string, len(outputs))
	for i, o := range outputs {
		switch {
		case o.ID == "":
			return fmt.Errorf("annunciate: output %d has no id", i)
		case ids[o.ID]:
			return fmt.Errorf("annunciate: output id %q is used twice", o.ID)
		case o.Kind != Sounder && o.Kind != Strobe && o.Kind != LED:
			return fmt.Errorf("annunciate: output %q has unknown kind %s", o.ID, o.Kind)
		case o.Pin == nil:
			return fmt.Errorf("annunciate: output %q has no pin", o.ID)
		case o.Pin.Name() != "" && pins[o.Pin.Name()] != "":
			return fmt.Errorf("annunciate: outputs %q and %q both use pin %s", pins[o.Pin.Name()], o.ID, o.Pin.Name())
		}
		ids[o.ID] = true
		pins[o.Pin.Name()] = o.ID
	}
	return nil
}

// Show sets what the outputs show and counts as a heartbeat. While Run is
// running the outputs change at once; before, Run starts from the latest
// Summary shown. After Safe, Show does nothing.
func (a *Annunciator) Show(s Summary) {
	a.mu.Lock()
	if a.latched {
		a.mu.Unlock()
		return
	}
	if s.Unacknowledged > a.summary.Unacknowledged {
		a.newAlarm = true
	}
	a.summary = s
	a.shown = a.clock.Now()
	a.isStale = false
	errs := a.apply()
	a.mu.Unlock()
	a.report(errs)
}

// Run drives the patterns and watches the heartbeat until ctx is done,
// then puts every output in the safe state, reporting write errors to
// Options.OnError, and returns nil. Until Run runs, and after it returns,
// Show changes no output. Run returns nil when Safe is called, and an
// error if Run is already running.
func (a *Annunciator) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.timer != nil {
		a.mu.Unlock()
		return errors.New("annunciate: Run is already running")
	}
	if a.latched {
		a.mu.Unlock()
		return nil
	}
	a.timer = a.clock.NewTimer(a.stale)
	timer := a.timer
	errs := a.apply()
	a.mu.Unlock()
	a.report(errs)

	for {
		select {
		case <-timer.Chan():
			a.mu.Lock()
			errs := a.apply()
			a.mu.Unlock()
			a.report(errs)
		case <-a.safed:
			a.mu.Lock()
			a.timer.Stop()
			a.timer = nil
			a.mu.Unlock()
			return nil
		case <-ctx.Done():
			a.mu.Lock()
			a.timer.Stop()
			a.timer = nil
			err := a.off()
			a.mu.Unlock()
			if err != nil {
				a.onError(err)
			}
			return nil
		}
	}
}

// Safe puts every output in the safe state, off, and keeps it there: later
// calls to Show do nothing and Run returns. It writes every pin even if it
// should already be off, and returns the errors of those writes. It is for
// the appliance's exit and panic paths.
func (a *Annunciator) Safe() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.latched {
		a.latched = true
		close(a.safed)
	}
	return a.off()
}

// off writes every output off, whatever it was thought to be, and returns
// the errors. The caller holds a.mu.
func (a *Annunciator) off() error {
	var errs []error
	for _, o := range a.outputs {
		errs = append(errs, o.set(false))
	}
	return errors.Join(errs...)
}

// apply sets every output to what the summary and the clock say, unless
// Run is not running, and sets the timer for the next change. It returns
// the errors to report. The caller holds a.mu.
func (a *Annunciator) apply() []error {
	if a.timer == nil || a.latched {
		return nil
	}
	now := a.clock.Now()
	var errs []error
	s := a.summary
	staleAt := a.shown.Add(a.stale)
	if !now.Before(staleAt) {
		s = Summary{}
		if !a.isStale {
			a.isStale = true
			errs = append(errs, fmt.Errorf("annunciate: no Show for %s: %w", a.stale, ErrStale))
		}
	}
	var next time.Time
	if !a.isStale {
		next = staleAt
	}
	for _, o := range a.outputs {
		if p := patternFor(o.Kind, s); p != o.pattern || o.Kind == Sounder && a.newAlarm {
			o.pattern, o.since = p, now
		}
		on, change := o.pattern.at(now.Sub(o.since))
		if !o.written || o.on != on {
			wasFailing := o.failing
			if err := o.set(on); err != nil && !wasFailing {
				errs = append(errs, err)
			}
		}
		if change > 0 && (next.IsZero() || o.since.Add(change).Before(next)) {
			next = o.since.Add(change)
		}
	}
	a.newAlarm = false
	if next.IsZero() {
		a.timer.Stop()
	} else {
		a.timer.Reset(next.Sub(now))
	}
	return errs
}

func (a *Annunciator) report(errs []error) {
	for _, err := range errs {
		a.onError(err)
	}
}
