package appliance_test

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"wingnode/appliance"
	"wingnode/appliance/wingtest"
	"wingnode/ui/browsertest"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// TestBrowserSeesASimulatedDoorOpen walks the whole path: an edge on a
// simulated GPIO pin, debounce, the store, the fold, the live stream, and
// the tile on a touchscreen-sized page in real Chromium.
func TestBrowserSeesASimulatedDoorOpen(t *testing.T) {
	tab := browsertest.Tab(t)
	r := wingtest.Start(t, appliance.Config{})
	tile := `document.querySelector('[data-testid="door-A2-10"]').dataset.state`
	require.NoError(t, chromedp.Do(tab,
		chromedp.Navigate("http://"+r.HTTP+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live-status[data-state="live"]`)),
	))
	state, err := chromedp.Run(tab, chromedp.Evaluate[string](tile))
	require.NoError(t, err)
	require.Equal(t, "closed", state)

	for _, want := range []struct {
		active bool
		state  string
	}{{true, "open"}, {false, "closed"}} {
		edge := time.Now()
		require.NoError(t, r.Sim().SetInput("A2-10", want.active))
		_, err := chromedp.Run(tab, chromedp.Poll[bool](tile+` === "`+want.state+`"`, chromedp.WithPollingTimeout(5*time.Second)))
		require.NoError(t, err, "tile never showed %s", want.state)
		t.Logf("edge to tile %s: %v", want.state, time.Since(edge))
	}
	browsertest.Screenshot(t, tab, "appliance-overview")
}
