//go:build linux

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"time"
)

// probeInterval is how often the health check runs; each probe waits at
// most as long.
const probeInterval = time.Second

// supervisor watches the running appliance: it probes the health check,
// pets the watchdog while the appliance answers, and confirms the slot
// the first time it is healthy.
type supervisor struct {
	health  string        // health check URL; "" for none
	grace   time.Duration // how long the first answer may take
	dog     *watchdog     // nil for none
	confirm func() error  // nil when there is nothing to confirm
}

// run supervises until the appliance exits (it returns false) or a signal
// asks for a clean shutdown (it returns true).
func (sv supervisor) run(exited <-chan error, signals <-chan os.Signal) (clean bool) {
	policy := petPolicy{grace: sv.grace, start: time.Now()}
	confirm := sv.confirm
	tick := time.NewTicker(probeInterval)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			logf("wingnode exited (%v); the wing is not recording", err)
			return false
		case sig := <-signals:
			logf("%v: clean shutdown", sig)
			return true
		case <-tick.C:
		}
		if sv.health == "" {
			continue
		}
		answered, healthy := probe(sv.health)
		if sv.dog != nil && policy.pet(time.Now(), answered) {
			if err := sv.dog.pet(); err != nil {
				logf("%v", err)
			}
		}
		if healthy && confirm != nil {
			if err := confirm(); err != nil {
				logf("confirm the slot: %v", err)
			}
			confirm = nil
		}
	}
}

// probe asks the health check once: answered means the appliance
// answered at all, healthy that it answered 200.
func probe(url string) (answered, healthy bool) {
	ctx, cancel := context.WithTimeout(context.Background(), probeInterval)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return true, resp.StatusCode == http.StatusOK
}

// petPolicy decides when to pet the watchdog: whenever the appliance
// answers, and, until it first answers, during the start grace. So an
// appliance that hangs, at start or later, stops the petting, and the
// watchdog resets the board one timeout after the last pet.
type petPolicy struct {
	grace    time.Duration
	start    time.Time
	answered bool // the appliance has answered at least once
}

func (p *petPolicy) pet(now time.Time, answered bool) bool {
	if answered {
		p.answered = true
		return true
	}
	return !p.answered && now.Sub(p.start) < p.grace
}
