package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Guesses limits how often one client may guess a secret (a bearer token,
// a PIN) wrongly: after MaxGuesses wrong guesses in Window, every check
// from that client is refused with 429 until the window since its first
// wrong guess has passed, without looking at what it sent. It also says
// when to log a wrong guess, so a client hammering an endpoint writes a
// line a window, not a line a try. The zero value is not ready: use
// NewGuesses.
type Guesses struct {
	now    func() time.Time
	max    int
	window time.Duration

	mu      sync.Mutex
	clients map[string]*guesser
}

type guesser struct {
	first  time.Time // of the window
	wrong  int       // wrong guesses in it
	logged int       // of them, when last logged
}

// The defaults of NewGuesses.
const (
	MaxGuesses  = 5
	GuessWindow = time.Minute
)

// NewGuesses returns a limiter of MaxGuesses a GuessWindow; now is the
// clock (time.Now when nil).
func NewGuesses(now func() time.Time) *Guesses {
	if now == nil {
		now = time.Now
	}
	return &Guesses{now: now, max: MaxGuesses, window: GuessWindow, clients: map[string]*guesser{}}
}

// Client names the client of a request for the limiter: its address,
// without the port.
func Client(r *http.Request) string { return Host(r.RemoteAddr) }

// Wait returns how long the client must wait before its next guess is
// looked at; zero when it may guess now.
func (g *Guesses) Wait(client string) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.clients[client]
	if c == nil {
		return 0
	}
	now := g.now()
	if now.Sub(c.first) >= g.window {
		delete(g.clients, client)
		return 0
	}
	if c.wrong < g.max {
		return 0
	}
	return c.first.Add(g.window).Sub(now)
}

// Wrong counts a wrong guess of the client and returns how many it made in
// this window, and whether to log it: the first, and then once a window.
func (g *Guesses) Wrong(client string) (n int, log bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.now()
	c := g.clients[client]
	if c == nil || now.Sub(c.first) >= g.window {
		if len(g.clients) > 10_000 { // a flood of addresses: forget the oldest windows
			for k, o := range g.clients {
				if now.Sub(o.first) >= g.window {
					delete(g.clients, k)
				}
			}
		}
		c = &guesser{first: now}
		g.clients[client] = c
	}
	c.wrong++
	log = c.logged == 0
	if log {
		c.logged = c.wrong
	}
	return c.wrong, log
}

// Right forgets the client's wrong guesses.
func (g *Guesses) Right(client string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.clients, client)
}

// WriteTooMany answers 429 with Retry-After (whole seconds, at least 1)
// and a sentence.
func WriteTooMany(w http.ResponseWriter, wait time.Duration, sentence string) {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	WriteError(w, http.StatusTooManyRequests, sentence)
}
