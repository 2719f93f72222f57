package trust

import (
	"errors"
	"strings"
	"testing"
)

func sampleToken(addr string) Token {
	t := Token{Addr: addr}
	for i := range t.CAFingerprint {
		t.CAFingerprint[i] = byte(i)
	}
	for i := range t.secret {
		t.secret[i] = byte(0xA0 + i)
	}
	return t
}

var tokenCases = []struct {
	name string
	in   string
	ok   bool
}{
	{"loopback", sampleToken("127.0.0.1:7000").encode(), true},
	{"name", sampleToken("wing-a.site.local:7443").encode(), true},
	{"ipv6", sampleToken("[fe80::1]:7000").encode(), true},
	{"pasted with spaces", "  " + sampleToken("10.0.0.1:7000").encode() + "\n", true},
	{"wrapped", sampleToken("10.0.0.1:7000").encode()[:40] + "\r\n" + sampleToken("10.0.0.1:7000").encode()[40:], true},
	{"empty", "", false},
	{"no prefix", strings.TrimPrefix(sampleToken("10.0.0.1:7000").encode(), tokenPrefix), false},
	{"cut short", sampleToken("10.0.0.1:7000").encode()[:60], false},
	{"not base64", tokenPrefix + "!!!!", false},
	{"no port", sampleToken("10.0.0.1").encode(), false},
	{"port zero", sampleToken("10.0.0.1:0").encode(), false},
	{"empty host", sampleToken(":7000").encode(), false},
}

func TestParseToken(t *testing.T) {
	for _, tc := range tokenCases {
		got, err := ParseToken(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.name, err)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Errorf("%s: %v does not wrap ErrBadToken", tc.name, err)
			}
			continue
		}
		if got.encode() != compact(tc.in) {
			t.Errorf("%s: does not round-trip", tc.name)
		}
	}
	// One changed character is caught by the check digits or the encoding.
	good := sampleToken("10.0.0.1:7000").encode()
	for i := len(tokenPrefix); i < len(good); i++ {
		b := []byte(good)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := ParseToken(string(b)); err == nil {
			t.Fatalf("accepted a token with character %d changed", i)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, tc := range tokenCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			if strings.Contains(err.Error(), compact(s)) && len(compact(s)) > 8 {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if tok.encode() != compact(s) {
			t.Fatalf("parsed token does not re-encode to its input")
		}
		if err := checkAddr(tok.Addr); err != nil {
			t.Fatalf("accepted address %q: %v", tok.Addr, err)
		}
	})
}

func compact(s string) string { return strings.Join(strings.Fields(s), "") }
