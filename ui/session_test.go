package ui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/stretchr/testify/require"
)

// tab is one browser at a test server: its id cookie and the CSRF token of
// its pages. The zero tab has no cookie at all.
type tab struct {
	cookie string
	token  string
}

// add puts the tab's cookie on req.
func (b tab) add(req *http.Request) {
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: b.cookie})
	}
}

// cookieOf returns the browser id a response sets, or "".
func cookieOf(resp *http.Response) string {
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	return ""
}

// visitor is a signed-out browser that has loaded the sign-in pad.
func visitor(t *testing.T, ts *httptest.Server) tab {
	t.Helper()
	resp, err := http.Get(ts.URL + "/signin")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	require.NoError(t, err)
	b := tab{cookie: cookieOf(resp), token: doc.Find(`meta[name="csrf-token"]`).AttrOr("content", "")}
	require.NotEmpty(t, b.cookie)
	require.NotEmpty(t, b.token)
	return b
}

// signIn signs officer id in with pin through the API, as a program
// would, and returns the signed-in browser.
func signIn(t *testing.T, ts *httptest.Server, id, pin string) tab {
	t.Helper()
	b, err := json.Marshal(apiSignInRequest{Officer: id, PIN: pin})
	require.NoError(t, err)
	resp, err := http.Post(ts.URL+"/api/v1/signin", "application/json", strings.NewReader(string(b)))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "sign in %s", id)
	var got apiSignInResult
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	return tab{cookie: cookieOf(resp), token: got.CSRFToken}
}

// supervisor is a browser with the test supervisor signed in.
func supervisor(t *testing.T, ts *httptest.Server) tab { return signIn(t, ts, testOfficer, "2468") }

// postFormAs posts form to path from browser b, with its CSRF token, as a
// same-origin page would, without following the redirect.
func postFormAs(t *testing.T, ts *httptest.Server, b tab, path string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	form = cloneForm(form)
	if b.token != "" && !form.Has(csrfField) {
		form.Set(csrfField, b.token)
	}
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", ts.URL)
	b.add(req)
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func cloneForm(form url.Values) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// getAs gets path from browser b and returns the response.
func getAs(t *testing.T, ts *httptest.Server, b tab, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	require.NoError(t, err)
	b.add(req)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
