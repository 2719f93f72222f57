package officer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"wingnode/appliance/event"
	"wingnode/appliance/wing"
)

// Walk tests last at most MaxWalkTest, and end by themselves.
const (
	DefaultWalkTest = 30 * time.Minute
	MaxWalkTest     = wing.MaxWalkTest
)

// StartWalkTest starts a walk test run by officer for d (DefaultWalkTest
// when zero). While it runs, every input seen to work is recorded as
// proven; cell calls are proven without raising alarms; staff alarms and
// forced doors raise as always.
func (p *Panel) StartWalkTest(ctx context.Context, officer string, d time.Duration) error {
	if officer == "" {
		return errors.New("officer: an officer must be named to run a walk test")
	}
	if d == 0 {
		d = DefaultWalkTest
	}
	if d < time.Minute || d > MaxWalkTest {
		return fmt.Errorf("officer: a walk test lasts from 1 minute to %s, not %s", MaxWalkTest, d)
	}
	until := p.cfg.Clock.Now().Add(d).UTC().Format(time.RFC3339)
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.WalkTestStarted, Subject: p.cfg.Wing, Actor: officer,
		Data: map[string]string{"until": until}})
	return err
}

// EndWalkTest ends a running walk test; with none running it does nothing.
func (p *Panel) EndWalkTest(ctx context.Context, officer string) error {
	if officer == "" {
		return errors.New("officer: an officer must be named to end a walk test")
	}
	running := false
	p.cfg.Read(func(s *wing.State) {
		w, ok := s.WalkTests[p.cfg.Wing]
		running = ok && w.Running(p.cfg.Clock.Now())
	})
	if !running {
		return nil
	}
	_, err := p.cfg.Store.Append(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: p.cfg.Wing, Actor: officer})
	return err
}
