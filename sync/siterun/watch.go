package siterun

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"wingnode/appliance/event"
)

// Watcher follows every wing's event log through its API while the site
// runs, and keeps each wing's own events as they become durable there: the
// events the site has acknowledged, which Check then requires everywhere.
type Watcher struct {
	mu   sync.Mutex
	seen map[event.ID]event.Event
	wg   sync.WaitGroup
	stop context.CancelFunc
}

// Watch starts following every wing of s.
func (s *Site) Watch() *Watcher {
	ctx, cancel := context.WithCancel(context.Background())
	wt := &Watcher{seen: map[event.ID]event.Event{}, stop: cancel}
	for _, w := range s.Wings() {
		wt.wg.Add(1)
		go func() {
			defer wt.wg.Done()
			wt.follow(ctx, w)
		}()
	}
	return wt
}

func (wt *Watcher) follow(ctx context.Context, w *Wing) {
	var after uint64
	client := &http.Client{Timeout: 5 * time.Second}
	for ctx.Err() == nil {
		var page struct {
			Records []event.Record `json:"records"`
			Next    uint64         `json:"next"`
		}
		resp, err := client.Get(fmt.Sprintf("%s/api/v1/events/tail?after=%d&limit=1000", w.Screens, after))
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
		}
		if err != nil || len(page.Records) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		wt.mu.Lock()
		for _, r := range page.Records {
			if r.Event.Wing == w.ID {
				wt.seen[r.Event.ID()] = r.Event
			}
		}
		wt.mu.Unlock()
		after = page.Next
	}
}

// Stop ends the watch and returns the events seen.
func (wt *Watcher) Stop() []event.Event {
	wt.stop()
	wt.wg.Wait()
	wt.mu.Lock()
	defer wt.mu.Unlock()
	out := make([]event.Event, 0, len(wt.seen))
	for _, e := range wt.seen {
		out = append(out, e)
	}
	return out
}
