package simulate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"wingnode/sensors/simulate"
)

func TestOutputsRegisterAndRememberTheirLevel(t *testing.T) {
	o, err := simulate.NewOutputs([]string{"OUT_TEST_SOUNDER"})
	require.NoError(t, err)
	pin := gpioreg.ByName("OUT_TEST_SOUNDER")
	require.NotNil(t, pin)
	require.NoError(t, pin.Out(gpio.High))
	l, err := o.Level("OUT_TEST_SOUNDER")
	require.NoError(t, err)
	assert.Equal(t, gpio.High, l)
	_, err = o.Level("OUT_NOPE")
	require.Error(t, err)

	require.NoError(t, o.Close())
	assert.Nil(t, gpioreg.ByName("OUT_TEST_SOUNDER"), "unregistered")
	l, err = o.Level("OUT_TEST_SOUNDER")
	require.NoError(t, err)
	assert.Equal(t, gpio.High, l, "the last level is still known")

	again, err := simulate.NewOutputs([]string{"OUT_TEST_SOUNDER"})
	require.NoError(t, err, "the name is free again")
	require.NoError(t, again.Close())
}
