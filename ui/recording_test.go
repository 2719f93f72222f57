package ui

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecordingFailureIsUnmissable(t *testing.T) {
	f := newFakeWing()
	_, ts := serve(t, f)

	health := getJSON(t, ts, "/healthz", http.StatusOK)
	assert.Equal(t, "ok", health["status"])
	doc := getPage(t, ts, "/", http.StatusOK)
	banner := doc.Find(`[data-testid="recording-banner"]`)
	require.Equal(t, 1, banner.Length())
	assert.Equal(t, "false", banner.AttrOr("data-failing", ""))
	_, hidden := banner.Attr("hidden")
	assert.True(t, hidden, "no banner while events are recorded")

	f.mu.Lock()
	f.recording = errors.New("no event stored since 10:41:07: no space left on device")
	f.mu.Unlock()
	health = getJSON(t, ts, "/healthz", http.StatusServiceUnavailable)
	assert.Equal(t, "failing", health["status"])
	assert.Contains(t, health["problem"], "no space left on device")
	for _, path := range []string{"/", "/events", "/walktest"} {
		banner := getPage(t, ts, path, http.StatusOK).Find(`[data-testid="recording-banner"]`)
		assert.Equal(t, "true", banner.AttrOr("data-failing", ""), path)
		_, hidden := banner.Attr("hidden")
		assert.False(t, hidden, path)
		assert.Contains(t, banner.Text(), "RECORDING HAS STOPPED", path)
		assert.Contains(t, banner.Text(), "no space left on device", path)
	}
}
