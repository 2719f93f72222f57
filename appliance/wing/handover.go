package wing

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"wingnode/appliance/event"
)

// Handover is a shift's handover on a wing: signed by the outgoing
// officer with notes and the digest of the draft they reviewed, then
// signed as read by the incoming officers.
type Handover struct {
	ID event.ID `json:"id"`
	// Signed is false while only readings of it have been folded.
	Signed    bool      `json:"signed"`
	Wing      string    `json:"wing"`
	By        string    `json:"by"`
	At        time.Time `json:"at"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Notes     string    `json:"notes,omitempty"`
	Digest    string    `json:"digest"`
	OpenItems int       `json:"open_items"`
	Reads     []Reading `json:"reads,omitempty"` // earliest first, one per officer
	Key       event.Key `json:"key"`
}

// HandoverEntry is what the outgoing officer signs: the shift, the digest
// of the draft they reviewed (appliance/shift's Draft.Digest) and how many
// open items it hands over, and their notes.
type HandoverEntry struct {
	From, To  time.Time
	Digest    string
	OpenItems int
	Notes     string
}

// Errors of handovers and corrections.
var (
	ErrNoSuchHandover = errors.New("no such handover")
	// ErrOwnHandover: the outgoing officer cannot sign their own handover
	// as read; the incoming officer does.
	ErrOwnHandover    = errors.New("the incoming officer signs a handover as read, not the outgoing one")
	ErrNoSuchRecord   = errors.New("no such record")
	ErrNotCorrectable = errors.New("this kind of record is not corrected")
	ErrAlreadyStruck  = errors.New("record already struck")
)

// Reading is an incoming officer signing a handover as read.
type Reading struct {
	ID  event.ID  `json:"id"`
	By  string    `json:"by"`
	At  time.Time `json:"at"`
	Key event.Key `json:"key"`
}

// ReadBy returns the officer's reading of the handover, if they signed it
// as read.
func (h Handover) ReadBy(officer string) (Reading, bool) {
	i := slices.IndexFunc(h.Reads, func(r Reading) bool { return r.By == officer })
	if i < 0 {
		return Reading{}, false
	}
	return h.Reads[i], true
}

// Handover notes are split over data fields of at most event.MaxNote
// characters each: "notes", then "notes.2" to "notes.5".
const (
	notesFields      = 5
	MaxHandoverNotes = notesFields * event.MaxNote
)

// NotesData writes notes into data as NotesFromData reads them: a field of
// at most event.MaxNote bytes each, cut between characters.
func NotesData(notes string, data map[string]string) {
	for i := 1; notes != "" && i <= notesFields; i++ {
		n := min(len(notes), event.MaxNote)
		for n < len(notes) && !utf8.RuneStart(notes[n]) {
			n--
		}
		key := "notes"
		if i > 1 {
			key += "." + strconv.Itoa(i)
		}
		data[key], notes = notes[:n], notes[n:]
	}
}

// NotesFromData reads the notes NotesData wrote.
func NotesFromData(data map[string]string) string {
	var b strings.Builder
	b.WriteString(data["notes"])
	for i := 2; i <= notesFields; i++ {
		b.WriteString(data["notes."+strconv.Itoa(i)])
	}
	return b.String()
}

// keepHandovers is how many of a wing's latest handovers the fold keeps.
const keepHandovers = 8

// foldHandover folds a handover signed or read. A wing's handovers are
// kept newest first by their place in the wing's chain (its seq), which
// every wing agrees on, whichever record of one arrives first.
func (s *State) foldHandover(e event.Event, k event.Key) {
	id := e.ID()
	if e.Kind == event.HandoverRead {
		var err error
		if id, err = event.ParseID(e.Data["handover"]); err != nil {
			return
		}
	}
	list := s.Handovers[id.Wing]
	i, found := slices.BinarySearchFunc(list, id.Seq, func(h Handover, seq uint64) int {
		switch {
		case h.ID.Seq > seq:
			return -1
		case h.ID.Seq < seq:
			return 1
		}
		return 0
	})
	if !found && i >= keepHandovers {
		return
	}
	h := Handover{ID: id, Wing: id.Wing}
	if found {
		h = list[i]
	}
	switch e.Kind {
	case event.HandoverSigned:
		if h.Signed {
			return
		}
		h.Signed, h.By, h.At, h.Key = true, e.Actor, e.Wall, k
		h.From, _ = time.Parse(time.RFC3339Nano, e.Data["from"])
		h.To, _ = time.Parse(time.RFC3339Nano, e.Data["to"])
		h.Notes, h.Digest = NotesFromData(e.Data), e.Data["digest"]
		h.OpenItems, _ = strconv.Atoi(e.Data["open_items"])
	case event.HandoverRead:
		r := Reading{ID: e.ID(), By: e.Actor, At: e.Wall, Key: k}
		j := slices.IndexFunc(h.Reads, func(x Reading) bool { return x.By == r.By })
		switch {
		case j < 0:
			h.Reads = append(slices.Clone(h.Reads), r)
			slices.SortFunc(h.Reads, func(a, b Reading) int { return a.Key.Compare(b.Key) })
		case k.Compare(h.Reads[j].Key) < 0:
			h.Reads = slices.Clone(h.Reads)
			h.Reads[j] = r
			slices.SortFunc(h.Reads, func(a, b Reading) int { return a.Key.Compare(b.Key) })
		default:
			return
		}
	}
	out := slices.Clone(list)
	if found {
		out[i] = h
	} else {
		out = slices.Insert(out, i, h)
	}
	s.Handovers[id.Wing] = out[:min(len(out), keepHandovers)]
}

// LatestHandover returns the wing's latest signed handover that has not
// been struck.
func (s *State) LatestHandover(wing string) (Handover, bool) {
	for _, h := range s.Handovers[wing] {
		if _, struck := s.Struck[h.ID]; h.Signed && !struck {
			return h, true
		}
	}
	return Handover{}, false
}

// Correction is a record that strikes an earlier one. The struck record
// stays in the chain; screens show it struck through.
type Correction struct {
	ID      event.ID   `json:"id"`
	Record  event.ID   `json:"record"`
	Kind    event.Kind `json:"kind"`
	Subject string     `json:"subject"`
	By      string     `json:"by"`
	At      time.Time  `json:"at"`
	Reason  string     `json:"reason"`
	Key     event.Key  `json:"key"`
}

// CorrectionFromEvent reads a record.corrected event.
func CorrectionFromEvent(e event.Event) (Correction, bool) {
	id, err := event.ParseID(e.Data["record"])
	if err != nil {
		return Correction{}, false
	}
	return Correction{ID: e.ID(), Record: id, Kind: event.Kind(e.Data["kind"]), Subject: e.Subject, By: e.Actor, At: e.Wall,
		Reason: e.Data["reason"], Key: e.Key()}, true
}

// foldCorrection strikes a record: the earliest correction of it stands.
func (s *State) foldCorrection(e event.Event) {
	c, ok := CorrectionFromEvent(e)
	if !ok {
		return
	}
	if old, ok := s.Struck[c.Record]; !ok || c.Key.Compare(old.Key) < 0 {
		s.Struck[c.Record] = c
	}
}

// Correctable reports whether a record of kind may be struck by a
// correction: an officer's checks, counts, signed rolls and handovers and
// readings of them. Plans and expected rolls are set again instead.
func Correctable(kind event.Kind) bool {
	switch kind {
	case event.ObservationChecked, event.RollCounted, event.RollSigned, event.HandoverSigned, event.HandoverRead:
		return true
	}
	return false
}
