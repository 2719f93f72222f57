package site

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkState(t *testing.T) {
	assert.Equal(t, LinkLocal, linkState(true, false), "this wing is never probed")
	assert.Equal(t, LinkConnected, linkState(false, true))
	assert.Equal(t, LinkUnreachable, linkState(false, false))

	b, err := json.Marshal(WingStatus{Wing: "B", Reachable: true, Link: LinkConnected})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Wing":"B","Local":false,"Reachable":true,"link":"connected","Voter":false,"Committed":0,"Held":0,"Applied":0,"LastSeen":"0001-01-01T00:00:00Z"}`, string(b),
		"the status keeps its fields and adds link")
}
