package ui

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"

	"wingnode/appliance/config"
	"wingnode/appliance/event"
)

// keepAliveEvery is how often an idle live stream sends a comment, so that
// the browser and anything between see that it is still open.
const keepAliveEvery = 15 * time.Second

// liveWriteTimeout bounds one write to a live stream: a screen that stops
// reading is dropped rather than holding the stream.
const liveWriteTimeout = 10 * time.Second

// reconnectAfter is the delay the browser waits before it opens the stream
// again after losing it, in milliseconds.
const reconnectAfter = "2000"

// changes is the set of overview parts that a batch of events touched.
type changes struct {
	doors map[string]bool
	panel bool
}

// add notes what e changes on this wing's overview.
func (c *changes) add(v view, e event.Event) {
	switch e.Kind {
	case event.DoorOpened, event.DoorClosed:
		c.door(v, e.Subject)
	case event.InputFault, event.InputRestored:
		c.door(v, e.Subject)
		if _, ok := v.pointByID(e.Subject); ok {
			c.panel = true
		}
	case event.AlarmRaised, event.AlarmAcknowledged, event.AlarmCleared:
		p, ok := v.pointByID(e.Subject)
		if ok || e.Wing == v.layout.ID {
			c.panel = true
		}
		if ok && p.Kind == config.CellCall {
			c.door(v, p.Cell)
		}
	}
}

func (c *changes) door(v view, id string) {
	if _, ok := v.doorByID(id); !ok {
		return
	}
	if c.doors == nil {
		c.doors = map[string]bool{}
	}
	c.doors[id] = true
}

// liveStream writes server-sent events to one screen.
type liveStream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	ctx context.Context
	buf bytes.Buffer
}

// fragment queues an element that replaces the element with its id.
func (l *liveStream) fragment(c templ.Component) error {
	var html strings.Builder
	if err := c.Render(l.ctx, &html); err != nil {
		return err
	}
	l.message("fragment", html.String())
	return nil
}

// message queues one event; data may span lines.
func (l *liveStream) message(name, data string) {
	l.buf.WriteString("event: " + name + "\n")
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		l.buf.WriteString("data: " + line + "\n")
	}
	l.buf.WriteString("\n")
}

// flush sends what is queued at once: the screen must show an input's
// edge within 100 ms.
func (l *liveStream) flush() error {
	// Not every ResponseWriter supports deadlines; without one the write
	// simply has none.
	_ = l.rc.SetWriteDeadline(time.Now().Add(liveWriteTimeout))
	_, err := l.w.Write(l.buf.Bytes())
	l.buf.Reset()
	if err != nil {
		return err
	}
	return l.rc.Flush()
}

// live streams overview fragments as events arrive. See the package
// documentation for the protocol.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.done:
		// The browser stops retrying on this answer and waits for /healthz.
		http.Error(w, "the appliance is stopping", http.StatusServiceUnavailable)
		return
	default:
	}
	events, cancel := s.wing.Subscribe()
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	l := &liveStream{w: w, rc: http.NewResponseController(w), ctx: r.Context()}
	defer l.rc.SetWriteDeadline(time.Time{}) // the connection may serve other requests

	// The page was rendered before this subscription began: send every part
	// once, so that nothing that happened in between is missed.
	l.buf.WriteString("retry: " + reconnectAfter + "\n\n")
	v := s.view()
	clockUntrusted := s.header(v).ClockUntrusted
	all := changes{panel: true, doors: map[string]bool{}}
	for _, d := range v.layout.Doors {
		all.doors[d.ID] = true
	}
	if err := s.sendChanges(l, v, all, true); err != nil {
		return
	}

	keepAlive := time.NewTicker(keepAliveEvery)
	defer keepAlive.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-r.Context().Done():
			return
		case <-keepAlive.C:
			l.buf.WriteString(": keep-alive\n\n")
			if l.flush() != nil {
				return
			}
		case e, ok := <-events:
			if !ok {
				l.reload()
				return
			}
			batch, open := drain(e, events)
			v := s.view()
			var c changes
			for _, e := range batch {
				c.add(v, e)
			}
			untrusted := s.header(v).ClockUntrusted
			if err := s.sendChanges(l, v, c, untrusted != clockUntrusted); err != nil {
				return
			}
			clockUntrusted = untrusted
			if !open {
				l.reload()
				return
			}
		}
	}
}

// drain returns first and every event already waiting behind it, so that a
// burst is rendered once; open is false when the channel was closed.
func drain(first event.Event, events <-chan event.Event) (batch []event.Event, open bool) {
	batch = []event.Event{first}
	for {
		select {
		case e, ok := <-events:
			if !ok {
				return batch, false
			}
			batch = append(batch, e)
		default:
			return batch, true
		}
	}
}

// sendChanges renders the changed parts from one snapshot and sends them.
func (s *Server) sendChanges(l *liveStream, v view, c changes, clock bool) error {
	if clock {
		if err := l.fragment(clockStatus(s.header(v).ClockUntrusted)); err != nil {
			return err
		}
	}
	if c.panel {
		if err := l.fragment(alarmPanelView(v.panel())); err != nil {
			return err
		}
	}
	for _, d := range v.layout.Doors {
		if c.doors[d.ID] {
			if err := l.fragment(doorTileView(v.door(d))); err != nil {
				return err
			}
		}
	}
	if l.buf.Len() == 0 {
		return nil
	}
	return l.flush()
}

// reload tells the screen that its subscription ended (it fell behind, or
// the appliance is stopping): the page reloads once the appliance answers,
// and so shows the whole picture again.
func (l *liveStream) reload() {
	l.message("reload", "subscription ended")
	_ = l.flush() // the stream ends either way
}
