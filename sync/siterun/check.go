package siterun

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"

	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
	"wingnode/appliance/wing"
)

// Report is what Check found.
type Report struct {
	// Events is the number of distinct events in the site.
	Events int
	// Committed is the length of the common commit order.
	Committed int
	// Lost counts the events missing where they must be: each event seen
	// while the site ran that its wing no longer holds, and each event
	// (by wing holding it) that a wing lacks or holds altered.
	Lost int
}

// Check reads the stores of stopped wings (id → data folder) and returns
// every way in which they break replication's promises. Every event a wing
// recorded up to upto[wing] (the heads WaitConverged returned) must be on
// every wing; later ones, recorded as the site shut down, only on their
// own. seen are events observed as recorded while the site ran; each must
// still be held by its wing.
func Check(wings map[string]string, upto map[string]uint64, seen []event.Event) (Report, error) {
	var rep Report
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	all := map[string]held{}
	union := map[event.ID]event.Event{}
	for id, dir := range wings {
		path := datadir.Dir(dir).Store()
		if _, err := store.Verify(path); err != nil {
			fail("wing %s: %v", id, err)
			continue
		}
		h, err := read(id, path, upto)
		if err != nil {
			fail("wing %s: %v", id, err)
			continue
		}
		all[id] = h
		for eid, e := range h.events {
			if eid.Wing == id && eid.Seq <= upto[id] {
				union[eid] = e
			}
		}
	}
	rep.Events = len(union)
	for _, e := range seen {
		if e.Seq > upto[e.Wing] {
			continue
		}
		if u, ok := union[e.ID()]; !ok || u.Hash != e.Hash {
			rep.Lost++
			fail("event %s was recorded while the site ran but its wing no longer holds it", e.ID())
		}
	}
	var reference []store.Commit
	var refWing string
	for _, id := range slices.Sorted(maps.Keys(all)) {
		h := all[id]
		for eid, e := range union {
			got, ok := h.events[eid]
			switch {
			case !ok:
				rep.Lost++
				fail("wing %s lacks event %s", id, eid)
			case got.Hash != e.Hash:
				rep.Lost++
				fail("wing %s holds a different event %s", id, eid)
			}
		}
		for eid := range h.events {
			if _, ok := union[eid]; !ok && eid.Wing != id && eid.Seq <= upto[eid.Wing] {
				fail("wing %s holds event %s that its wing does not", id, eid)
			}
		}
		once := map[event.ID][]string{}
		commits := h.commits[:0:0]
		for _, c := range h.commits {
			if c.Event.Seq <= upto[c.Event.Wing] {
				once[c.Event.ID()] = append(once[c.Event.ID()], fmt.Sprintf("%d.%d", c.Index, c.N))
				commits = append(commits, c)
			}
		}
		h.commits = commits
		for eid, places := range once {
			if len(places) != 1 {
				fail("wing %s: event %s is %d times in the commit order, at %v", id, eid, len(places), places)
			}
		}
		if len(once) != len(union) {
			fail("wing %s: the commit order holds %d events of %d", id, len(once), len(union))
		}
		if reference == nil {
			reference, refWing = h.commits, id
			continue
		}
		if len(h.commits) != len(reference) {
			fail("wing %s has %d events in commit order, wing %s %d", id, len(h.commits), refWing, len(reference))
		}
		for i := range min(len(h.commits), len(reference)) {
			a, b := h.commits[i], reference[i]
			if a.Index != b.Index || a.N != b.N || a.Event.ID() != b.Event.ID() || a.Event.Hash != b.Event.Hash {
				fail("commit order differs at %d: wing %s has %s at %d.%d, wing %s %s at %d.%d", i, id, a.Event.ID(), a.Index, a.N, refWing, b.Event.ID(), b.Index, b.N)
				break
			}
		}
		if !bytes.Equal(h.state, all[refWing].state) {
			fail("wing %s's folded state differs from wing %s's", id, refWing)
		}
	}
	rep.Committed = len(reference)
	if len(errs) > 10 {
		errs = append(errs[:10], fmt.Errorf("... and %d more", len(errs)-10))
	}
	return rep, errors.Join(errs...)
}

// held is what one wing's store holds.
type held struct {
	events  map[event.ID]event.Event
	commits []store.Commit
	state   []byte // the folded state of every event up to the cut, as a checkpoint
}

func read(id, path string, upto map[string]uint64) (h held, err error) {
	st, err := store.Open(path, store.Options{Wing: id})
	if err != nil {
		return h, err
	}
	defer st.Close()
	h.events = map[event.ID]event.Event{}
	state := wing.New()
	err = st.Scan(0, func(r event.Record) error {
		if _, dup := h.events[r.Event.ID()]; dup {
			return fmt.Errorf("event %s stored twice", r.Event.ID())
		}
		h.events[r.Event.ID()] = r.Event
		if r.Event.Seq <= upto[r.Event.Wing] {
			state.Fold(r.Event)
		}
		return nil
	})
	if err != nil {
		return h, err
	}
	var index uint64
	var n uint32
	for {
		page, err := st.CommitsAfter(index, n, 1000)
		if err != nil {
			return h, err
		}
		if len(page) == 0 {
			break
		}
		h.commits = append(h.commits, page...)
		index, n = page[len(page)-1].Index, page[len(page)-1].N
	}
	h.state, err = state.MarshalCheckpoint()
	return h, err
}
