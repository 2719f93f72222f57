package update_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance/datadir"
	"wingnode/appliance/update"
	"wingnode/appliance/wingtest"
	"wingnode/firmware"
)

// updateRig is a wing whose slot partitions are temporary files and whose
// ESP is a temporary folder; slot a runs build 5 and site IT's token is set.
type updateRig struct {
	srv     *httptest.Server
	token   string
	parts   map[firmware.SlotName]string
	esp     string
	data    string
	key     firmware.PrivateKey
	log     wingtest.Log
	reboots atomic.Int32
	u       *update.Updates
}

func newUpdateRig(t *testing.T) *updateRig { t.Helper(); return newUpdateRigOf(t, nil) }

// newUpdateRigOf is newUpdateRig of a wing in a site (nil: none yet).
func newUpdateRigOf(t testing.TB, s update.Site) *updateRig {
	t.Helper()
	r := &updateRig{data: t.TempDir(), key: wingtest.Key(t)}
	b := wingtest.NewBoard(t, r.data, r.key)
	r.esp, r.parts, r.token = b.ESP, b.Parts, b.Token
	u := update.New(update.Config{
		Data:   datadir.Dir(r.data),
		Device: func() (firmware.Device, error) { return b.Device, nil },
		Reboot: func() error { r.reboots.Add(1); return nil },
		Log:    slog.New(slog.NewTextHandler(&r.log, nil)),
		Site: func() update.Site {
			if s == nil {
				return nil
			}
			return s
		},
	})
	r.u = u
	r.srv = httptest.NewServer(u)
	t.Cleanup(r.srv.Close)
	return r
}

// bundle signs a bundle of a small root file system.
func (r *updateRig) bundle(t *testing.T, key firmware.PrivateKey, hardware string, version uint64) []byte {
	t.Helper()
	return wingtest.Bundle(t, key, hardware, version)
}

// do sends a request with site IT's token (or the given one) and decodes
// the JSON answer.
func (r *updateRig) do(t *testing.T, method, path, token string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}

func (r *updateRig) slots(t *testing.T) firmware.Slots {
	t.Helper()
	s, err := firmware.LoadSlots(datadir.Dir(r.data).Slots())
	require.NoError(t, err)
	return s
}

func TestUpdateEndpointAuthentication(t *testing.T) {
	r := newUpdateRig(t)
	status, body := r.do(t, http.MethodGet, "/api/v1/firmware", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Contains(t, body["error"], "Authorization: Bearer")
	status, _ = r.do(t, http.MethodGet, "/api/v1/firmware", r.token+"x", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = r.do(t, http.MethodPost, "/api/v1/firmware", "wrong", r.bundle(t, r.key, "amd64-uefi", 6))
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, firmware.Bad, r.slots(t).B.Status, "nothing installed without the token")
	status, _ = r.do(t, http.MethodPost, "/api/v1/firmware/reboot", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Zero(t, r.reboots.Load())
	assert.NotContains(t, r.log.String(), r.token[6:], "the token is never logged")

	require.NoError(t, os.Remove(datadir.Dir(r.data).SiteITHash()))
	status, body = r.do(t, http.MethodGet, "/api/v1/firmware", r.token, nil)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body["error"], "siteit-token")
}

func TestUpdateEndpointInstallsAndReboots(t *testing.T) {
	r := newUpdateRig(t)
	status, body := r.do(t, http.MethodGet, "/api/v1/firmware", r.token, nil)
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "a", body["running"])
	assert.Equal(t, false, body["trial"])
	assert.Equal(t, "good", body["slots"].(map[string]any)["a"].(map[string]any)["status"])

	bundle := r.bundle(t, r.key, "amd64-uefi", 6)
	status, body = r.do(t, http.MethodPost, "/api/v1/firmware", r.token, bundle)
	require.Equal(t, http.StatusOK, status, body)
	assert.Contains(t, body["message"], "installed build 6 (v6) into slot b")
	b := body["slots"].(map[string]any)["b"].(map[string]any)
	assert.Equal(t, "trial", b["status"])
	assert.EqualValues(t, firmware.TrialTries, b["tries"])
	assert.Equal(t, "a", body["running"], "still running a until the reboot")
	_, err := os.Stat(filepath.Join(r.esp, firmware.EntriesDir, "root-b+3.conf"))
	assert.NoError(t, err, "slot b's entry counts its tries")
	written, err := os.ReadFile(r.parts[firmware.SlotB])
	require.NoError(t, err)
	assert.Contains(t, string(written), "squashfs of build 6")
	a, err := os.ReadFile(r.parts[firmware.SlotA])
	require.NoError(t, err)
	assert.Equal(t, "build 5", string(a), "the running slot is untouched")

	status, _ = r.do(t, http.MethodPost, "/api/v1/firmware/reboot", r.token, nil)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Eventually(t, func() bool { return r.reboots.Load() == 1 }, 5*time.Second, 5*time.Millisecond, "the init is asked to reboot once")
	assert.NotContains(t, r.log.String(), r.token[6:], "the token is never logged")
}

func TestUpdateEndpointRefusesBadBundles(t *testing.T) {
	r := newUpdateRig(t)
	stranger, err := firmware.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{8}, 32)))
	require.NoError(t, err)
	good := r.bundle(t, r.key, "amd64-uefi", 6)
	for _, tc := range []struct {
		name   string
		bundle []byte
		status int
		says   string
	}{
		{"forged", r.bundle(t, stranger, "amd64-uefi", 6), http.StatusForbidden, "not signed by a trusted key"},
		{"downgrade", r.bundle(t, r.key, "amd64-uefi", 5), http.StatusConflict, "not newer than the running version 5"},
		{"wrong hardware", r.bundle(t, r.key, "rpi4", 6), http.StatusUnprocessableEntity, "this device is \"amd64-uefi\""},
		{"truncated", good[:len(good)/2], http.StatusBadRequest, "truncated"},
		{"not a bundle", []byte("hello"), http.StatusBadRequest, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := r.do(t, http.MethodPost, "/api/v1/firmware", r.token, tc.bundle)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body["error"], tc.says)
			s := r.slots(t)
			assert.Equal(t, firmware.SlotA, s.Active)
			assert.Equal(t, firmware.Slot{Status: firmware.Good, Version: 5, Display: "v5"}, s.A, "the running slot is untouched")
			assert.Equal(t, firmware.Bad, s.B.Status)
			a, err := os.ReadFile(r.parts[firmware.SlotA])
			require.NoError(t, err)
			assert.Equal(t, "build 5", string(a))
			_, err = os.Stat(filepath.Join(r.esp, firmware.EntriesDir, "root-b+3.conf"))
			assert.ErrorIs(t, err, os.ErrNotExist)
		})
	}

	// While the running slot is on trial, the other slot is its fall-back.
	status, body := r.do(t, http.MethodPost, "/api/v1/firmware", r.token, good)
	require.Equal(t, http.StatusOK, status, body)
	s := r.slots(t)
	s, err = firmware.Booted(s, firmware.BootEntry{Slot: firmware.SlotB, Counting: true, Left: 2, Done: 1})
	require.NoError(t, err)
	require.NoError(t, firmware.SaveSlots(datadir.Dir(r.data).Slots(), s))
	status, body = r.do(t, http.MethodPost, "/api/v1/firmware", r.token, r.bundle(t, r.key, "amd64-uefi", 7))
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body["error"], "not confirmed")
	status, body = r.do(t, http.MethodGet, "/api/v1/firmware", r.token, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, true, body["trial"])
}

func TestUpdateEndpointOffAnImage(t *testing.T) {
	r := newUpdateRig(t)
	u := update.New(update.Config{Data: datadir.Dir(r.data), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	srv := httptest.NewServer(u)
	defer srv.Close()
	r.srv = srv
	status, body := r.do(t, http.MethodGet, "/api/v1/firmware", r.token, nil)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body["error"], "wingnode images only")
	status, body = r.do(t, http.MethodPost, "/api/v1/firmware/reboot", r.token, nil)
	assert.Equal(t, http.StatusConflict, status)
	assert.Contains(t, body["error"], "restart it yourself")
}

// TestWrongTokensAreRateLimited: after five wrong tokens from a client,
// its next requests are refused with 429 whatever they carry, and the log
// has one line for the burst, never the token.
func TestWrongTokensAreRateLimited(t *testing.T) {
	r := newUpdateRig(t)
	for i := range 5 {
		status, _ := r.do(t, http.MethodGet, "/api/v1/firmware", fmt.Sprintf("guess-%d", i), nil)
		require.Equal(t, http.StatusUnauthorized, status)
	}
	status, body := r.do(t, http.MethodGet, "/api/v1/firmware", r.token, nil)
	assert.Equal(t, http.StatusTooManyRequests, status, "even the right token waits out the window")
	assert.Contains(t, body["error"], "too many wrong site IT tokens")
	assert.Equal(t, 1, strings.Count(r.log.String(), "wrong site IT token"), "one log line for the burst")
	assert.NotContains(t, r.log.String(), "guess-")
}
