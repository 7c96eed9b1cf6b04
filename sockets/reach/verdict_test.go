package reach

import (
	"net/netip"
	"testing"
)

func TestAtPicksFamilyAndAddress(t *testing.T) {
	v4 := Verdict{Kind: Open, ByAddress: []AddrVerdict{
		{Addr: netip.MustParseAddr("10.0.0.5"), Verdict: Verdict{Kind: Open}},
		{Addr: netip.MustParseAddr("192.0.2.7"), Verdict: Verdict{Kind: Filtered}},
	}}
	v := Verdict{Kind: Open, ByFamily: []Verdict{v4, {Kind: Closed}}}
	for addr, want := range map[string]Kind{"10.0.0.5": Open, "192.0.2.7": Filtered, "::ffff:192.0.2.7": Filtered, "fd00::1": Closed, "10.0.0.9": Open} {
		if got := v.At(netip.MustParseAddr(addr)).Kind; got != want {
			t.Errorf("At(%s): %s, want %s", addr, got, want)
		}
	}
}

// TestFromExceptions: a refused port is closed to most sources and filtered for some (ufw's
// "deny from 10.200.0.3" before its "reject 8081/tcp"), or accepted from some, rejected from
// most and dropped from others: From says which.
func TestFromExceptions(t *testing.T) {
	ex := []Exception{{Sources: []netip.Prefix{netip.MustParsePrefix("10.200.0.3/32")}, Kind: Filtered}}
	closed := Verdict{Kind: Closed, Exceptions: ex}
	restricted := Verdict{Kind: Restricted, Sources: []netip.Prefix{netip.MustParsePrefix("10.200.0.2/32")}, Others: Closed, Exceptions: ex}
	for _, c := range []struct {
		v    Verdict
		src  string
		want Kind
	}{
		{closed, "10.200.0.2", Closed}, {closed, "10.200.0.3", Filtered}, {closed, "fd00::2", Closed},
		{restricted, "10.200.0.2", Open}, {restricted, "10.200.0.3", Filtered}, {restricted, "10.200.0.4", Closed},
	} {
		if got := c.v.From(netip.MustParseAddr(c.src)); got != c.want {
			t.Errorf("%+v from %s: %s, want %s", c.v, c.src, got, c.want)
		}
	}
}
