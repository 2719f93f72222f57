// Package pull is the Go client of a site's event pull, for integrators
// and for `wingnode pull`: it follows the site's commit order from a
// cursor, fails over to another wing when the one it asks is down or
// lags, verifies every page on receipt (hashes, each wing's chain, the
// signed head against the site CA certificate) and hands it to a Sink
// that stores the page and the cursor together, so that a reader killed
// at any point resumes without losing or repeating an event.
//
// It imports neither the store nor raft: an integrator's program that
// imports it stays small.
package pull

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"wingnode/sync/export"
	"wingnode/sync/trust"
)

// Errors a pull ends with; any other error is passing (a wing down, a
// network cut) and the pull retries it.
var (
	// ErrResync: the wings refused the cursor as not of this site's order
	// (409). Start again into a fresh sink.
	ErrResync = errors.New("resync required")
	// ErrRefused: a wing refused the request or its credentials (400, 401,
	// 403); retrying the same will not help.
	ErrRefused = errors.New("the wing refused the request")
	// ErrBadPage: a page did not verify. Nothing of it was stored.
	ErrBadPage = errors.New("a page did not verify")
)

// Filter selects events; its zero value selects all. A filtered pull
// cannot check chains (see export).
type Filter struct {
	Wings    []string
	Kinds    []string
	From, To time.Time
}

func (f Filter) empty() bool {
	return len(f.Wings) == 0 && len(f.Kinds) == 0 && f.From.IsZero() && f.To.IsZero()
}

// Config configures a Client.
type Config struct {
	// Wings are the base URLs of the wings to pull from, in order of
	// preference: https://HOST:PORT of their off-board ports, or
	// http://HOST:PORT of a screens' port.
	Wings []string
	// CA is the site CA certificate: heads are verified against it, and
	// so is the off-board port's server certificate when HTTP is nil.
	CA *x509.Certificate
	// HTTP makes the requests; nil means one that trusts CA for HTTPS
	// (see NewHTTPClient) and presents no client certificate.
	HTTP *http.Client
	// Token, if set, is sent as a bearer token.
	Token string
	// Limit is the page size, 1..1000; default 1000.
	Limit int
	// Wait is each request's long poll; default 30 s; negative for none.
	Wait time.Duration
	// Filter selects events.
	Filter Filter
	// Log receives fail-overs and retries; default slog.Default().
	Log *slog.Logger
}

// Client pulls a site's events.
type Client struct {
	cfg  Config
	site string
	at   int // the wing asked now
}

// New checks cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if len(cfg.Wings) == 0 {
		return nil, errors.New("pull: no wing to pull from: give at least one wing's URL")
	}
	if cfg.CA == nil {
		return nil, errors.New("pull: the site CA certificate is needed to verify the pages (a wing's DATA/site/identity/site-ca.crt, or the site-ca.crt handed out with a client certificate)")
	}
	for _, w := range cfg.Wings {
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("pull: %q is not a wing's URL such as https://b-wing.site.lan:9443", w)
		}
	}
	if cfg.HTTP == nil {
		cfg.HTTP = NewHTTPClient(cfg.CA, nil)
	}
	if cfg.Limit <= 0 || cfg.Limit > 1000 {
		cfg.Limit = 1000
	}
	if cfg.Wait == 0 {
		cfg.Wait = 30 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Client{cfg: cfg, site: trust.SiteID(cfg.CA)}, nil
}

// Site is the id of the site the client pulls.
func (c *Client) Site() string { return c.site }

// Next fetches the page after from, from the first wing that answers,
// and verifies it. It returns the page and the state after it. A passing
// failure of every wing is returned as is; see the package's errors for
// the rest.
func (c *Client) Next(ctx context.Context, from export.State) (export.Page, export.State, error) {
	if from.Site != "" && from.Site != c.site {
		return export.Page{}, from, fmt.Errorf("pull: %w: the cursor is of site %s, but the CA is site %s's", ErrResync, from.Site, c.site)
	}
	if from.Filtered != !c.cfg.Filter.empty() && from.Cursor != "" {
		return export.Page{}, from, fmt.Errorf("pull: %w: a pull continues with the filters it began with", ErrRefused)
	}
	var errs []error
	for range len(c.cfg.Wings) {
		base := c.cfg.Wings[c.at]
		a, err := c.fetch(ctx, base, from.Cursor)
		if err == nil {
			var p export.Page
			var state export.State
			if p, state, err = c.check(a, from); err == nil {
				return p, state, nil
			}
		}
		if errors.Is(err, ErrResync) || errors.Is(err, ErrRefused) || ctx.Err() != nil {
			return export.Page{}, from, err
		}
		errs = append(errs, err)
		c.at = (c.at + 1) % len(c.cfg.Wings)
		c.cfg.Log.Warn("pull: trying another wing", "from", base, "to", c.cfg.Wings[c.at], "err", err)
	}
	return export.Page{}, from, fmt.Errorf("pull: no wing answered: %w", errors.Join(errs...))
}

// answer is a wing's answer to a page request, read but not verified:
// the page in its binary form, or the page JSON gave.
type answer struct {
	base   string
	binary []byte
	page   export.Page
	next   string // the cursor to ask for the following page with
}

// check verifies the page of a after from and returns it with the state
// after it.
func (c *Client) check(a answer, from export.State) (export.Page, export.State, error) {
	from.Site, from.Filtered = c.site, !c.cfg.Filter.empty()
	v := export.NewVerifier(c.cfg.CA, from)
	p := a.page
	var err error
	if a.binary != nil {
		p, err = v.ReadBinary(a.binary)
	} else {
		err = v.Page(p)
	}
	if err != nil {
		return export.Page{}, from, fmt.Errorf("pull: %s: %w: %w", a.base, ErrBadPage, err)
	}
	return p, v.State(), nil
}

// fetch asks one wing for the page after cursor.
func (c *Client) fetch(ctx context.Context, base, cursor string) (answer, error) {
	q := url.Values{"limit": {strconv.Itoa(c.cfg.Limit)}}
	if cursor != "" {
		q.Set("after", cursor)
	}
	if c.cfg.Wait > 0 {
		q.Set("wait", c.cfg.Wait.String())
	}
	f := c.cfg.Filter
	if len(f.Wings) > 0 {
		q.Set("wing", strings.Join(f.Wings, ","))
	}
	if len(f.Kinds) > 0 {
		q.Set("kind", strings.Join(f.Kinds, ","))
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339Nano))
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.Wait+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/api/v1/site/events?"+q.Encode(), nil)
	if err != nil {
		return answer{}, fmt.Errorf("pull: %w: %w", ErrRefused, err)
	}
	req.Header.Set("Accept", export.BinaryType+", application/json;q=0.5")
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("pull: %s: %w", base, err)
	}
	defer resp.Body.Close()
	const maxPage = 256 << 20
	size := int64(bytes.MinRead) // room to read the end after the body
	if resp.ContentLength > 0 {
		size += min(resp.ContentLength, maxPage)
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxPage)); err != nil {
		return answer{}, fmt.Errorf("pull: %s: %w", base, err)
	}
	body := buf.Bytes()
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		err := fmt.Errorf("%s answered %d: %s", base, resp.StatusCode, e.Error)
		switch resp.StatusCode {
		case http.StatusConflict:
			return answer{}, fmt.Errorf("pull: %w: %w", ErrResync, err)
		case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
			return answer{}, fmt.Errorf("pull: %w: %w", ErrRefused, err)
		}
		return answer{}, fmt.Errorf("pull: %w", err)
	}
	a := answer{base: base}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), export.BinaryType) {
		a.binary = body
		a.next, err = export.BinaryNext(body)
	} else {
		err = json.Unmarshal(body, &a.page)
		a.next = a.page.Next
	}
	if err != nil {
		return answer{}, fmt.Errorf("pull: %s: %w: %w", base, ErrBadPage, err)
	}
	return a, nil
}

// Sink keeps what a pull receives: each page together with the state
// after it, whole or not at all.
type Sink interface {
	// State is where the sink stands: the state after the last page it
	// kept (the zero State for an empty sink).
	State() export.State
	// Write keeps a verified page and the state after it, in one step.
	Write(p export.Page, after export.State) error
}

// Follow pulls into sink from where it stands until ctx ends, or, with
// untilCaughtUp, until a page reaches the head of the site's order.
// Passing failures are retried with a back-off of up to 10 s; it returns
// on a sink error or one of the package's errors (a page that does not
// verify from any wing is one: nothing of it is kept).
//
// While the sink keeps one page, Follow verifies the next and fetches the
// one after it; the sink still gets the pages one after another, each
// only after all before it, and none after one that did not verify.
func (c *Client) Follow(ctx context.Context, sink Sink, untilCaughtUp bool) error {
	state := sink.State()
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		// One page at a time, failing over across the wings, until one
		// answers; then pages streamed from that wing until it fails.
		p, after, err := c.Next(ctx, state)
		if err != nil {
			if errors.Is(err, ErrResync) || errors.Is(err, ErrRefused) || errors.Is(err, ErrBadPage) || ctx.Err() != nil {
				return err
			}
			backoff = min(max(2*backoff, 250*time.Millisecond), 10*time.Second)
			c.cfg.Log.Warn("pull: retrying", "in", backoff, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			continue
		}
		backoff = 0
		if err := sink.Write(p, after); err != nil {
			return fmt.Errorf("pull: keep the page: %w", err)
		}
		state = after
		if untilCaughtUp && caughtUp(p) {
			return nil
		}
		var done bool
		if state, done, err = c.stream(ctx, sink, state, untilCaughtUp); err != nil || done {
			return err
		}
	}
	return ctx.Err()
}

// caughtUp reports whether p reaches the head of the site's order.
func caughtUp(p export.Page) bool { return p.Next == p.Head.At }

// verified is a page that verified after the one before it, or the
// failure that ends a stream.
type verified struct {
	page  export.Page
	after export.State
	err   error
}

// stream pulls pages after from into sink from the wing asked now, three
// at a time: one fetched, one verified and one kept. It returns the state
// the sink reached and whether the pull is done (caught up, with
// untilCaughtUp), with an error only from the sink. When a page cannot be
// fetched or does not verify, it returns with the pages before it kept,
// for Follow to ask for that page again, failing over.
func (c *Client) stream(ctx context.Context, sink Sink, from export.State, untilCaughtUp bool) (export.State, bool, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	answers := make(chan answer, 1)
	pages := make(chan verified, 1)
	base := c.cfg.Wings[c.at]
	wg.Go(func() { // fetch: each page asked for after the one before it
		defer close(answers)
		for cursor := from.Cursor; ; {
			a, err := c.fetch(ctx, base, cursor)
			if err != nil {
				if ctx.Err() == nil {
					c.cfg.Log.Warn("pull: asking again", "from", base, "err", err)
				}
				return
			}
			select {
			case answers <- a:
			case <-ctx.Done():
				return
			}
			cursor = a.next
		}
	})
	wg.Go(func() { // verify: each page after the state the one before left
		defer close(pages)
		state := from
		for a := range answers {
			p, after, err := c.check(a, state)
			select {
			case pages <- verified{page: p, after: after, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			state = after
		}
	})
	state := from
	for v := range pages {
		if v.err != nil {
			c.cfg.Log.Warn("pull: asking again", "from", base, "err", v.err)
			return state, false, nil
		}
		if err := sink.Write(v.page, v.after); err != nil {
			return state, false, fmt.Errorf("pull: keep the page: %w", err)
		}
		state = v.after
		if untilCaughtUp && caughtUp(v.page) {
			return state, true, nil
		}
	}
	return state, false, nil
}
