//go:build linux

package main

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets/reach"
)

// TestJSONFirewallExceptions: the sources refused otherwise than the rest are in the JSON, with
// their rule (a ufw "deny from" before the reject the others meet).
func TestJSONFirewallExceptions(t *testing.T) {
	v := reach.Verdict{Kind: reach.Closed, Rule: "chain ip filter ufw-user-input: tcp dport 8081 reject",
		Exceptions: []reach.Exception{{Sources: []netip.Prefix{netip.MustParsePrefix("10.200.0.3/32")}, Kind: reach.Filtered, Rule: "chain ip filter ufw-user-input: ip saddr 10.200.0.3 drop"}}}
	b, err := json.Marshal(toJSONFirewall(v))
	if err != nil {
		t.Fatal(err)
	}
	if want := `"exceptions":[{"sources":["10.200.0.3/32"],"verdict":"filtered","rule":"chain ip filter ufw-user-input: ip saddr 10.200.0.3 drop"}]`; !strings.Contains(string(b), want) {
		t.Errorf("%s\nwant it to hold %s", b, want)
	}
}
