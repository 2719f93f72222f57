package wing

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// checkpointVersion changes whenever State's stored form does; an older
// or newer checkpoint is ignored and the state is folded from the events.
const checkpointVersion = 4

// ErrCheckpointVersion is returned by UnmarshalCheckpoint for a checkpoint
// of another version: fold from the events instead.
var ErrCheckpointVersion = errors.New("wing: checkpoint from another version")

type checkpoint struct {
	Version int    `json:"version"`
	State   *State `json:"state"`
}

// MarshalCheckpoint encodes the state so that a restart need not fold
// every event again.
func (s *State) MarshalCheckpoint() ([]byte, error) {
	return json.Marshal(checkpoint{Version: checkpointVersion, State: s})
}

// UnmarshalCheckpoint decodes what MarshalCheckpoint wrote.
func UnmarshalCheckpoint(b []byte) (*State, error) {
	var c checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("wing: checkpoint: %w", err)
	}
	if c.Version != checkpointVersion || c.State == nil {
		return nil, fmt.Errorf("%w (%d, this build writes %d)", ErrCheckpointVersion, c.Version, checkpointVersion)
	}
	s := New()
	maps.Copy(s.Doors, c.State.Doors)
	maps.Copy(s.Locks, c.State.Locks)
	maps.Copy(s.Proven, c.State.Proven)
	maps.Copy(s.Conditions, c.State.Conditions)
	maps.Copy(s.WalkTests, c.State.WalkTests)
	maps.Copy(s.Alarms, c.State.Alarms)
	s.active = activeIndex(s.Alarms)
	maps.Copy(s.Inputs, c.State.Inputs)
	maps.Copy(s.Wings, c.State.Wings)
	maps.Copy(s.Regimes, c.State.Regimes)
	maps.Copy(s.Observations, c.State.Observations)
	maps.Copy(s.CheckedBy, c.State.CheckedBy)
	maps.Copy(s.Roll, c.State.Roll)
	maps.Copy(s.Counts, c.State.Counts)
	maps.Copy(s.RollSigns, c.State.RollSigns)
	maps.Copy(s.Handovers, c.State.Handovers)
	maps.Copy(s.Struck, c.State.Struck)
	s.Lockdown = c.State.Lockdown
	return s, nil
}
