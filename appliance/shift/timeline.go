package shift

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Around is how far either side of an alarm's raise its timeline reaches:
// an hour around it.
const Around = 30 * time.Minute

// TimelineRequest asks for a timeline: around an alarm (From and To
// default to Around either side of its raise), or of a place and a time
// range. Place is a wing id, a landing id (wing.LandingID) of this wing,
// a door, cell or alarm point id (a cell brings its cell call and its
// landing's counts), or empty for the whole site.
type TimelineRequest struct {
	Alarm    event.ID
	Place    string
	From, To time.Time
}

// Timeline is every door, alarm, check and roll event of a place and a
// time range across the site, oldest first.
type Timeline struct {
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Place string    `json:"place,omitempty"`
	// Alarm is the alarm asked about, with its response times.
	Alarm   *AlarmItem `json:"alarm,omitempty"`
	Entries []Entry    `json:"entries"`
}

// Entry is one event of a timeline: struck through when a correction
// struck it; an alarm's raise with its response times.
type Entry struct {
	Event  event.Event      `json:"event"`
	Struck *wing.Correction `json:"struck,omitempty"`
	Alarm  *AlarmItem       `json:"alarm,omitempty"`
}

// timelineKinds are the kinds a timeline shows.
func timelineKinds() []event.Kind {
	return []event.Kind{
		event.DoorOpened, event.DoorClosed, event.DoorLocked, event.DoorUnlocked,
		event.AlarmRaised, event.AlarmAcknowledged, event.AlarmAttended, event.AlarmResolved, event.AlarmClosedRemotely,
		event.AlarmEscalated, event.AlarmCleared,
		event.ObservationPlanSet, event.ObservationPlanEnded, event.ObservationChecked, event.ObservationPresence,
		event.RollExpectedSet, event.RollCounted, event.RollSigned, event.RecordCorrected,
	}
}

// Timeline returns the timeline req asks for; for an alarm the wing does
// not hold (yet), an error wrapping wing.ErrNoSuchAlarm.
func (r *Room) Timeline(ctx context.Context, req TimelineRequest) (Timeline, error) {
	var alarm *AlarmItem
	if req.Alarm != (event.ID{}) {
		r.cfg.Read(func(s *wing.State) {
			if a, ok := s.Alarms[req.Alarm]; ok && a.Raised {
				it := alarmItem(a)
				alarm = &it
			}
		})
		if alarm == nil {
			return Timeline{}, fmt.Errorf("shift: alarm %s: %w (not raised, or not yet received from its wing)", req.Alarm, wing.ErrNoSuchAlarm)
		}
		if req.From.IsZero() {
			req.From = alarm.Raised.Add(-Around)
		}
		if req.To.IsZero() {
			req.To = alarm.Raised.Add(Around)
		}
	}
	from, to, _, err := r.checkRange(req.From, req.To)
	if err != nil {
		return Timeline{}, err
	}
	match := r.place(req.Place)
	evs, err := r.events(ctx, event.Query{From: from, To: to, Kinds: timelineKinds()})
	if err != nil {
		return Timeline{}, err
	}
	t := Timeline{From: from, To: to, Place: req.Place, Alarm: alarm, Entries: []Entry{}}
	r.cfg.Read(func(s *wing.State) {
		for _, e := range evs {
			if !match(e) {
				continue
			}
			en := Entry{Event: e, Struck: struck(s, e.ID())}
			if e.Kind == event.AlarmRaised {
				it := alarmItem(s.Alarms[e.ID()])
				en.Alarm = &it
			}
			t.Entries = append(t.Entries, en)
		}
	})
	return t, nil
}

// place returns what matches a place's events.
func (r *Room) place(place string) func(event.Event) bool {
	if place == "" {
		return func(event.Event) bool { return true }
	}
	w := r.cfg.Wing
	subjects := []string{place}
	for _, l := range w.Landings {
		if place != wing.LandingID(w.ID, l) {
			continue
		}
		for _, d := range w.Doors {
			if d.Landing == l {
				subjects = append(subjects, d.ID)
			}
		}
		for _, p := range w.AlarmPoints {
			if p.Landing == l || slices.Contains(subjects, p.Cell) {
				subjects = append(subjects, p.ID)
			}
		}
	}
	if d, ok := w.Door(place); ok && d.Kind == config.CellDoor {
		if p, ok := w.CellCall(place); ok {
			subjects = append(subjects, p.ID)
		}
		subjects = append(subjects, wing.LandingID(w.ID, d.Landing))
	}
	return func(e event.Event) bool { return e.Wing == place || slices.Contains(subjects, e.Subject) }
}

// WriteNDJSON writes the timeline's events to w, one a line, in the
// timeline's order: each line exactly a record of the central pull
// (export.Record, docs/central.md), so it verifies the same way (SHA-256
// of Body is Event.Hash, Body's last 32 bytes are Event.Prev, and the JSON
// fields agree with Body). Cursor is empty: a timeline is an excerpt in
// time order, not a place in the site's commit order (resume a pull from
// the pull, not from a timeline).
func (t Timeline) WriteNDJSON(w io.Writer) error {
	// pullRecord has export.Record's fields but its cursor: the screens,
	// which write timelines, do not link the site's packages (the house
	// rules); the package's tests read each line as an export.Record and
	// verify it.
	type pullRecord struct {
		Event event.Event `json:"event"`
		Body  []byte      `json:"body"`
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, en := range t.Entries {
		if err := enc.Encode(pullRecord{Event: en.Event, Body: en.Event.Body()}); err != nil {
			return fmt.Errorf("shift: write the timeline: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("shift: write the timeline: %w", err)
	}
	return nil
}
