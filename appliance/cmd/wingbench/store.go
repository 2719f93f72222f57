package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"wingnode/appliance/datadir"
	"wingnode/appliance/event"
	"wingnode/appliance/store"
)

func doorDraft(i int) event.Draft {
	k := event.DoorOpened
	if i%2 == 1 {
		k = event.DoorClosed
	}
	return event.Draft{Kind: k, Subject: fmt.Sprintf("A%d-%02d", 1+i%3, i%20+1), Actor: event.SystemActor}
}

// ingest: many writers appending at once; each append returns only once
// durable, so the rate is of fsync'd events.
func ingest(ctx context.Context, dir string) ([]figure, error) {
	const writers, total = 512, 300_000
	s, err := store.Open(datadir.Dir(dir).Store(), store.Options{Wing: "A"})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	start := time.Now()
	if err := appendConcurrently(ctx, s, writers, total); err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	return []figure{{"ingest_durable_events_per_s", total / elapsed.Seconds(), "events/s"}}, nil
}

// steadyAppend: appends arriving at a steady 1,000 a second, each timed
// from when it was due (open loop, so a slow append cannot hide the ones
// queued behind it).
func steadyAppend(ctx context.Context, dir string) ([]figure, error) {
	const rate, seconds = 1000, 10
	s, err := store.Open(datadir.Dir(dir).Store(), store.Options{Wing: "A"})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	n := rate * seconds
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * time.Second / rate)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			if _, err := s.Append(ctx, doorDraft(i)); err != nil {
				failed.Add(1)
			}
			lat[i] = time.Since(due)
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return nil, fmt.Errorf("%d appends failed", f)
	}
	return []figure{
		{"append_p50_ms", percentile(lat, 50), "ms"},
		{"append_p99_ms", percentile(lat, 99), "ms"},
	}, nil
}

// appendConcurrently appends total door events to s from writers
// goroutines at once, each waiting for its own append to be durable.
func appendConcurrently(ctx context.Context, s *store.Store, writers, total int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(total) {
					return
				}
				if _, err := s.Append(ctx, doorDraft(int(i))); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		})
	}
	wg.Wait()
	err, _ := firstErr.Load().(error)
	return err
}
