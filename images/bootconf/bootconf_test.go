package bootconf

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

func TestParseRoundTrip(t *testing.T) {
	want := Config{
		Network: []Interface{{Name: "eth0", Address: netip.MustParsePrefix("10.0.2.15/24"), Gateway: netip.MustParseAddr("10.0.2.2")}},
		Command: []string{"/usr/bin/wingnode", "run"},
	}
	data, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse(%s): %v", data, err)
	}
	if got.Network[0] != want.Network[0] || strings.Join(got.Command, " ") != "/usr/bin/wingnode run" {
		t.Errorf("Parse(%s) = %+v, want %+v", data, got, want)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{`, "unexpected end"},
		{`{"command":[]}`, "absolute path"},
		{`{"command":["wingnode"]}`, "absolute path"},
		{`{"command":["/w"],"network":[{"address":"10.0.2.15/24"}]}`, "no interface name"},
		{`{"command":["/w"],"network":[{"name":"eth0","address":"10.0.2.15"}]}`, "netip.ParsePrefix"},
		{`{"command":["/w"],"network":[{"name":"eth0"}]}`, "must be IPv4"},
		{`{"command":["/w"],"network":[{"name":"eth0","address":"fd00::1/64"}]}`, "must be IPv4"},
		{`{"command":["/w"],"network":[{"name":"eth0","address":"10.0.2.15/24","gateway":"10.0.3.2"}]}`, "outside 10.0.2.0/24"},
		{`{"command":["/w"],"watchdog":{"device":"/dev/watchdog","timeout_s":10}}`, "needs a health check"},
		{`{"command":["/w"],"health":"http://127.0.0.1/healthz","watchdog":{"device":"/dev/watchdog","timeout_s":0}}`, "use 1 to 600"},
		{`{"command":["/w"],"health":"http://127.0.0.1/healthz","watchdog":{"device":"watchdog","timeout_s":5}}`, "absolute path"},
		{`{"command":["/w"],"start_grace_s":-1}`, "negative"},
	} {
		if _, err := Parse([]byte(tc.json)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", tc.json, err, tc.want)
		}
	}
}
