package event

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample() Event {
	e := Event{
		Wing: "A", Seq: 7, HLC: HLC{WallNanos: 1_780_000_000_000_000_000, Logical: 3},
		Wall: time.Unix(0, 1_780_000_000_000_000_123).UTC(), ClockTrusted: true,
		Kind: AlarmAcknowledged, Subject: "A1-07-CALL", Actor: "officer-4471",
		Data: map[string]string{"alarm": "A/5", "b": "2", "a": "1"},
	}
	e.Seal(Hash{1, 2, 3})
	return e
}

func TestMarshalRoundTrip(t *testing.T) {
	e := sample()
	b := e.Marshal()
	got, err := Unmarshal(b)
	require.NoError(t, err)
	assert.Equal(t, e, got)
	require.NoError(t, got.Verify(Hash{1, 2, 3}))
	// The encoding is canonical: the same event always gives the same bytes.
	assert.Equal(t, b, got.Marshal())
}

func TestVerifyCatchesEveryAlteredByte(t *testing.T) {
	e := sample()
	b := e.Marshal()
	for i := range len(b) - len(e.Hash) {
		altered := bytes.Clone(b)
		altered[i] ^= 0x01
		got, err := Unmarshal(altered)
		if err != nil {
			continue // no longer even decodes: also caught
		}
		assert.Error(t, got.Verify(e.Prev), "byte %d altered but the event verifies", i)
	}
	assert.ErrorContains(t, e.Verify(Hash{9}), "previous hash")
}

func TestUnmarshalRefusesOtherVersionsAndTrailingBytes(t *testing.T) {
	b := sample().Marshal()
	b[0] = 2
	_, err := Unmarshal(b)
	require.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "version 2")
	_, err = Unmarshal(append(sample().Marshal(), 0))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = Unmarshal(nil)
	require.ErrorIs(t, err, ErrMalformed)
}

func TestUnmarshalRefusesNumbersNotInTheirShortestForm(t *testing.T) {
	b := sample().Marshal()
	require.Equal(t, byte(7), b[3], "the seq follows the version and the wing")
	long := append(append(bytes.Clone(b[:3]), 0x87, 0x00), b[4:]...) // 7 in two bytes
	_, err := Unmarshal(long)
	require.ErrorIs(t, err, ErrMalformed)
	assert.ErrorContains(t, err, "shortest form")
}

func TestUnmarshalBody(t *testing.T) {
	e := sample()
	body := e.Body()
	got, err := UnmarshalBody(body)
	require.NoError(t, err)
	assert.Equal(t, e, got, "the hash is the body's SHA-256")
	_, err = UnmarshalBody(append(bytes.Clone(body), 0))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = UnmarshalBody(body[:len(body)-1])
	require.ErrorIs(t, err, ErrMalformed)

	// The event's strings are copies: the store decodes from memory that
	// bbolt reuses.
	for i := range body[:len(body)-len(e.Prev)] {
		body[i] = 'Z'
	}
	assert.Equal(t, "A1-07-CALL", got.Subject)
	assert.Equal(t, "A/5", got.Data["alarm"])
}

func TestClockIsMonotonicAndFlagsUntrustedTime(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	c := NewClock(func() time.Time { return now })
	a := c.Now()
	b := c.Now() // the wall clock stood still
	require.Positive(t, b.HLC.Compare(a.HLC))
	assert.True(t, a.Trusted)

	now = now.Add(-time.Hour) // stepped back: still ordered, no longer trusted
	d := c.Now()
	require.Positive(t, d.HLC.Compare(b.HLC))
	assert.False(t, d.Trusted)

	boot := NewClock(func() time.Time { return time.Unix(0, 0) }) // a board with no RTC
	assert.False(t, boot.Now().Trusted)

	// Observing a later reading (from the store, or another wing) moves the clock past it.
	far := HLC{WallNanos: now.Add(24 * time.Hour).UnixNano(), Logical: 9}
	c.Observe(far)
	require.Positive(t, c.Now().HLC.Compare(far))
}

func TestParseID(t *testing.T) {
	id, err := ParseID("B-wing/42")
	require.NoError(t, err)
	assert.Equal(t, ID{Wing: "B-wing", Seq: 42}, id)
	for _, bad := range []string{"", "A", "A/", "/4", "A/0", "A/-1", "A/x"} {
		_, err := ParseID(bad)
		assert.Error(t, err, bad)
	}
}

func TestDraftCheck(t *testing.T) {
	require.NoError(t, Draft{Kind: DoorOpened, Subject: "A1-01", Actor: SystemActor}.Check())
	require.Error(t, Draft{Kind: "door.melted", Subject: "A1-01", Actor: SystemActor}.Check())
	many := map[string]string{}
	for i := range MaxDataFields + 1 {
		many[string(rune('a'+i))] = "x"
	}
	require.Error(t, Draft{Kind: DoorOpened, Subject: "A1-01", Actor: SystemActor, Data: many}.Check())
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(sample().Marshal())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Unmarshal(b)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to exactly the same bytes.
		if !bytes.Equal(e.Marshal(), b) {
			t.Fatalf("decoded %x but it encodes as %x", b, e.Marshal())
		}
	})
}

func TestCheckText(t *testing.T) {
	for _, ok := range []string{"", "cell checked, prisoner well", "élève à l'école — 23 °C", strings.Repeat("x", MaxNote)} {
		assert.NoError(t, CheckText("note", ok), "%q", ok)
	}
	for _, bad := range []string{"a\x00b", "line\nbreak", "tab\there", "evil\u202etxt.exe", "iso\u2066late", "zero\u200bwidth", "\xff\xfe", strings.Repeat("x", MaxNote+1)} {
		err := CheckText("reason", bad)
		assert.ErrorIs(t, err, ErrText, "%q", bad)
		assert.Contains(t, err.Error(), "the reason", "%q", bad)
	}
}

func TestCheckLines(t *testing.T) {
	for _, ok := range []string{"", "A1-01 on a plan\nwatch the gate", strings.Repeat("x\n", 50)} {
		assert.NoError(t, CheckLines("notes", ok, 100), "%q", ok)
	}
	for _, bad := range []string{"a\x00b", "line\r\nbreak", "tab\there", "evil\u202etxt.exe", "zero\u200bwidth", "\xff\xfe", strings.Repeat("x", 101)} {
		err := CheckLines("notes", bad, 100)
		assert.ErrorIs(t, err, ErrText, "%q", bad)
		assert.Contains(t, err.Error(), "the notes", "%q", bad)
	}
}
