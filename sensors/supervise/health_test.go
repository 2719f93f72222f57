package supervise

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// call is one call to Observe or Check, with its time as an offset from t0
// and what it must return.
type call struct {
	observe bool // Observe, else Check
	at      time.Duration
	fault   string
	changed bool
}

func change(at time.Duration, fault string, changed bool) call {
	return call{observe: true, at: at, fault: fault, changed: changed}
}

func check(at time.Duration, fault string, changed bool) call {
	return call{at: at, fault: fault, changed: changed}
}

// changes returns n calls to Observe, every step from start, that return
// nothing.
func changes(n int, start, step time.Duration) []call {
	var calls []call
	for i := range n {
		calls = append(calls, change(start+time.Duration(i)*step, "", false))
	}
	return calls
}

type input interface {
	Observe(at time.Time) (fault string, changed bool)
	Check(now time.Time) (fault string, changed bool)
}

func replay(t *testing.T, in input, calls []call) {
	t.Helper()
	for i, c := range calls {
		var fault string
		var changed bool
		if c.observe {
			fault, changed = in.Observe(t0.Add(c.at))
		} else {
			fault, changed = in.Check(t0.Add(c.at))
		}
		require.Equal(t, c.fault, fault, "call %d at %s", i, c.at)
		require.Equal(t, c.changed, changed, "call %d at %s", i, c.at)
	}
}

const s = time.Second

func TestChatter(t *testing.T) {
	tests := []struct {
		name    string
		chatter Chatter
		calls   []call
	}{{
		name:  "ten changes in ten seconds are allowed",
		calls: append(changes(10, 0, 900*ms), check(20*s, "", false)),
	}, {
		name:  "the eleventh within ten seconds is flapping",
		calls: append(changes(10, 0, 900*ms), change(9*s, FaultFlapping, true), check(10*s, FaultFlapping, false)),
	}, {
		name: "changes older than the window are forgotten",
		calls: append(changes(10, 0, time.Second),
			change(10*s, "", false),  // the change at 0 is out of the window (0, 10 s]
			change(11*s, "", false)), // and the change at 1 s
	}, {
		name: "flapping ends after thirty quiet seconds",
		calls: append(changes(10, 0, 100*ms),
			change(1*s, FaultFlapping, true),
			change(5*s, FaultFlapping, false), // still flapping: restarts the quiet period
			check(34*s, FaultFlapping, false),
			check(35*s, "", true),
			check(36*s, "", false),
			change(37*s, "", false)), // a fresh count
	}, {
		name: "a change after the quiet period ends the fault without a Check",
		calls: append(changes(10, 0, 100*ms),
			change(1*s, FaultFlapping, true),
			change(40*s, "", true)),
	}, {
		name:    "own limits",
		chatter: Chatter{MaxChanges: 2, Window: time.Minute, Quiet: time.Minute},
		calls: []call{
			change(0, "", false), change(30*s, "", false), change(59*s, FaultFlapping, true),
			check(118*s, FaultFlapping, false), check(119*s, "", true),
		},
	}, {
		name:  "nothing observed",
		calls: []call{check(0, "", false), check(time.Hour, "", false)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replay(t, &tt.chatter, tt.calls)
		})
	}
}

func TestStuck(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name  string
		stuck Stuck
		calls []call
	}{{
		name:  "quiet for three days is allowed",
		calls: []call{change(0, "", false), check(3*day, "", false)},
	}, {
		name: "longer is stuck, until the next change",
		calls: []call{
			change(0, "", false),
			check(3*day+time.Nanosecond, FaultStuck, true),
			check(4*day, FaultStuck, false),
			change(4*day+time.Hour, "", true),
			check(5*day, "", false),
		},
	}, {
		name:  "the quiet period counts from the first Check when nothing has changed",
		calls: []call{check(10*day, "", false), check(13*day, "", false), check(13*day+s, FaultStuck, true)},
	}, {
		name:  "each change restarts the count",
		calls: []call{change(0, "", false), change(2*day, "", false), check(5*day, "", false), check(5*day+s, FaultStuck, true)},
	}, {
		name:  "own limit",
		stuck: Stuck{MaxQuiet: time.Hour},
		calls: []call{change(0, "", false), check(time.Hour, "", false), check(time.Hour+s, FaultStuck, true)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			replay(t, &tt.stuck, tt.calls)
		})
	}
}
