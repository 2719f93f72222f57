package roster

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPINHashVerifies(t *testing.T) {
	h, err := HashPIN("482913")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$"), h)
	assert.NotContains(t, h, "482913")
	ok, err := VerifyPIN(h, "482913")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = VerifyPIN(h, "482914")
	require.NoError(t, err)
	assert.False(t, ok)
	h2, err := HashPIN("482913")
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "salted")

	for _, bad := range []string{"", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", h + "$"} {
		_, err := VerifyPIN(bad, "482913")
		assert.ErrorIs(t, err, ErrBadHash, bad)
	}
	for _, bad := range []string{"123", "1234567890123", "12a4", " 1234"} {
		_, err := HashPIN(bad)
		assert.Error(t, err, bad)
	}
}

func TestRolesAllow(t *testing.T) {
	assert.True(t, Supervisor.Allows(Officer))
	assert.True(t, SiteIT.Allows(Supervisor))
	assert.False(t, Officer.Allows(Supervisor))
	assert.False(t, Role("").Allows(Officer))
	assert.False(t, Role("governor").Allows(Officer))
	_, err := ParseRole("governor")
	assert.Error(t, err)
	assert.True(t, ValidID("OFF-1021"))
	assert.False(t, ValidID("John Smith"))
}

func TestEntryCheck(t *testing.T) {
	h, err := HashPIN("4821")
	require.NoError(t, err)
	assert.NoError(t, CheckHash(h))
	assert.NoError(t, Entry{ID: "1001", Role: Officer}.Check(), "an officer without a PIN yet")
	assert.NoError(t, Entry{ID: "1001", Role: SiteIT, PINHash: h}.Check())
	for _, bad := range []Entry{
		{ID: "", Role: Officer},
		{ID: "John Smith", Role: Officer},
		{ID: "1001", Role: "governor"},
		{ID: "1001", Role: Officer, PINHash: "4821"},
		{ID: "1001", Role: Officer, PINHash: h[:len(h)-30]},
	} {
		err := bad.Check()
		if assert.Error(t, err, bad) && bad.PINHash != "" {
			assert.NotContains(t, err.Error(), bad.PINHash, "an error never quotes the hash")
			assert.ErrorIs(t, err, ErrBadHash)
		}
	}
}
