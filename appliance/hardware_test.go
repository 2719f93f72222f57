package appliance_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"

	"wingnode/appliance"
	"wingnode/appliance/wing"
	"wingnode/appliance/wingtest"
	"wingnode/sensors/simulate"
)

func TestSupervisedLineFaultsAndRecovers(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	r.Eventually(t, "A2-11 read closed over its line", func(s *wing.State) bool {
		d, ok := s.Doors["A2-11"]
		return ok && !d.Open
	})
	require.NoError(t, r.Sim().SetInput("A2-11", true))
	r.Eventually(t, "A2-11 open", func(s *wing.State) bool { return s.Doors["A2-11"].Open })

	for _, fault := range []simulate.LineState{simulate.LineOpenCircuit, simulate.LineShortCircuit, simulate.LineTamper} {
		require.NoError(t, r.Sim().SetLine("A2-11", fault))
		r.Eventually(t, string(fault), func(s *wing.State) bool {
			in := s.Inputs["A2-11"]
			return in.Faulted && in.Fault == string(fault)
		})
	}
	require.NoError(t, r.Sim().SetLine("A2-11", simulate.LineNormal))
	r.Eventually(t, "restored", func(s *wing.State) bool { return !s.Inputs["A2-11"].Faulted })
	assert.True(t, r.State().Doors["A2-11"].Open, "after repair the line reports the door as it is")
}

func celsius(c float64) physic.Temperature {
	return physic.ZeroCelsius + physic.Temperature(c*float64(physic.Celsius))
}

func TestClimateLimitsAndSilentSensors(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{ClimateInterval: 20 * time.Millisecond})
	require.NoError(t, r.Sim().SetClimate("ENV-A3", celsius(32.5), 64*physic.PercentRH))
	require.Eventually(t, func() bool {
		for _, c := range r.Climate() {
			if c.Sensor == "ENV-A3" && c.TemperatureC > 32 && c.HumidityPct > 63 {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "reading shown")
	r.Eventually(t, "too hot", func(s *wing.State) bool { return s.Conditions["ENV-A3/too-hot"].Active })
	assert.Contains(t, r.State().Conditions["ENV-A3/too-hot"].Value, "32.5")

	require.NoError(t, r.Sim().SetClimate("ENV-A3", celsius(22), 45*physic.PercentRH))
	r.Eventually(t, "cooled", func(s *wing.State) bool { return !s.Conditions["ENV-A3/too-hot"].Active })

	require.NoError(t, r.Sim().SetSilent("ENV-A1", true))
	r.Eventually(t, "silent", func(s *wing.State) bool {
		return s.Inputs["ENV-A1"].Faulted && s.Inputs["ENV-A1"].Fault == "silent"
	})
	require.NoError(t, r.Sim().SetSilent("ENV-A1", false))
	r.Eventually(t, "answers again", func(s *wing.State) bool { return !s.Inputs["ENV-A1"].Faulted })
}

func TestAnnunciatorsFollowTheAlarms(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	out := r.SimulatedOutputs()
	level := func(pin string) gpio.Level {
		l, err := out.Level(pin)
		require.NoError(t, err)
		return l
	}
	for _, pin := range []string{"OUT_A_SOUNDER", "OUT_A_STROBE", "OUT_A_PANEL"} {
		assert.Equal(t, gpio.Low, level(pin), "%s starts safe (off)", pin)
	}
	r.Set(t, "A2-STAFF", true)
	require.Eventually(t, func() bool { return level("OUT_A_SOUNDER") == gpio.High && level("OUT_A_STROBE") == gpio.High },
		5*time.Second, 5*time.Millisecond, "a staff alarm sounds continuously and strobes")
	alarm := r.State().ActiveAlarms()[0]
	require.NoError(t, r.Acknowledge(t.Context(), alarm.ID, wingtest.Officer("3")))
	require.Eventually(t, func() bool { return level("OUT_A_SOUNDER") == gpio.Low && level("OUT_A_STROBE") == gpio.High },
		5*time.Second, 5*time.Millisecond, "acknowledged: silenced, still strobing")
	require.NoError(t, r.Resolve(t.Context(), alarm.ID, wingtest.Officer("3"), "false-alarm", ""))
	require.Eventually(t, func() bool { return level("OUT_A_STROBE") == gpio.Low }, 5*time.Second, 5*time.Millisecond, "resolved: strobe off")

	require.NoError(t, r.Stop())
	for _, pin := range []string{"OUT_A_SOUNDER", "OUT_A_STROBE", "OUT_A_PANEL"} {
		assert.Equal(t, gpio.Low, level(pin), "%s safe after stop", pin)
	}
}

func TestStoreRefusalIsReported(t *testing.T) {
	r := wingtest.Start(t, appliance.Config{})
	require.NoError(t, r.Recording())
	require.NoError(t, r.Store().Close()) // the store stops accepting events underneath the appliance
	require.NoError(t, r.Sim().SetInput("A1-09", true))
	require.Eventually(t, func() bool { return r.Recording() != nil }, 5*time.Second, 5*time.Millisecond)
	assert.Contains(t, r.Recording().Error(), "store is closed")

	resp, err := http.Get("http://" + r.HTTP + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}
