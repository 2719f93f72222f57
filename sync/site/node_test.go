package site

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
)

// unanswered is a future raft took and never answers, as hashicorp/raft
// v1.7.3 leaves an Apply queued while the leader shut down.
type unanswered struct{}

func (unanswered) Error() error { select {} }

// A node that stops does not wait for ever on such a future: Close waits
// for the node's goroutines, and the one waiting would never end.
func TestAwaitGivesUpWhenTheNodeStops(t *testing.T) {
	n := &Node{stop: make(chan struct{})}
	answered := make(chan error, 1)
	go func() { answered <- n.await(unanswered{}) }()
	select {
	case err := <-answered:
		t.Fatalf("await returned %v before the node stopped", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(n.stop)
	select {
	case err := <-answered:
		assert.ErrorIs(t, err, raft.ErrRaftShutdown)
	case <-time.After(10 * time.Second):
		t.Fatal("await still waits after the node stopped")
	}
}
