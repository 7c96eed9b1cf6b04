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

// Equal sees every part of a verdict's evidence, down to one address's
// verdict of one family: a listener whose firewall answer changed there is
// judged again.
func TestEqualSeesEveryField(t *testing.T) {
	mk := func() Verdict {
		v4 := Verdict{Kind: Open, ByAddress: []AddrVerdict{
			{Addr: netip.MustParseAddr("10.0.0.5"), Verdict: Verdict{Kind: Open, Rule: "r1"}},
			{Addr: netip.MustParseAddr("192.0.2.7"), Verdict: Verdict{Kind: Filtered}},
		}}
		return Verdict{Kind: Restricted, Rule: "chain inet filter input: ip saddr 10.0.0.0/8 accept # handle 4",
			Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, Others: Filtered, Frontend: "ufw", Source: "ufw allow",
			Note: "n", Exceptions: []Exception{{Sources: []netip.Prefix{netip.MustParsePrefix("10.9.9.9/32")}, Kind: Closed, Rule: "r3"}},
			ByFamily: []Verdict{v4, {Kind: Closed, Except: []netip.Prefix{netip.MustParsePrefix("fd00::/8")}}}}
	}
	a, b := mk(), mk()
	if !a.Equal(&b) {
		t.Fatal("two verdicts made alike are not Equal")
	}
	changes := map[string]func(*Verdict){
		"kind":        func(v *Verdict) { v.Kind = Open },
		"rule":        func(v *Verdict) { v.Rule += "x" },
		"sources":     func(v *Verdict) { v.Sources = nil },
		"others":      func(v *Verdict) { v.Others = Closed },
		"reason":      func(v *Verdict) { v.Reason = "r" },
		"frontend":    func(v *Verdict) { v.Frontend = "" },
		"source":      func(v *Verdict) { v.Source = "" },
		"note":        func(v *Verdict) { v.Note = "" },
		"except":      func(v *Verdict) { v.ByFamily[1].Except = nil },
		"by family":   func(v *Verdict) { v.ByFamily = v.ByFamily[:1] },
		"by address":  func(v *Verdict) { v.ByFamily[0].ByAddress[1].Kind = Closed },
		"its address": func(v *Verdict) { v.ByFamily[0].ByAddress[0].Addr = netip.MustParseAddr("10.0.0.6") },
		"nested rule": func(v *Verdict) { v.ByFamily[0].ByAddress[0].Rule = "r2" },
		"exceptions":  func(v *Verdict) { v.Exceptions = nil },
		"exception":   func(v *Verdict) { v.Exceptions[0].Kind = Filtered },
		"its rule":    func(v *Verdict) { v.Exceptions[0].Rule = "r4" },
		"its sources": func(v *Verdict) { v.Exceptions[0].Sources = nil },
	}
	for name, change := range changes {
		c := mk()
		change(&c)
		if a.Equal(&c) || c.Equal(&a) {
			t.Errorf("a verdict whose %s changed is still Equal", name)
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
