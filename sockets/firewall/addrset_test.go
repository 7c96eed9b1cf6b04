//go:build linux

package firewall

import (
	"net/netip"
	"strings"
	"testing"
)

func TestAddrSet(t *testing.T) {
	p := func(s string) addrSet {
		pf := netip.MustParsePrefix(s)
		return prefixSet(pf.Addr().Is6(), fromAddr(pf.Addr()), pf.Bits())
	}
	cases := []struct {
		got  addrSet
		want string
	}{
		{p("10.0.0.0/8").union(p("11.0.0.0/8")), "10.0.0.0/7"},
		{p("10.0.0.0/8").minus(p("10.0.0.0/9")), "10.128.0.0/9"},
		{p("10.0.0.0/24").minus(p("10.0.0.3/32")), "10.0.0.0/31,10.0.0.2/32,10.0.0.4/30,10.0.0.8/29,10.0.0.16/28,10.0.0.32/27,10.0.0.64/26,10.0.0.128/25"},
		{rangeSet(false, fromAddr(netip.MustParseAddr("10.200.0.0")), fromAddr(netip.MustParseAddr("10.200.0.2"))), "10.200.0.0/31,10.200.0.2/32"},
		{fullSet(false).minus(outsideSources(false)), "127.0.0.0/8"},
		{fullSet(true).minus(outsideSources(true)), "::1/128"},
		{fullSet(true), "::/0"},
		{p("::/0").complement(), ""},
		{p("fd00::/8").intersect(p("fd00:200::/64")), "fd00:200::/64"},
	}
	for i, c := range cases {
		if got := c.got.String(); got != c.want {
			t.Errorf("case %d: %s, want %s", i, got, c.want)
		}
	}
	if s := outsideSources(false); s.contains(fromAddr(netip.MustParseAddr("127.0.0.1"))) || !s.contains(fromAddr(netip.MustParseAddr("8.8.8.8"))) {
		t.Error("outside sources")
	}
}

func TestVerdictFrom(t *testing.T) {
	a := netip.MustParseAddr
	allow := Verdict{Kind: Restricted, Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Others: Filtered}
	if allow.From(a("10.1.2.3")) != Open || allow.From(a("192.0.2.1")) != Filtered || allow.From(a("2001:db8::1")) != Open {
		t.Error("allow list")
	}
	block := Verdict{Kind: Restricted, Except: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, Others: Closed}
	if block.From(a("192.0.2.7")) != Closed || block.From(a("198.51.100.1")) != Open {
		t.Error("block list")
	}
	v4 := Verdict{Kind: Filtered, Rule: "chain ip f input: policy drop"}
	v6 := Verdict{Kind: Open, Rule: "chain ip6 f input: tcp dport 22 accept # handle 2"}
	c := combine(v4, v6)
	if c.Kind != Open || len(c.ByFamily) != 2 || c.From(a("192.0.2.1")) != Filtered || c.From(a("2001:db8::1")) != Open ||
		!strings.Contains(c.Note, "IPv4: filtered (chain ip f input: policy drop)") {
		t.Errorf("dual stack: %+v", c)
	}
	if c := combine(v4, v4); c.Kind != Filtered || c.ByFamily != nil {
		t.Errorf("same verdicts: %+v", c)
	}
}
