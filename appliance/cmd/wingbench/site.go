package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"wingnode/appliance"
	"wingnode/appliance/event"
	"wingnode/appliance/wingtest"
	"wingnode/sync/faultproxy"
)

// site is three in-process wings A, B and C on loopback, with a fault
// proxy between every pair.
type site struct {
	wings []*wingtest.Wing
	mesh  *faultproxy.Mesh
}

func (s *site) stop() {
	for i := len(s.wings) - 1; i >= 0; i-- {
		s.wings[i].Stop()
	}
	s.mesh.Close()
}

func startSite(ctx context.Context, dir string) (*site, error) {
	ids := []string{"A", "B", "C"}
	addrs := map[string]string{}
	for _, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		addrs[id] = ln.Addr().String()
		ln.Close()
	}
	mesh, err := faultproxy.NewMesh(addrs)
	if err != nil {
		return nil, err
	}
	wings, err := wingtest.RunSite(ctx, ids, 3, func(id string) appliance.Config {
		return appliance.Config{DataDir: filepath.Join(dir, id), Log: quiet,
			Site: appliance.SiteConfig{Listen: addrs[id], Routes: mesh.Routes(id)}}
	})
	if err != nil {
		mesh.Close()
		return nil, err
	}
	return &site{wings: wings, mesh: mesh}, nil
}

// committedEverywhere reports whether every wing of the site holds and has
// committed every wing's events up to that wing's own head.
func (s *site) committedEverywhere(among ...*wingtest.Wing) bool {
	heads := map[string]uint64{}
	for _, a := range s.wings {
		h, err := a.Store().Heads()
		if err != nil {
			return false
		}
		heads[a.Layout().ID] = h[a.Layout().ID]
	}
	for _, a := range among {
		st, _ := a.SiteStatus()
		for _, w := range st.Wings {
			if w.Committed < heads[w.Wing] || w.Held < heads[w.Wing] {
				return false
			}
		}
	}
	return true
}

// siteCommit: 30,000 events recorded on each of three wings at once, from
// 256 writers each (a storm), until every wing holds and has committed all
// 90,000. The three wings share this process's two cores; recording is
// the slower half: the site commits within milliseconds of the last
// append.
func siteCommit(ctx context.Context, dir string) ([]figure, error) {
	const perWing = 30_000
	s, err := startSite(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	start := time.Now()
	errs := make(chan error, len(s.wings))
	for _, a := range s.wings {
		go func() { errs <- appendConcurrently(ctx, a.Store(), 256, perWing) }()
	}
	for range s.wings {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	if err := wingtest.WaitFor(ctx, 5*time.Minute, "every wing to commit every event", func() bool { return s.committedEverywhere(s.wings...) }); err != nil {
		return nil, err
	}
	took := time.Since(start)
	return []figure{{"site_commit_events_per_s", float64(perWing*len(s.wings)) / took.Seconds(), "events/s"}}, nil
}

// crossWing: a door edge on wing A's simulated input until wing B's state
// has folded the event, through A's debounce, A's store, the leader's pull,
// raft, and B's store. 200 edges round 40 doors.
func crossWing(ctx context.Context, dir string) ([]figure, error) {
	const toggles = 200
	s, err := startSite(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	a, b := s.wings[0], s.wings[1]
	events, cancel := b.Subscribe()
	defer cancel()
	doors := gpioDoors(a.Layout(), 40)
	lat := make([]time.Duration, 0, toggles)
	for i := range toggles {
		door, open := doors[i%len(doors)], (i/len(doors))%2 == 0
		want := map[bool]event.Kind{true: event.DoorOpened, false: event.DoorClosed}[open]
		edge := time.Now()
		if err := a.Sim().SetInput(door, open); err != nil {
			return nil, err
		}
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case e, ok := <-events:
				if !ok {
					return nil, errors.New("wing B's event stream closed (fell behind)")
				}
				if e.Wing == "A" && e.Subject == door && e.Kind == want {
					lat = append(lat, time.Since(edge))
					break wait
				}
			case <-timeout:
				return nil, fmt.Errorf("door %s on A never reached B", door)
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	return []figure{
		{"cross_wing_visible_p50_ms", percentile(lat, 50), "ms"},
		{"cross_wing_visible_p99_ms", percentile(lat, 99), "ms"},
	}, nil
}

// catchUp: wing C is cut off from the site while A and B record 50,000
// events each; then the links heal, and the figure is the time until C
// holds and has committed all 100,000.
func catchUp(ctx context.Context, dir string) ([]figure, error) {
	const perWing = 50_000
	s, err := startSite(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	a, b, c := s.wings[0], s.wings[1], s.wings[2]
	s.mesh.Isolate("C")
	errs := make(chan error, 2)
	for _, w := range []*wingtest.Wing{a, b} {
		go func() { errs <- appendConcurrently(ctx, w.Store(), 64, perWing) }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			return nil, err
		}
	}
	if err := wingtest.WaitFor(ctx, 5*time.Minute, "A and B to commit their events", func() bool { return s.committedEverywhere(a, b) }); err != nil {
		return nil, err
	}
	start := time.Now()
	s.mesh.HealAll()
	if err := wingtest.WaitFor(ctx, 5*time.Minute, "C to catch up", func() bool { return s.committedEverywhere(c) }); err != nil {
		return nil, err
	}
	return []figure{{"catchup_100k_s", time.Since(start).Seconds(), "s"}}, nil
}
