package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/shift"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
)

// busyWing makes n sealed events of a busy wing spread evenly over span
// from start: doors and locks moving, cell calls, staff alarms and door
// anomalies with their acknowledgement, attendance and resolution, checks
// of cells on observation plans (some at the door, some late or
// flagged), presence at doors and landing counts.
func busyWing(w string, start time.Time, span time.Duration, n int, rnd *rand.Rand) []event.Event {
	type step struct {
		at time.Time
		d  event.Draft
	}
	var pending []step // alarm steps to come, soonest first
	out := make([]event.Event, 0, n)
	var prev event.Hash
	cell := func() string { return fmt.Sprintf("%s%d-%02d", w, 1+rnd.IntN(3), 1+rnd.IntN(20)) }
	for i := range n {
		at := start.Add(time.Duration(int64(span) / int64(n) * int64(i)))
		var d event.Draft
		switch {
		case len(pending) > 0 && !pending[0].at.After(at):
			d, pending = pending[0].d, pending[1:]
		case i%25 == 0:
			point, kind, prio := cell()+"-CALL", "cell-call", "2"
			switch rnd.IntN(4) {
			case 0:
				point, kind, prio = fmt.Sprintf("%s%d-STAFF", w, 1+rnd.IntN(3)), "staff-alarm", "1"
			case 1:
				point, kind = cell(), wing.DoorHeldOpen
			}
			d = event.Draft{Kind: event.AlarmRaised, Subject: point, Actor: event.SystemActor, Data: map[string]string{"point_kind": kind, "priority": prio}}
			id := event.ID{Wing: w, Seq: uint64(i + 1)}.String()
			ack := at.Add(time.Duration(10+rnd.IntN(80)) * time.Second)
			attend := ack.Add(time.Duration(30+rnd.IntN(300)) * time.Second)
			how := wing.AttendedFromPanel
			if kind == "cell-call" {
				how = wing.AttendedAtReset
			}
			pending = append(pending,
				step{ack, event.Draft{Kind: event.AlarmAcknowledged, Subject: point, Actor: "1001", Data: map[string]string{"alarm": id}}},
				step{attend, event.Draft{Kind: event.AlarmAttended, Subject: point, Actor: event.SystemActor, Data: map[string]string{"alarm": id, "how": how, "where": point}}},
				step{attend.Add(time.Minute), event.Draft{Kind: event.AlarmResolved, Subject: point, Actor: "1001", Data: map[string]string{"alarm": id, "outcome": "assistance-given"}}})
			slices.SortStableFunc(pending, func(a, b step) int { return a.at.Compare(b.at) })
		case i%8 == 0:
			c := fmt.Sprintf("%s%d-07", w, 1+rnd.IntN(3))
			data := map[string]string{"outcome": string(wing.CheckOutcomes()[rnd.IntN(4)]), "how": wing.CheckedAtPanel, "regime": "unlock",
				"due": at.Add(-time.Duration(rnd.IntN(600)) * time.Second).Format(time.RFC3339), "next_due": at.Add(20 * time.Minute).Format(time.RFC3339)}
			if rnd.IntN(3) == 0 {
				data["how"], data["presence"], data["presence_at"] = wing.CheckedAtDoor, event.ID{Wing: w, Seq: uint64(max(i, 1))}.String(), at.Format(time.RFC3339)
			}
			if rnd.IntN(10) == 0 {
				data["late"] = "true"
			}
			if rnd.IntN(20) == 0 {
				data["flags"] = wing.FlagTooFast
			}
			d = event.Draft{Kind: event.ObservationChecked, Subject: c, Actor: "1002", Data: data}
		case i%50 == 1:
			c := cell()
			d = event.Draft{Kind: event.ObservationPresence, Subject: c, Actor: event.SystemActor, Data: map[string]string{"point": c + "-CALL"}}
		case i%200 == 2:
			l := strconv.Itoa(1 + rnd.IntN(3))
			d = event.Draft{Kind: event.RollCounted, Subject: wing.LandingID(w, l), Actor: "1002",
				Data: map[string]string{"landing": l, "counted": "19", "expected": "19"}}
		case i%10 == 3:
			k := event.DoorLocked
			if rnd.IntN(2) == 0 {
				k = event.DoorUnlocked
			}
			d = event.Draft{Kind: k, Subject: cell(), Actor: event.SystemActor}
		default:
			k := event.DoorOpened
			if i%2 == 0 {
				k = event.DoorClosed
			}
			d = event.Draft{Kind: k, Subject: cell(), Actor: event.SystemActor}
		}
		e := event.Event{Wing: w, Seq: uint64(i + 1), HLC: event.HLC{WallNanos: at.UnixNano()}, Wall: at.UTC(), ClockTrusted: true,
			Kind: d.Kind, Subject: d.Subject, Actor: d.Actor, Data: d.Data}
		e.Seal(prev)
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

// ingestWings stores each wing's events as replication would, a few
// thousand a transaction.
func ingestWings(ctx context.Context, st *store.Store, wings [][]event.Event) error {
	const per = 2000
	for _, evs := range wings {
		for i := 0; i < len(evs); i += 5 * per {
			var b store.Batch
			for j := i; j < min(i+5*per, len(evs)); j += per {
				b.Entries = append(b.Entries, store.Entry{Events: evs[j:min(j+per, len(evs))]})
			}
			refused, err := st.Ingest(ctx, b)
			if err != nil {
				return err
			}
			for _, err := range refused {
				if err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// foldStore folds every stored event, as a wing's picture holds them.
func foldStore(st *store.Store) (func(func(*wing.State)), error) {
	s := wing.New()
	err := st.Scan(0, func(r event.Record) error { s.Fold(r.Event); return nil })
	return func(f func(*wing.State)) { f(s) }, err
}

// median times f runs times and returns the median in ms.
func median(runs int, f func() error) (float64, error) {
	ds := make([]time.Duration, runs)
	for i := range ds {
		start := time.Now()
		if err := f(); err != nil {
			return 0, err
		}
		ds[i] = time.Since(start)
	}
	return percentile(ds, 50), nil
}

// handoverDraft: the handover draft of a 12-hour shift of a busy wing,
// 10,000 events, from a store holding that shift.
func handoverDraft(ctx context.Context, dir string) ([]figure, error) {
	const n = 10_000
	start := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	layout, err := config.Simulated("A")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dir, "wing.db"), store.Options{Wing: "A"})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	evs := busyWing("A", start, 12*time.Hour, n, rand.New(rand.NewPCG(1, 1)))
	raised := 0
	for _, e := range evs {
		if e.Kind == event.AlarmRaised {
			raised++
		}
	}
	if err := ingestWings(ctx, st, [][]event.Event{evs}); err != nil {
		return nil, err
	}
	read, err := foldStore(st)
	if err != nil {
		return nil, err
	}
	room := shift.New(shift.Config{Wing: layout, Store: st, Read: read, Clock: clockwork.NewFakeClockAt(start.Add(13 * time.Hour))})
	var d shift.Draft
	ms, err := median(11, func() (err error) {
		d, err = room.Draft(ctx, start, start.Add(12*time.Hour))
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(d.Alarms)+len(d.DoorAnomalies) != raised || d.Checks.Done == 0 {
		return nil, fmt.Errorf("the draft holds %d alarms and %d checks: not the shift that was stored", len(d.Alarms)+len(d.DoorAnomalies), d.Checks.Done)
	}
	return []figure{{"handover_draft_ms", ms, "ms"}}, nil
}

// timeline: the timeline of the hour around an alarm on a site of 5 wings
// holding 1,000,000 events (10 days of busy wings).
func timeline(ctx context.Context, dir string) ([]figure, error) {
	const wings, perWing = 5, 200_000
	start := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	span := 10 * 24 * time.Hour
	layout, err := config.Simulated("C")
	if err != nil {
		return nil, err
	}
	st, err := store.Open(filepath.Join(dir, "wing.db"), store.Options{Wing: "C"})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	var site [][]event.Event
	for i, w := range []string{"A", "B", "C", "D", "E"}[:wings] {
		site = append(site, busyWing(w, start.Add(time.Duration(i)*time.Second), span, perWing, rand.New(rand.NewPCG(uint64(i), 2))))
	}
	if err := ingestWings(ctx, st, site); err != nil {
		return nil, err
	}
	var alarm event.ID
	for _, e := range site[2][perWing/2:] {
		if e.Kind == event.AlarmRaised {
			alarm = e.ID()
			break
		}
	}
	site = nil
	read, err := foldStore(st)
	if err != nil {
		return nil, err
	}
	room := shift.New(shift.Config{Wing: layout, Store: st, Read: read, Clock: clockwork.NewFakeClockAt(start.Add(span))})
	var tl shift.Timeline
	ms, err := median(11, func() (err error) {
		tl, err = room.Timeline(ctx, shift.TimelineRequest{Alarm: alarm})
		return err
	})
	if err != nil {
		return nil, err
	}
	if want := wings * perWing / 240; len(tl.Entries) < want/2 {
		return nil, fmt.Errorf("the timeline holds %d events, want about %d", len(tl.Entries), want)
	}
	return []figure{{"timeline_ms", ms, "ms"}, {"timeline_events", float64(len(tl.Entries)), "events"}}, nil
}
