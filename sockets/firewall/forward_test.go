//go:build linux

package firewall

import (
	"net/netip"
	"strings"
	"testing"
)

// TestNoForward: Docker 28's rules on a host that does not forward. The kernel drops a probe of a
// published port without an answer (filtered), though the forward chains admit it; the verdict
// says so only when it knows the host's forwarding, which ReadForwarding reads from the namespace.
func TestNoForward(t *testing.T) {
	l, _ := dockerLab(t, "nofwd", "0", docker28Rules)
	if got := ReadForwarding(l.pid); got != (Forwarding{ForwardOff, ForwardOff}) {
		t.Errorf("a namespace that forwards nothing: %+v", got)
	}
	l.exec("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	if got := ReadForwarding(l.pid); got != (Forwarding{ForwardOff, ForwardOn}) {
		t.Errorf("IPv6 forwarding on, IPv4 off: %+v (read through the namespace's process)", got)
	}
	if got := ReadForwarding(0); got.V4 == ForwardUnknown || got.V6 == ForwardUnknown {
		t.Errorf("our own namespace's forwarding not read: %+v", got)
	}
	seen := l.probeAll([]probe{{"tcp", cliAddr4, 22}, {"tcp", cliAddr4, 8080}, {"tcp", cliAddr4, 8081}, {"tcp", cli2Addr4, 8080}})
	l.read(seen)
}

func checkNoForward(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr4, 8080}: "filtered", {"tcp", cliAddr4, 8081}: "filtered",
		{"tcp", cli2Addr4, 8080}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	rs.SetLocal(dockerLocal)
	rs.SetRoutes(dockerRoutes)
	byPort := func() map[uint16]Published {
		m := map[uint16]Published{}
		for _, p := range rs.Published() {
			m[p.HostPort] = p
		}
		return m
	}
	if e := byPort()[8080]; e.Verdict.From(netip.MustParseAddr(cliAddr4)) != Open {
		t.Errorf("forwarding not known: the rules alone admit 8080 from %s: %+v", cliAddr4, e.Verdict)
	}
	rs.SetForwarding(Forwarding{ForwardOff, ForwardOff})
	pub := byPort()
	for p, kernel := range seen {
		if p.port == 22 {
			continue
		}
		e, ok := pub[p.port]
		if !ok {
			t.Errorf("%d not published", p.port)
			continue
		}
		if got := string(e.Verdict.From(netip.MustParseAddr(p.src))); got != kernel {
			t.Errorf("published %d from %s: kernel %s, verdict %s (%+v)", p.port, p.src, kernel, got, e.Verdict)
		}
		if !strings.Contains(e.Verdict.Note, "net.ipv4.ip_forward = 0") || !strings.Contains(e.Verdict.Note, "without an answer") {
			t.Errorf("published %d: the note does not say why: %q", p.port, e.Verdict.Note)
		}
	}
	if v := rs.Evaluate("tcp", wildcard, 22); v.At(netip.MustParseAddr(srvAddr4)).Kind != Open {
		t.Errorf("the host's own listener does not need forwarding: %+v", v)
	}
	rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
	if e := byPort()[8080]; e.Verdict.From(netip.MustParseAddr(cliAddr4)) != Open {
		t.Errorf("IPv4 forwarding on: 8080 %+v", e.Verdict)
	}
}

// TestParseForwarding: the snmp table and the sysctl are hostile text; anything but the kernel's
// own form is unknown, never a guess.
func TestParseForwarding(t *testing.T) {
	for in, want := range map[string]ForwardState{
		"Ip: Forwarding DefaultTTL\nIp: 1 64\n":                        ForwardOn,
		"Ip: Forwarding DefaultTTL\nIp: 2 64\nIcmp: InMsgs\nIcmp: 3\n": ForwardOff,
		"Ip: DefaultTTL Forwarding\nIp: 64 2\n":                        ForwardOff,
		"Ip: Forwarding\nIp: 7\n":                                      ForwardUnknown,
		"Ip: Forwarding DefaultTTL\n":                                  ForwardUnknown,
		"Ip: Forwarding DefaultTTL\nIp:\n":                             ForwardUnknown,
		"\x00\xff garbage":                                             ForwardUnknown,
		"":                                                             ForwardUnknown,
	} {
		if got := parseSnmpForwarding([]byte(in)); got != want {
			t.Errorf("%q: %d, want %d", in, got, want)
		}
	}
	for in, want := range map[string]ForwardState{"0\n": ForwardOff, "1\n": ForwardOn, "2": ForwardOn, "": ForwardUnknown, "x": ForwardUnknown} {
		if got := parseSysctlBool([]byte(in)); got != want {
			t.Errorf("sysctl %q: %d, want %d", in, got, want)
		}
	}
}
