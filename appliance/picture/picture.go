// Package picture holds the wing's live picture: the state folded from
// every durable event (appliance/wing), behind its own lock, checkpointed
// into the store now and then so that a restart folds only the tail, and
// the subscribers (the open screens) told of each event once it is folded.
package picture

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Store is the event store as the picture uses it (*store.Store).
type Store interface {
	// Checkpoint returns the last saved checkpoint and the position it
	// was folded to; 0 and nil when there is none.
	Checkpoint() (pos uint64, data []byte, err error)
	// SaveCheckpoint saves a checkpoint folded to pos.
	SaveCheckpoint(pos uint64, data []byte) error
	// Scan calls fn with every event after the position after, in order.
	Scan(after uint64, fn func(event.Record) error) error
}

// Picture is the wing's folded state and its subscribers.
type Picture struct {
	store Store
	log   *slog.Logger
	every int // events between checkpoints

	mu    sync.Mutex
	state *wing.State
	// snapshot is a copy of state as of the last fold, shared by State's
	// callers, who read it without the lock; nil: none made since.
	snapshot    atomic.Pointer[wing.State]
	folded      uint64 // position of the newest event folded into state
	sinceSave   int
	subscribers map[chan *event.Event]struct{}

	saving sync.Mutex // one checkpoint written at a time
}

// Rebuild loads the last checkpoint from st and folds every event after
// it. A checkpoint is saved every checkpointEvery events folded.
func Rebuild(st Store, checkpointEvery int, log *slog.Logger) (*Picture, error) {
	start := time.Now()
	pos, data, err := st.Checkpoint()
	if err != nil {
		// A damaged checkpoint is not trusted: every event is folded
		// again, and the next checkpoint replaces it.
		log.Warn("the state checkpoint is damaged; rebuilding the wing state from every event instead", "err", err)
		pos, data = 0, nil
	}
	state := wing.New()
	if pos > 0 {
		if s, err := wing.UnmarshalCheckpoint(data); err != nil {
			log.Warn("state checkpoint not usable; folding every event", "err", err)
			pos = 0
		} else {
			state = s
		}
	}
	n := 0
	err = st.Scan(pos, func(r event.Record) error {
		state.Fold(r.Event)
		pos = r.Pos
		n++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("picture: rebuild the wing state: %w", err)
	}
	log.Info("wing state rebuilt", "events_folded", n, "position", pos, "took", time.Since(start).Round(time.Millisecond))
	return &Picture{store: st, log: log, every: checkpointEvery, state: state, folded: pos, subscribers: map[chan *event.Event]struct{}{}}, nil
}

// Fold is the picture's step of the store's commit hook: it folds the
// batch into the state, hands each event to every subscriber, and saves a
// checkpoint (in the background) when enough events have passed.
func (p *Picture) Fold(batch []event.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Until the batch is folded, State's callers keep the copy before it.
	for _, r := range batch {
		p.state.Fold(r.Event)
	}
	if len(p.subscribers) == 0 {
		p.snapshot.Store(nil)
	} else {
		// The screens read the state as soon as they hear of an event:
		// the copy they share is made once, before they are told.
		p.snapshot.Store(p.state.Clone())
	}
	for _, r := range batch {
		if len(p.subscribers) == 0 {
			break
		}
		// One copy for every subscriber, which must not change it: a
		// subscription's buffer holds pointers, not whole events.
		e := r.Event
		for ch := range p.subscribers {
			select {
			case ch <- &e:
			default:
				// Fell behind: the screen reloads rather than miss an event.
				delete(p.subscribers, ch)
				close(ch)
			}
		}
	}
	p.folded = batch[len(batch)-1].Pos
	p.sinceSave += len(batch)
	if p.sinceSave >= p.every {
		p.sinceSave = 0
		data, err := p.state.MarshalCheckpoint()
		if err != nil {
			p.log.Error("state checkpoint", "err", err)
			return
		}
		go p.save(p.folded, data)
	}
}

func (p *Picture) save(pos uint64, data []byte) {
	p.saving.Lock()
	defer p.saving.Unlock()
	if err := p.store.SaveCheckpoint(pos, data); err != nil {
		p.log.Error("state checkpoint", "err", err)
	}
}

// Checkpoint saves the state as it is now, for a quick next start.
func (p *Picture) Checkpoint() {
	p.mu.Lock()
	pos := p.folded
	data, err := p.state.MarshalCheckpoint()
	p.mu.Unlock()
	if err == nil {
		p.save(pos, data)
	}
}

// State returns a copy of the folded state, safe to keep and to read at
// any time, but not to change: until the next fold every caller gets the
// same copy (each screen's live stream reads the state after each event,
// and one copy then serves them all).
func (p *Picture) State() *wing.State {
	if s := p.snapshot.Load(); s != nil {
		return s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.snapshot.Load()
	if s == nil {
		s = p.state.Clone()
		p.snapshot.Store(s)
	}
	return s
}

// Read runs f on the folded state under the picture's lock, without a
// copy: f must not keep the state, and must not call into the picture.
func (p *Picture) Read(f func(*wing.State)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p.state)
}

// Subscribe delivers every event once it is folded. The channel is closed
// when the subscriber falls behind or the picture closes; cancel must be
// called when the subscriber is done. Every subscriber gets the same
// event: none may change it.
func (p *Picture) Subscribe() (<-chan *event.Event, func()) {
	ch := make(chan *event.Event, 256)
	p.mu.Lock()
	p.subscribers[ch] = struct{}{}
	p.mu.Unlock()
	return ch, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if _, ok := p.subscribers[ch]; ok {
			delete(p.subscribers, ch)
			close(ch)
		}
	}
}

// Subscribers counts the open subscriptions: the screens showing the
// wing live.
func (p *Picture) Subscribers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subscribers)
}

// Close saves a checkpoint and ends every subscription.
func (p *Picture) Close() {
	p.Checkpoint()
	p.mu.Lock()
	defer p.mu.Unlock()
	for ch := range p.subscribers {
		delete(p.subscribers, ch)
		close(ch)
	}
}
