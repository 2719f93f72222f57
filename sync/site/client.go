package site

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the site API (Node.Handler) of a wing: a node calls the
// other wings', and `wingnode site` calls its own wing's. Its HTTP client
// must present a certificate of the site (sync/trust).
type Client struct {
	HTTP *http.Client
}

// Status returns the view of the site of the wing at addr (host:port), as
// it answered it, and decoded.
func (c Client) Status(ctx context.Context, addr string) (Status, []byte, error) {
	var st Status
	body, err := c.Get(ctx, "https://"+addr+"/site/v1/status", "application/json")
	if err == nil {
		err = json.Unmarshal(body, &st)
	}
	return st, body, err
}

// Propose has the site commit cmd, through the wing at addr and on to the
// leader it points to.
func (c Client) Propose(ctx context.Context, addr string, cmd Command) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	u := "https://" + addr + "/site/v1/command"
	for range 3 {
		leader, err := c.Post(ctx, u, b)
		if err == nil || leader == "" {
			return err
		}
		u = leader + "/site/v1/command"
	}
	return errors.New("site: the site's leader could not be reached")
}

// Get gets u, answered as accept, and returns the body of a 200.
func (c Client) Get(ctx context.Context, u, accept string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", u, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// Post posts a JSON body to u within 15 s. When the wing answers 421 (only
// the leader can do that), the error comes with the leader's base URL
// (https://host:port) when the wing knows it.
func (c Client) Post(ctx context.Context, u string, body []byte) (leader string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return "", nil
	}
	var e struct {
		Error string `json:"error"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e)
	err = fmt.Errorf("site: %s: %s", resp.Status, e.Error)
	if resp.StatusCode == http.StatusUnprocessableEntity {
		// The site refused the command when it applied it.
		err = fmt.Errorf("%w: %s", ErrRefused, strings.TrimPrefix(e.Error, ErrRefused.Error()+": "))
	}
	if resp.StatusCode == http.StatusMisdirectedRequest {
		return strings.TrimSuffix(resp.Header.Get("Location"), "/"), err
	}
	return "", err
}
