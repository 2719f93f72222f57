package appliance

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/firmware"
)

// bootingBoard is a fake board whose reboot boots the slot just installed:
// the build passes its health check, or, when failing, uses up its tries
// so that the boot loader goes back to the old build.
type bootingBoard struct {
	*fakeBoard
	failing bool
	reboots atomic.Int32
}

func (b *bootingBoard) reboot() error {
	b.reboots.Add(1)
	s, err := firmware.LoadSlots(b.dev.SlotsFile)
	if err != nil {
		return err
	}
	tried := s.Active.Other()
	if b.failing {
		*s.Slot(tried) = firmware.Slot{Status: firmware.Bad}
	} else {
		s.Active = tried
		if s, err = firmware.Confirm(s); err != nil {
			return err
		}
	}
	return firmware.SaveSlots(b.dev.SlotsFile, s)
}

// rolloutSite starts wings A, B and C on fake boards; failing names the
// wings whose new build will not boot.
func rolloutSite(t *testing.T, key firmware.PrivateKey, failing ...string) ([]*running, map[string]*bootingBoard) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	boards := map[string]*bootingBoard{}
	var wings []*running
	for _, id := range []string{"A", "B", "C"} {
		data := t.TempDir()
		b := &bootingBoard{fakeBoard: newFakeBoard(t, data, key)}
		for _, f := range failing {
			b.failing = b.failing || f == id
		}
		boards[id] = b
		cfg := Config{SimulatedWing: id, DataDir: data, Reboot: b.reboot,
			UpdateDevice: func() (firmware.Device, error) { return b.dev, nil }}
		if id != "A" {
			cfg.Site.JoinToken = token(t, wings[0])
		}
		wings = append(wings, start(t, cfg))
	}
	require.Eventually(t, func() bool {
		voters := 0
		for _, w := range wings[0].SiteNode().Status().Wings {
			if w.Voter {
				voters++
			}
		}
		return voters == 3
	}, 20*time.Second, 50*time.Millisecond, "all three wings vote")
	return wings, boards
}

// firmwareCall sends site IT's request to a wing's screens port.
func firmwareCall(t *testing.T, r *running, token, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+r.addr+path, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var v map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return resp.StatusCode, v
}

// settled waits until the site's rollout has finished or stopped, and
// returns it as wing w sees it.
func settled(t *testing.T, w *running) *firmware.Rollout {
	t.Helper()
	var r *firmware.Rollout
	require.Eventually(t, func() bool {
		r = w.SiteNode().Status().Agreed.Rollout
		return r != nil && r.Next() == ""
	}, 60*time.Second, 50*time.Millisecond, "the rollout settles")
	return r
}

func TestRolloutGoesRoundTheSiteOneWingAtATime(t *testing.T) {
	key := testKey(t)
	wings, boards := rolloutSite(t, key)
	a := wings[0]

	// A bundle site IT did not sign is refused, and nothing starts.
	stranger, err := firmware.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	require.NoError(t, err)
	status, body := firmwareCall(t, a, boards["A"].token, http.MethodPost, "/api/v1/firmware/rollout", signedBundle(t, stranger, "amd64-uefi", 6))
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Nil(t, a.SiteNode().Status().Agreed.Rollout)
	status, _ = firmwareCall(t, a, "wrong", http.MethodPost, "/api/v1/firmware/rollout", signedBundle(t, key, "amd64-uefi", 6))
	assert.Equal(t, http.StatusUnauthorized, status)

	status, body = firmwareCall(t, a, boards["A"].token, http.MethodPost, "/api/v1/firmware/rollout", signedBundle(t, key, "amd64-uefi", 6))
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Contains(t, body["message"], "wing A first, then B, C")

	r := settled(t, a)
	assert.Equal(t, "finished", r.State(), r.Stopped)
	assert.Equal(t, []string{"A", "B", "C"}, r.Done, "each wing in turn")
	for id, b := range boards {
		s, err := firmware.LoadSlots(b.dev.SlotsFile)
		require.NoError(t, err)
		assert.Equal(t, firmware.SlotB, s.Active, "wing %s runs slot b", id)
		assert.EqualValues(t, 6, s.B.Version, "wing %s runs build 6", id)
		assert.Equal(t, firmware.Good, s.B.Status)
		assert.EqualValues(t, 1, b.reboots.Load(), "wing %s rebooted once", id)
		written, err := os.ReadFile(b.parts[firmware.SlotB])
		require.NoError(t, err)
		assert.Contains(t, string(written), "squashfs of build 6", "wing %s wrote the bundle's root into slot b", id)
	}
	_, err = os.Stat(bundlePath(wings[2].cfg.DataDir, r.Digest))
	assert.NoError(t, err, "C fetched the bundle from a peer")
	assert.Eventually(t, func() bool {
		status, body := firmwareCall(t, wings[1], boards["B"].token, http.MethodGet, "/api/v1/firmware", nil)
		return status == http.StatusOK && assert.ObjectsAreEqual([]any{"A", "B", "C"}, body["rollout"].(map[string]any)["done"])
	}, 10*time.Second, 20*time.Millisecond, "site IT sees the rollout on any wing")
}

func TestRolloutStopsAtTheFirstFailure(t *testing.T) {
	key := testKey(t)
	wings, boards := rolloutSite(t, key, "B")
	status, body := firmwareCall(t, wings[0], boards["A"].token, http.MethodPost, "/api/v1/firmware/rollout", signedBundle(t, key, "amd64-uefi", 6))
	require.Equal(t, http.StatusAccepted, status, body)

	r := settled(t, wings[2])
	assert.Equal(t, "stopped", r.State())
	assert.Equal(t, []string{"A"}, r.Done)
	assert.Contains(t, r.Stopped, "wing B: came back on build 5 after trying build 6")
	s, err := firmware.LoadSlots(boards["C"].dev.SlotsFile)
	require.NoError(t, err)
	assert.Equal(t, firmware.NewSlots(5, "v5"), s, "C never installed it")
	assert.Zero(t, boards["C"].reboots.Load())

	// A stopped rollout has nothing left to stop.
	status, body = firmwareCall(t, wings[0], boards["A"].token, http.MethodPost, "/api/v1/firmware/rollout/stop", nil)
	assert.Equal(t, http.StatusConflict, status, "nothing left to stop: %v", body)
}
