//go:build linux

package firewall

import (
	"net/netip"
	"os/exec"
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

// TestNoForwardIPv6: a port published over IPv6 (an ip6 DNAT to a namespace behind the host) is
// dropped without an answer while the host's IPv6 forwarding is off, read through the
// namespace's process, and reachable once it is on.
func TestNoForwardIPv6(t *testing.T) {
	l := newLab(t, "nofwd6", "tcp:22")
	ctr := l.srv[:len(l.srv)-2] + "-k"
	_ = exec.Command("ip", "netns", "del", ctr).Run()
	run(t, "", "ip", "netns", "add", ctr)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ctr).Run() })
	run(t, "", "ip", "-n", l.srv, "link", "add", "vethk", "type", "veth", "peer", "name", "eth0", "netns", ctr)
	run(t, "", "ip", "-n", l.srv, "addr", "add", "fd00:17::1/64", "dev", "vethk", "nodad")
	run(t, "", "ip", "-n", ctr, "addr", "add", "fd00:17::2/64", "dev", "eth0", "nodad")
	for _, ns := range [][]string{{l.srv, "vethk"}, {ctr, "eth0"}, {ctr, "lo"}} {
		run(t, "", "ip", "-n", ns[0], "link", "set", ns[1], "up")
	}
	run(t, "", "ip", "-n", ctr, "-6", "route", "add", "default", "via", "fd00:17::1")
	startListeners(t, ctr, "tcp:80")
	l.nft(`table ip6 nat {
	chain pre {
		type nat hook prerouting priority dstnat;
		tcp dport 8080 dnat to [fd00:17::2]:80
	}
}`)
	ps := []probe{{"tcp", cliAddr6, 8080}, {"tcp", cliAddr6, 22}}
	if got := ReadForwarding(l.pid).V6; got != ForwardOff {
		t.Errorf("IPv6 forwarding of a new namespace: %d, want off", got)
	}
	l.read(l.probeAll(ps))
	l.exec("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1")
	if got := ReadForwarding(l.pid).V6; got != ForwardOn {
		t.Errorf("IPv6 forwarding on: read %d", got)
	}
	l.read(l.probeAll(ps))
}

var noForward6Local = []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr(srvAddr6), netip.MustParseAddr("fd00:17::1")}
var noForward6Routes = []Route{{Prefix: netip.MustParsePrefix("fd00:200::/64"), Dev: "veth0"}, {Prefix: netip.MustParsePrefix("fd00:17::/64"), Dev: "vethk"}}

func checkNoForward6(forwarding ForwardState, kernel string) stepCheck {
	return func(t *testing.T, rs *Ruleset, seen map[probe]string) {
		if got := seen[probe{"tcp", cliAddr6, 8080}]; got != kernel {
			t.Errorf("kernel: 8080 over IPv6 %s, the lab expects %s", got, kernel)
		}
		rs.SetLocal(noForward6Local)
		rs.SetRoutes(noForward6Routes)
		rs.SetForwarding(Forwarding{ForwardOff, forwarding})
		var e *Published
		for _, p := range rs.Published() {
			if p.HostPort == 8080 && p.To.Addr().Is6() {
				e = &p
			}
		}
		if e == nil {
			t.Fatalf("8080 not published over IPv6: %+v", rs.Published())
		}
		if got := string(e.Verdict.From(netip.MustParseAddr(cliAddr6))); got != kernel {
			t.Errorf("published [%s]:8080 -> %s: kernel %s, verdict %s (%+v)", e.Host, e.To, kernel, got, e.Verdict)
		}
		if forwarding == ForwardOff && !strings.Contains(e.Verdict.Note, "net.ipv6.conf.all.forwarding = 0") {
			t.Errorf("the note does not say why: %q", e.Verdict.Note)
		}
	}
}
