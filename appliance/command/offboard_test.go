package command

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/store"
	"wingnode/appliance/wingtest"
	"wingnode/sync/pull"
	"wingnode/sync/trust"
)

// offboardWing starts a wing with its off-board port on loopback and
// returns it with the port's URL.
func offboardWing(t *testing.T, api appliance.APIConfig) (*wingtest.Wing, string) {
	t.Helper()
	api.Listen = "127.0.0.1:0"
	w := wingtest.Start(t, appliance.Config{API: api})
	w.SiteAddr(t)
	require.Eventually(t, func() bool { return w.Status().Leader != "" }, 10*time.Second, 10*time.Millisecond, "the wing leads its site")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := w.APIAddr(ctx)
	require.NoError(t, err)
	return w, "https://" + addr
}

// get asks the off-board port with client and checks the answer against
// docs/openapi.yaml.
func get(t *testing.T, client *http.Client, url, path, token string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url+path, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	p, _, _ := strings.Cut(path, "?")
	wingtest.Contract(t, "GET", p, resp.StatusCode, resp.Header, body)
	return resp, string(body)
}

func TestOffboardPortNeedsCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a wing with its site and off-board ports; skipped in -short")
	}
	w, url := offboardWing(t, appliance.APIConfig{})
	data := string(w.Data)
	out := t.TempDir()
	status, _, errs := execute("site", "client-cert", "-data", data, "-out", out, "-role", "central", "hq")
	require.Equal(t, 0, status, errs)
	status, token, errs := execute("site", "client-token", "-data", data, "-role", "siteit", "it-laptop")
	require.Equal(t, 0, status, errs)
	token = strings.TrimSpace(token)
	require.True(t, strings.HasPrefix(token, "wnc_"))

	ca, err := trust.ReadCA(filepath.Join(out, "site-ca.crt"))
	require.NoError(t, err)
	kp, err := tls.LoadX509KeyPair(filepath.Join(out, "hq.crt"), filepath.Join(out, "hq.key"))
	require.NoError(t, err)
	withCert, anonymous := pull.NewHTTPClient(ca, &kp), pull.NewHTTPClient(ca, nil)
	const events = "/api/v1/site/events?limit=5"

	require.Eventually(t, func() bool {
		resp, _ := get(t, withCert, url, events, "")
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "a registered client certificate is let through once the site agrees on it")
	resp, _ := get(t, anonymous, url, events, token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "so is a registered token")
	resp, body := get(t, withCert, url, "/api/v1/backup", "")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a central client takes no backup")
	assert.Contains(t, body, "needs siteit")
	resp, _ = get(t, anonymous, url, "/api/v1/backup", token)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "site IT does")

	resp, body = get(t, anonymous, url, events, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "this port needs credentials")
	assert.NotEmpty(t, resp.Header.Get("WWW-Authenticate"))
	resp, body = get(t, anonymous, url, events, "wnc_not-a-token")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "not one this site issued")

	// A certificate of another site's CA is refused with a sentence.
	_, otherCA, err := wingtest.NewIdentity(t.TempDir(), "site", "A")
	require.NoError(t, err)
	c, k, _, err := otherCA.IssueClient("hq")
	require.NoError(t, err)
	foreign, err := tls.X509KeyPair(c, k)
	require.NoError(t, err)
	resp, body = get(t, pull.NewHTTPClient(ca, &foreign), url, events, "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, "not one this site issued")

	// Revoked: refused on the next request, keep-alive or not.
	status, _, errs = execute("site", "client-revoke", "-data", data, "hq")
	require.Equal(t, 0, status, errs)
	require.Eventually(t, func() bool {
		resp, _ := get(t, withCert, url, events, "")
		return resp.StatusCode == http.StatusForbidden
	}, 10*time.Second, 50*time.Millisecond)
	_, body = get(t, withCert, url, events, "")
	assert.Contains(t, body, "client hq was revoked")

	status, list, _ := execute("site", "clients", "-data", data)
	require.Equal(t, 0, status)
	assert.Contains(t, list, "hq")
	assert.Contains(t, list, "it-laptop")
	assert.NotContains(t, list, token, "tokens are kept nowhere")

	// The CLI pulls over the port with a token.
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	status, got, errs := execute("pull", "-from", url, "-ca", filepath.Join(out, "site-ca.crt"), "-token-file", tokenFile, "-to", t.TempDir(), "-once")
	require.Equal(t, 0, status, errs)
	assert.Contains(t, got, "pulled up to")
	assert.NotContains(t, got+errs, token, "the token is never printed")
}

func TestOffboardPortLimitsEachClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a wing with its site and off-board ports; skipped in -short")
	}
	w, url := offboardWing(t, appliance.APIConfig{Rate: 0.5, Burst: 3})
	status, token, errs := execute("site", "client-token", "-data", string(w.Data), "-role", "central", "hq")
	require.Equal(t, 0, status, errs)
	token = strings.TrimSpace(token)
	ca, err := trust.ReadCA(filepath.Join(w.Data.Identity(), "site-ca.crt"))
	require.NoError(t, err)
	client := pull.NewHTTPClient(ca, nil)
	var last *http.Response
	var body string
	for range 8 {
		if last, body = get(t, client, url, "/api/v1/site/events", token); last.StatusCode == http.StatusTooManyRequests {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, last.StatusCode)
	assert.NotEmpty(t, last.Header.Get("Retry-After"))
	assert.Contains(t, body, "slow down")
}

func TestOffboardMetricsAndReadiness(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a wing with its site and off-board ports; skipped in -short")
	}
	w, url := offboardWing(t, appliance.APIConfig{})
	status, token, errs := execute("site", "client-token", "-data", string(w.Data), "-role", "central", "prometheus")
	require.Equal(t, 0, status, errs)
	token = strings.TrimSpace(token)
	ca, err := trust.ReadCA(filepath.Join(w.Data.Identity(), "site-ca.crt"))
	require.NoError(t, err)
	client := pull.NewHTTPClient(ca, nil)
	var resp *http.Response
	var body string
	require.Eventually(t, func() bool {
		resp, body = get(t, client, url, "/readyz", token)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "a lone wing that leads its site and has applied its log is ready: %s", body)
	assert.Contains(t, body, `"ready":true`)
	resp, _ = get(t, client, url, "/readyz?noleader", token)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	get(t, client, url, "/api/v1/site/events?limit=1", token) // so that the client's lag is known
	resp, body = get(t, client, url, "/metrics", token)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	for _, name := range []string{"wingnode_build_info{", "wingnode_events_recorded_total ", "wingnode_store_write_seconds_bucket{", "wingnode_held_events ",
		`wingnode_raft_state{state="leader"} 1`, "wingnode_raft_commit_index ", `wingnode_site_committed_seq{wing="A"}`, "wingnode_input_faults ",
		"wingnode_disk_free_bytes ", "wingnode_open_screens ", `wingnode_central_client_lag_entries{client="prometheus"}`, "go_goroutines "} {
		assert.Contains(t, body, name)
	}
	assert.NotContains(t, body, token)

	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is missing: run 'make deps' as root, or apt-get install prometheus")
		}
		t.Skip("promtool is missing (Debian's prometheus package; 'make deps' installs it as root): the metrics were not linted")
	}
	check := exec.Command(promtool, "check", "metrics")
	check.Stdin = strings.NewReader(body)
	out, err := check.CombinedOutput()
	assert.NoError(t, err, "promtool check metrics: %s", out)
}

func TestReadinessBeforeTheSite(t *testing.T) {
	a, err := appliance.New(appliance.Config{DataDir: t.TempDir(), Simulate: true})
	require.NoError(t, err)
	defer a.Close()
	r := a.Ready(false)
	assert.False(t, r.Ready)
	assert.Contains(t, r.Problems, "this wing has not joined its site yet")
}

// TestRetentionKeepsWhatAClientHasNotPulled: a registered central client
// that has not pulled keeps every event; once it has pulled, retention
// removes what it pulled, and the store still verifies.
func TestRetentionKeepsWhatAClientHasNotPulled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a wing with its site and off-board ports; skipped in -short")
	}
	w := wingtest.Start(t, appliance.Config{API: appliance.APIConfig{Listen: "127.0.0.1:0"}, Retain: time.Nanosecond, RetainEvery: 50 * time.Millisecond, CheckpointEvery: 10})
	w.SiteAddr(t)
	require.Eventually(t, func() bool { return w.Status().Leader != "" }, 10*time.Second, 10*time.Millisecond)
	status, token, errs := execute("site", "client-token", "-data", string(w.Data), "-role", "central", "hq")
	require.Equal(t, 0, status, errs)
	// Before the client was registered, retention had no one to keep the
	// wing's first events for; from now on it keeps everything for hq.
	registered, err := w.Store().Floors()
	require.NoError(t, err)
	record(t, w, 100)
	time.Sleep(500 * time.Millisecond) // several retention rounds
	floors, err := w.Store().Floors()
	require.NoError(t, err)
	assert.Equal(t, registered, floors, "nothing goes before the client has pulled it")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addr, err := w.APIAddr(ctx)
	require.NoError(t, err)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(token), 0o600))
	status, _, errs = execute("pull", "-from", "https://"+addr, "-ca", filepath.Join(w.Data.Identity(), "site-ca.crt"), "-token-file", tokenFile, "-to", t.TempDir(), "-once")
	require.Equal(t, 0, status, errs)
	require.Eventually(t, func() bool { return w.Status().Agreed.Clients["hq"].Pulled > 0 }, 10*time.Second, 20*time.Millisecond, "the site learns how far the client pulled")
	require.Eventually(t, func() bool {
		f, err := w.Store().Floors()
		return err == nil && f["A"].Seq > 0
	}, 10*time.Second, 20*time.Millisecond, "then retention removes what it pulled")
	require.NoError(t, w.Stop())
	_, err = store.Verify(w.Data.Store())
	assert.NoError(t, err)
}
