package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type readRequest struct {
	Minutes int      `json:"minutes"`
	Note    string   `json:"note"`
	Points  []string `json:"points"`
}

var readCases = []struct {
	name     string
	body     string
	b        Body
	status   int    // 0: read
	sentence string // what the refusal says
	want     readRequest
}{
	{name: "object", body: `{"minutes": 1, "note": "ok"}`, want: readRequest{Minutes: 1, Note: "ok"}},
	{name: "white space after", body: "{\"minutes\": 1}\n\t \r\n", want: readRequest{Minutes: 1}},
	{name: "empty refused", body: "", status: 400, sentence: "body: empty"},
	{name: "empty optional", body: " \n", b: Body{Optional: true}},
	{name: "trailing object", body: `{"minutes": 1}{"minutes": 30}`, status: 400, sentence: "body: more follows the JSON value"},
	{name: "trailing garbage", body: `{"minutes": 1} x`, status: 400, sentence: "body: more follows"},
	{name: "trailing brace", body: `{"minutes": 1}}`, status: 400, sentence: "body: more follows"},
	{name: "trailing optional", body: `{} []`, b: Body{Optional: true}, status: 400, sentence: "body: more follows"},
	{name: "unknown field", body: `{"minutes": 1, "officer": "forged"}`, status: 400, sentence: "officer: not a field of this request"},
	{name: "unknown field lenient", body: `{"minutes": 1, "officer": "forged"}`, b: Body{Lenient: true}, want: readRequest{Minutes: 1}},
	{name: "not JSON", body: `minutes=1`, status: 400, sentence: "body: not JSON"},
	{name: "cut short", body: `{"minutes": 1`, status: 400, sentence: "body: the JSON ends before it is complete"},
	{name: "wrong type", body: `{"minutes": "1"}`, status: 400, sentence: "minutes: a JSON string where a whole number is expected"},
	{name: "wrong top type", body: `[1]`, status: 400, sentence: "body: a JSON array where an object is expected"},
	{name: "too large", body: `{"note": "` + strings.Repeat("x", 100) + `"}`, b: Body{Limit: 64}, status: 413, sentence: "body: larger than 64 bytes"},
	{name: "too large after the value", body: `{"minutes": 1}` + strings.Repeat(" ", 100), b: Body{Limit: 64}, status: 413, sentence: "body: larger than 64 bytes"},
	{name: "too large by default", body: `{"note": "` + strings.Repeat("x", DefaultLimit) + `"}`, status: 413, sentence: "body: larger than 8 KiB"},
	{name: "at the limit", body: `{"minutes": 1}` + strings.Repeat(" ", 50), b: Body{Limit: 64}, want: readRequest{Minutes: 1}},
}

func TestReadJSON(t *testing.T) {
	for _, c := range readCases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(c.body))
			var got readRequest
			err := ReadJSON(rec, r, &got, c.b)
			if c.status == 0 {
				require.NoError(t, err)
				assert.Equal(t, c.want, got)
				return
			}
			var be *BodyError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, c.status, be.Status)
			assert.Contains(t, be.Sentence, c.sentence)
			RefuseBody(rec, err, "Send {\"minutes\": 1}.")
			assert.Equal(t, c.status, rec.Code)
			assert.Contains(t, rec.Body.String(), `{"error":"`+strings.ReplaceAll(c.sentence, `"`, `\"`))
			assert.Contains(t, rec.Body.String(), `. Send {\"minutes\": 1}."}`)
		})
	}
	var be *BodyError
	err := ReadJSON(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{} 1")), &readRequest{}, Body{})
	require.ErrorAs(t, err, &be)
	assert.True(t, errors.Is(err, ErrTrailingData))
}

// FuzzReadJSON: whatever the body, ReadJSON decodes it or refuses it with
// 400 or 413 and a sentence, and never reads past its limit.
func FuzzReadJSON(f *testing.F) {
	for _, c := range readCases {
		f.Add(c.body, c.b.Limit, c.b.Optional, c.b.Lenient)
	}
	f.Fuzz(func(t *testing.T, body string, limit int64, optional, lenient bool) {
		limit %= 16 << 10
		if limit < 0 {
			limit = -limit
		}
		limit++
		src := &countingReader{r: strings.NewReader(body)}
		r := httptest.NewRequest(http.MethodPost, "/", src)
		var v readRequest
		err := ReadJSON(httptest.NewRecorder(), r, &v, Body{Limit: limit, Optional: optional, Lenient: lenient})
		if src.n > limit+1 {
			t.Fatalf("read %d bytes past a limit of %d", src.n, limit)
		}
		if err == nil {
			if int64(len(body)) > limit {
				t.Fatalf("a body of %d bytes read under a limit of %d", len(body), limit)
			}
			return
		}
		var be *BodyError
		if !errors.As(err, &be) || (be.Status != 400 && be.Status != 413) || be.Sentence == "" {
			t.Fatalf("refusal %#v", err)
		}
	})
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
