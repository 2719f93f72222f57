package appliance

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
func (a *Appliance) StartWalkTest(ctx context.Context, officer string, d time.Duration) error {
	if officer == "" {
		return errors.New("appliance: an officer must be named to run a walk test")
	}
	if d == 0 {
		d = DefaultWalkTest
	}
	if d < time.Minute || d > MaxWalkTest {
		return fmt.Errorf("appliance: a walk test lasts from 1 minute to %s, not %s", MaxWalkTest, d)
	}
	until := a.cfg.Clock.Now().Add(d).UTC().Format(time.RFC3339)
	_, err := a.store.Append(ctx, event.Draft{Kind: event.WalkTestStarted, Subject: a.layout.ID, Actor: officer,
		Data: map[string]string{"until": until}})
	return err
}

// EndWalkTest ends a running walk test; with none running it does nothing.
func (a *Appliance) EndWalkTest(ctx context.Context, officer string) error {
	if officer == "" {
		return errors.New("appliance: an officer must be named to end a walk test")
	}
	if _, running := a.walkTest(a.cfg.Clock.Now()); !running {
		return nil
	}
	_, err := a.store.Append(ctx, event.Draft{Kind: event.WalkTestEnded, Subject: a.layout.ID, Actor: officer})
	return err
}

// walkTestRecord returns this wing's walk test as folded, if there was one.
func (a *Appliance) walkTestRecord() (wing.WalkTest, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w, ok := a.state.WalkTests[a.layout.ID]
	return w, ok
}

// walkTest returns this wing's walk test if it is running at now.
func (a *Appliance) walkTest(now time.Time) (wing.WalkTest, bool) {
	w, ok := a.walkTestRecord()
	return w, ok && w.Running(now)
}
