package observation

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/config"
	"wingnode/appliance/wing"
)

// nights is a wing whose night runs from 21:00 to 07:00.
var nights = wing.Schedule{{At: 7 * time.Hour, Regime: wing.Unlock}, {At: 21 * time.Hour, Regime: wing.Night}}

func regimeOf(sched wing.Schedule) func(time.Time) wing.Regime {
	s := wing.New()
	return func(t time.Time) wing.Regime { return s.RegimeAt("A", sched, t) }
}

// walkPlan checks a cell as its plan asks for days on a fake clock, each
// check at a random moment between its window's opening and its due
// time (officers come early, never late), and returns each check's
// interval to the next due time, with the regime it was drawn in.
type drawn struct {
	from, due time.Time
	interval  time.Duration
	regime    wing.Regime
	talk      bool
}

func walkPlan(t *testing.T, plan wing.Plan, sched wing.Schedule, seed uint64, n int) []drawn {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC))
	rnd := rand.New(rand.NewPCG(seed, 7))
	regime := regimeOf(sched)
	var out []drawn
	var previous time.Duration
	talks := map[string]int{}
	for range n {
		from := clock.Now()
		day := from.Format(time.DateOnly)
		d := Draw{Plan: plan, From: from, Previous: previous, Conversations: talks[day], Regime: regime}
		due := d.Next(rnd)
		lo, _ := d.Window()
		out = append(out, drawn{from: from, due: due.At, interval: due.At.Sub(from), regime: regime(from), talk: due.Conversation})
		previous = due.At.Sub(from)
		// The officer comes at a random moment before it is due.
		clock.Advance(lo.Sub(from) + time.Duration(rnd.Int64N(int64(due.At.Sub(lo))+1)))
		if due.Conversation {
			talks[clock.Now().Format(time.DateOnly)]++
		}
	}
	return out
}

// TestDueTimesKeepTheMaximumGap: over thousands of draws, by day and by
// night and across the change, every due time is after its check and no
// later than the plan allows: never past the maximum gap, never past the
// regime's interval.
func TestDueTimesKeepTheMaximumGap(t *testing.T) {
	plans := []wing.Plan{
		{DayPerHour: 1, NightPerHour: 2, ConversationsPerDay: 3, MaxGap: 50 * time.Minute}, // the gap is stricter by day
		{DayPerHour: 4, NightPerHour: 1, ConversationsPerDay: 0, MaxGap: 2 * time.Hour},    // fewer at night
		{DayPerHour: 0, NightPerHour: 0, ConversationsPerDay: 1, MaxGap: 30 * time.Minute}, // the gap alone
		{DayPerHour: 12, NightPerHour: 12, MaxGap: time.Hour},
	}
	r := rand.New(rand.NewPCG(3, 3))
	for range 20 { // and plans at random
		plans = append(plans, wing.Plan{DayPerHour: float64(r.IntN(49)) / 4, NightPerHour: float64(r.IntN(49)) / 4,
			ConversationsPerDay: r.IntN(6), MaxGap: wing.MinGap + time.Duration(r.Int64N(int64(wing.MaxGapLimit-wing.MinGap)))})
	}
	for i, plan := range plans {
		require.NoError(t, plan.Validate())
		regime := regimeOf(nights)
		n := 3000
		if i >= 4 {
			n = 300
		}
		for _, d := range walkPlan(t, plan, nights, uint64(i), n) {
			require.True(t, d.due.After(d.from), "plan %d: due after its check", i)
			require.LessOrEqual(t, d.interval, plan.MaxGap, "plan %d: never past the maximum gap (from %s)", i, d.from)
			limit := Draw{Plan: plan}.interval(regime(d.due))
			if regime(d.from) == regime(d.due) {
				require.LessOrEqual(t, d.interval, limit+time.Second, "plan %d: within the %s interval (from %s)", i, regime(d.from), d.from)
			}
		}
	}
}

// TestNightFallingBringsTheDueTimeForward: a check drawn before night
// falls is due no later than the night's interval after it falls.
func TestNightFallingBringsTheDueTimeForward(t *testing.T) {
	plan := wing.Plan{DayPerHour: 1, NightPerHour: 4, MaxGap: 2 * time.Hour}
	from := time.Date(2026, 12, 1, 20, 50, 0, 0, time.UTC)
	d := Draw{Plan: plan, From: from, Regime: regimeOf(nights)}
	lo, hi := d.Window()
	assert.Equal(t, time.Date(2026, 12, 1, 21, 15, 0, 0, time.UTC), hi, "night falls at 21:00; 4 an hour then")
	assert.Equal(t, from.Add(25*time.Minute/4), lo)
	late := d
	late.NotBefore = from.Add(20 * time.Minute)
	lo2, hi2 := late.Window()
	assert.Equal(t, late.NotBefore, lo2, "recorded 20 minutes after the officer stood at the cell")
	assert.Equal(t, hi, hi2)
	rnd := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		due := d.Next(rnd)
		require.False(t, due.At.After(hi))
		require.False(t, due.At.Before(lo.Truncate(time.Second)))
		require.False(t, due.Conversation, "no conversations are asked for at night")
	}
}

// TestDueTimesAreNotPeriodic: the intervals spread over their window, no
// interval repeats the one before, no rhythm shows in their order
// (autocorrelation), and values seldom recur.
func TestDueTimesAreNotPeriodic(t *testing.T) {
	plan := wing.Plan{DayPerHour: 2, NightPerHour: 2, MaxGap: time.Hour}
	ds := walkPlan(t, plan, nil, 42, 4000)
	xs := make([]float64, len(ds))
	seen := map[time.Duration]int{}
	for i, d := range ds {
		xs[i] = d.interval.Seconds()
		seen[d.interval]++
		if i > 0 {
			require.NotEqual(t, ds[i-1].interval, d.interval, "draw %d repeats the interval before", i)
			// Never next to the one before.
			assert.GreaterOrEqual(t, math.Abs(xs[i]-xs[i-1]), (30*time.Minute-30*time.Minute/4).Seconds()/apart-1, "draw %d", i)
		}
	}
	mean, sd := meanSD(xs)
	assert.Greater(t, sd/mean, 0.2, "the intervals spread (mean %.0fs, sd %.0fs)", mean, sd)
	lo, hi := minMax(xs)
	assert.Less(t, lo, (30*time.Minute/4 + time.Minute).Seconds(), "intervals reach the window's opening")
	assert.Greater(t, hi, (30*time.Minute - time.Minute).Seconds(), "and its end")
	for lag := 1; lag <= 10; lag++ {
		assert.Less(t, math.Abs(autocorrelation(xs, mean, lag)), 0.1, "no rhythm at lag %d", lag)
	}
	most := 0
	for _, n := range seen {
		most = max(most, n)
	}
	assert.LessOrEqual(t, most, 8, "no interval recurs often (of %d draws, %d distinct)", len(xs), len(seen))
	// The same seed draws the same times: the record, not the draw, is what wings agree on.
	again := walkPlan(t, plan, nil, 42, 50)
	for i := range again {
		assert.Equal(t, ds[i].due, again[i].due)
	}
}

// TestConversationsAreAskedForByDay: a plan's conversations are asked for
// by day, about as many as it sets a day, never at night.
func TestConversationsAreAskedForByDay(t *testing.T) {
	plan := wing.Plan{DayPerHour: 2, NightPerHour: 1, ConversationsPerDay: 3, MaxGap: time.Hour}
	regime := regimeOf(nights)
	perDay := map[string]int{}
	for _, d := range walkPlan(t, plan, nights, 9, 3000) {
		if d.talk {
			require.NotEqual(t, wing.Night, regime(d.due), "no conversation asked for at night (%s)", d.due)
			perDay[d.due.Format(time.DateOnly)]++
		}
	}
	require.Greater(t, len(perDay), 30)
	total := 0
	for day, n := range perDay {
		assert.LessOrEqual(t, n, plan.ConversationsPerDay, day)
		total += n
	}
	assert.Greater(t, float64(total)/float64(len(perDay)), 2.0, "most days have their conversations asked for")
}

func meanSD(xs []float64) (float64, float64) {
	var sum, sq float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / float64(len(xs))
	for _, x := range xs {
		sq += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sq / float64(len(xs)))
}

func minMax(xs []float64) (float64, float64) {
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

func autocorrelation(xs []float64, mean float64, lag int) float64 {
	var num, den float64
	for i, x := range xs {
		den += (x - mean) * (x - mean)
		if i+lag < len(xs) {
			num += (x - mean) * (xs[i+lag] - mean)
		}
	}
	return num / den
}

const walkWing = `wing id=W walk_pace=4s
door id=W1-01 kind=cell landing=1 pin=P1
door id=W1-02 kind=cell landing=1 pin=P2
door id=W1-GATE kind=gate landing=1 pin=P3
door id=W1-03 kind=cell landing=1 pin=P4
door id=W1-20 kind=cell landing=1 pin=P5
door id=W2-01 kind=cell landing=2 pin=P6
`

// TestWalkFlagsImpossibleChecks: a check sooner after the officer's
// previous one than walking between the cells allows, or recorded on
// another landing's screen, is flagged.
func TestWalkFlagsImpossibleChecks(t *testing.T) {
	layout, err := config.Parse("w.conf", strings.NewReader(walkWing))
	require.NoError(t, err)
	w := Walk{Layout: layout}
	needs, ok := w.Needs("W1-01", "W1-20")
	require.True(t, ok)
	assert.Equal(t, 12*time.Second, needs, "three cells along (the gate is not a cell), 4 s each")
	needs, _ = w.Needs("W1-20", "W2-01")
	assert.Equal(t, LandingChange*4*time.Second, needs)
	_, ok = w.Needs("W1-01", "W1-GATE")
	assert.False(t, ok)

	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	prev := &wing.CheckRef{Wing: "W", Cell: "W1-01", At: t0}
	p := w.Judge("W1-20", t0.Add(5*time.Second), "1", prev)
	assert.Equal(t, []string{wing.FlagTooFast}, p.Flags)
	assert.Equal(t, 5*time.Second, p.Took)
	assert.Equal(t, 12*time.Second, p.Needs)
	assert.Empty(t, w.Judge("W1-20", t0.Add(12*time.Second), "1", prev).Flags, "walked at the pace")
	assert.Empty(t, w.Judge("W1-20", t0, "", &wing.CheckRef{Wing: "X", Cell: "W1-01", At: t0}).Flags, "the previous check was on another wing")
	assert.Equal(t, []string{wing.FlagOtherLanding}, w.Judge("W2-01", t0, "1", nil).Flags)
	assert.Equal(t, []string{wing.FlagTooFast, wing.FlagOtherLanding}, w.Judge("W2-01", t0.Add(time.Second), "1", prev).Flags)
}
