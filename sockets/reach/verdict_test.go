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
