package appliance_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/wingtest"
	"wingnode/firmware"
)

// bootingBoard is a fake board whose reboot boots the slot just installed:
// the build passes its health check, or, when failing, uses up its tries
// so that the boot loader goes back to the old build.
type bootingBoard struct {
	*wingtest.Board
	failing bool
	reboots atomic.Int32
}

func (b *bootingBoard) reboot() error {
	b.reboots.Add(1)
	s, err := firmware.LoadSlots(b.Device.SlotsFile)
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
	return firmware.SaveSlots(b.Device.SlotsFile, s)
}

// rolloutSite starts wings A, B and C on fake boards; failing names the
// wings whose new build will not boot.
func rolloutSite(t *testing.T, key firmware.PrivateKey, failing ...string) ([]*wingtest.Wing, map[string]*bootingBoard) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three wings with raft; skipped in -short")
	}
	boards := map[string]*bootingBoard{}
	wings := wingtest.StartSite(t, []string{"A", "B", "C"}, 3, func(id string) appliance.Config {
		data := t.TempDir()
		b := &bootingBoard{Board: wingtest.NewBoard(t, data, key), failing: slices.Contains(failing, id)}
		boards[id] = b
		return appliance.Config{DataDir: data, Reboot: b.reboot, UpdateDevice: func() (firmware.Device, error) { return b.Device, nil }}
	})
	return wings, boards
}

// firmwareCall sends site IT's request to a wing's screens port.
func firmwareCall(t *testing.T, r *wingtest.Wing, token, method, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+r.HTTP+path, bytes.NewReader(body))
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
func settled(t *testing.T, w *wingtest.Wing) *firmware.Rollout {
	t.Helper()
	var r *firmware.Rollout
	require.Eventually(t, func() bool {
		r = w.Status().Agreed.Rollout
		return r != nil && r.Next() == ""
	}, 60*time.Second, 50*time.Millisecond, "the rollout settles")
	return r
}

func TestRolloutGoesRoundTheSiteOneWingAtATime(t *testing.T) {
	key := wingtest.Key(t)
	wings, boards := rolloutSite(t, key)
	a := wings[0]

	// A bundle site IT did not sign is refused, and nothing starts.
	stranger, err := firmware.GenerateKey(bytes.NewReader(bytes.Repeat([]byte{9}, 32)))
	require.NoError(t, err)
	status, body := firmwareCall(t, a, boards["A"].Token, http.MethodPost, "/api/v1/firmware/rollout", wingtest.Bundle(t, stranger, "amd64-uefi", 6))
	assert.Equal(t, http.StatusForbidden, status, body)
	assert.Nil(t, a.Status().Agreed.Rollout)
	kept, _ := os.ReadDir(a.Data.Bundles())
	assert.Empty(t, kept, "nothing of a forged upload is kept")
	status, _ = firmwareCall(t, a, "wrong", http.MethodPost, "/api/v1/firmware/rollout", wingtest.Bundle(t, key, "amd64-uefi", 6))
	assert.Equal(t, http.StatusUnauthorized, status)

	status, body = firmwareCall(t, a, boards["A"].Token, http.MethodPost, "/api/v1/firmware/rollout", wingtest.Bundle(t, key, "amd64-uefi", 6))
	require.Equal(t, http.StatusAccepted, status, body)
	assert.Contains(t, body["message"], "wing A first, then B, C")

	r := settled(t, a)
	assert.Equal(t, "finished", r.State(), r.Stopped)
	assert.Equal(t, []string{"A", "B", "C"}, r.Done, "each wing in turn")
	for id, b := range boards {
		s, err := firmware.LoadSlots(b.Device.SlotsFile)
		require.NoError(t, err)
		assert.Equal(t, firmware.SlotB, s.Active, "wing %s runs slot b", id)
		assert.EqualValues(t, 6, s.B.Version, "wing %s runs build 6", id)
		assert.Equal(t, firmware.Good, s.B.Status)
		assert.EqualValues(t, 1, b.reboots.Load(), "wing %s rebooted once", id)
		written, err := os.ReadFile(b.Parts[firmware.SlotB])
		require.NoError(t, err)
		assert.Contains(t, string(written), "squashfs of build 6", "wing %s wrote the bundle's root into slot b", id)
	}
	_, err = os.Stat(wings[2].Data.Bundle(r.Digest))
	assert.NoError(t, err, "C fetched the bundle from a peer")
	assert.Eventually(t, func() bool {
		status, body := firmwareCall(t, wings[1], boards["B"].Token, http.MethodGet, "/api/v1/firmware", nil)
		return status == http.StatusOK && assert.ObjectsAreEqual([]any{"A", "B", "C"}, body["rollout"].(map[string]any)["done"])
	}, 10*time.Second, 20*time.Millisecond, "site IT sees the rollout on any wing")
}

func TestRolloutStopsAtTheFirstFailure(t *testing.T) {
	key := wingtest.Key(t)
	wings, boards := rolloutSite(t, key, "B")
	status, body := firmwareCall(t, wings[0], boards["A"].Token, http.MethodPost, "/api/v1/firmware/rollout", wingtest.Bundle(t, key, "amd64-uefi", 6))
	require.Equal(t, http.StatusAccepted, status, body)

	r := settled(t, wings[2])
	assert.Equal(t, "stopped", r.State())
	assert.Equal(t, []string{"A"}, r.Done)
	assert.Contains(t, r.Stopped, "wing B: came back on build 5 after trying build 6")
	s, err := firmware.LoadSlots(boards["C"].Device.SlotsFile)
	require.NoError(t, err)
	assert.Equal(t, firmware.NewSlots(5, "v5"), s, "C never installed it")
	assert.Zero(t, boards["C"].reboots.Load())

	// A stopped rollout has nothing left to stop.
	status, body = firmwareCall(t, wings[0], boards["A"].Token, http.MethodPost, "/api/v1/firmware/rollout/stop", nil)
	assert.Equal(t, http.StatusConflict, status, "nothing left to stop: %v", body)
}
