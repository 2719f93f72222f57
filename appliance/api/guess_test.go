package api

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestGuessesWindow(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	g := NewGuesses(func() time.Time { return now })
	for i := 1; i <= MaxGuesses; i++ {
		assert.Zero(t, g.Wait("10.0.0.9"))
		n, log := g.Wrong("10.0.0.9")
		assert.Equal(t, i, n)
		assert.Equal(t, i == 1, log, "the first wrong guess of a window is logged, not the others")
	}
	assert.Equal(t, GuessWindow, g.Wait("10.0.0.9"), "refused for the rest of the window")
	assert.Zero(t, g.Wait("10.0.0.10"), "another client is not")
	now = now.Add(GuessWindow)
	assert.Zero(t, g.Wait("10.0.0.9"), "a new window")
	g.Wrong("10.0.0.9")
	g.Right("10.0.0.9")
	assert.Zero(t, g.Wait("10.0.0.9"))

	w := httptest.NewRecorder()
	WriteTooMany(w, 1500*time.Millisecond, "wait")
	assert.Equal(t, 429, w.Code)
	assert.Equal(t, "2", w.Header().Get("Retry-After"))
}
