package officer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/roster"
	"wingnode/appliance/wing"
)

// SignHandover records the outgoing officer's signing of the shift's
// handover and returns its ID: the shift, the digest of the draft they
// reviewed, how many open items it hands over, and their notes (at most
// wing.MaxHandoverNotes characters).
func (p *Panel) SignHandover(ctx context.Context, by roster.Actor, h wing.HandoverEntry) (event.ID, error) {
	if err := allow(by, roster.Officer, "signing a handover"); err != nil {
		return event.ID{}, err
	}
	now := p.cfg.Clock.Now()
	switch {
	case h.From.IsZero() || !h.To.After(h.From):
		return event.ID{}, fmt.Errorf("officer: a shift ends after it starts (%s to %s): %w", h.From.Format("15:04"), h.To.Format("15:04"), ErrBadInput)
	case h.To.After(now.Add(handoverAhead)):
		return event.ID{}, fmt.Errorf("officer: a handover is signed at the end of its shift, not before %s: %w", h.To.Add(-handoverAhead).Format("15:04"), ErrBadInput)
	case !validDigest(h.Digest):
		return event.ID{}, fmt.Errorf("officer: the draft's digest is 64 hex digits: review the draft again: %w", ErrBadInput)
	case h.OpenItems < 0:
		return event.ID{}, fmt.Errorf("officer: %d open items: %w", h.OpenItems, ErrBadInput)
	}
	if err := event.CheckLines("notes", h.Notes, wing.MaxHandoverNotes); err != nil {
		return event.ID{}, fmt.Errorf("officer: %w: %w", ErrBadInput, err)
	}
	data := map[string]string{"from": h.From.UTC().Format(time.RFC3339), "to": h.To.UTC().Format(time.RFC3339), "digest": h.Digest,
		"open_items": strconv.Itoa(h.OpenItems)}
	wing.NotesData(h.Notes, data)
	rec, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.HandoverSigned, Subject: p.cfg.Wing.ID, Actor: by.ID, Data: data})
	if err != nil {
		return event.ID{}, err
	}
	return rec.Event.ID(), nil
}

// handoverAhead is how long before its shift ends a handover may be
// signed: the incoming officers arrive a little early.
const handoverAhead = 30 * time.Minute

func validDigest(s string) bool {
	if len(s) != 64 {
		return false
	}
	return strings.Trim(s, "0123456789abcdef") == ""
}

// ReadHandover records the incoming officer signing a handover as read.
// The outgoing officer cannot (wing.ErrOwnHandover); an officer who has
// read it already records nothing.
func (p *Panel) ReadHandover(ctx context.Context, by roster.Actor, id event.ID) error {
	if err := allow(by, roster.Officer, "signing a handover as read"); err != nil {
		return err
	}
	var h wing.Handover
	found, struck := false, false
	p.cfg.Read(func(s *wing.State) {
		for _, x := range s.Handovers[id.Wing] {
			if x.ID == id && x.Signed {
				h, found = x, true
			}
		}
		_, struck = s.Struck[id]
	})
	switch {
	case !found:
		return fmt.Errorf("officer: handover %s: %w", id, wing.ErrNoSuchHandover)
	case struck:
		return fmt.Errorf("officer: handover %s: %w: read the handover signed after it", id, wing.ErrAlreadyStruck)
	case h.By == by.ID:
		return fmt.Errorf("officer: handover %s: %w", id, wing.ErrOwnHandover)
	}
	if _, read := h.ReadBy(by.ID); read {
		return nil
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.HandoverRead, Subject: h.Wing, Actor: by.ID, Data: map[string]string{"handover": id.String()}})
	return err
}

// Correct records a correction that strikes an earlier record of this
// wing, with a reason: a check, a count, a signed roll or handover, a
// reading of one (wing.Correctable). Nothing is erased. The record's own
// officer or a supervisor may strike it.
func (p *Panel) Correct(ctx context.Context, by roster.Actor, id event.ID, reason string) error {
	if err := allow(by, roster.Officer, "correcting a record"); err != nil {
		return err
	}
	if err := text("reason", reason, true); err != nil {
		return err
	}
	if id.Wing != p.cfg.Wing.ID {
		return fmt.Errorf("officer: record %s is wing %s's: correct it on that wing's panel: %w", id, id.Wing, ErrBadInput)
	}
	rec, err := p.cfg.Store.Get(id)
	if err != nil {
		return fmt.Errorf("officer: record %s: %w (%w)", id, wing.ErrNoSuchRecord, err)
	}
	e := rec.Event
	if !wing.Correctable(e.Kind) {
		return fmt.Errorf("officer: record %s is a %s: %w", id, e.Kind, wing.ErrNotCorrectable)
	}
	if e.Actor != by.ID && !by.Role.Allows(roster.Supervisor) {
		return fmt.Errorf("officer: record %s is %s's: they or a supervisor may correct it: %w", id, e.Actor, ErrNotAllowed)
	}
	var struck bool
	p.cfg.Read(func(s *wing.State) { _, struck = s.Struck[id] })
	if struck {
		return fmt.Errorf("officer: record %s: %w", id, wing.ErrAlreadyStruck)
	}
	_, err = p.cfg.Store.Append(ctx, event.Draft{Kind: event.RecordCorrected, Subject: e.Subject, Actor: by.ID,
		Data: map[string]string{"record": id.String(), "kind": string(e.Kind), "reason": reason}})
	return err
}
