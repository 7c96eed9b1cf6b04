//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
)

// Whole rule sets as real frontends write them, loaded into a lab namespace and probed: every
// listener's verdict must say what the kernel did, and none may be unknown. ufw itself is not run
// here (it writes the host's firewall and /etc); testdata/frontends holds what ufw 0.36 loads, in
// iptables-save form, loaded with iptables-nft-restore inside the namespace.

// frontendPorts are the listeners of the frontend tests.
var frontendTCP = []uint16{22, 80, 443, 3306, 5432, 8080, 8081}
var frontendUDP = []uint16{53, 5060}

func frontendListeners() []string {
	var out []string
	for _, p := range frontendTCP {
		out = append(out, "tcp:"+itoa(p))
	}
	for _, p := range frontendUDP {
		out = append(out, "udp:"+itoa(p))
	}
	return out
}

func frontendProbes() []probe {
	var ps []probe
	for _, src := range []string{cliAddr4, cli2Addr4, cliAddr6} {
		for _, p := range frontendTCP {
			ps = append(ps, probe{"tcp", src, p})
		}
		for _, p := range frontendUDP {
			ps = append(ps, probe{"udp", src, p})
		}
	}
	return ps
}

// restore loads an iptables-save file into the lab's server namespace.
func (l *lab) restore(tool, file string) {
	l.tb.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		l.tb.Fatal(err)
	}
	run(l.tb, string(b), "ip", "netns", "exec", l.srv, tool)
}

// TestUfw: ufw's rules (limit, multiport, addrtype, rt, recent, icmp, comment, REJECT kinds).
func TestUfw(t *testing.T) {
	needLab(t, "iptables-nft-restore", "ip6tables-nft-restore")
	l := newLab(t, "ufw", frontendListeners()...)
	l.restore("iptables-nft-restore", "testdata/frontends/ufw4.rules")
	l.restore("ip6tables-nft-restore", "testdata/frontends/ufw6.rules")
	l.read(l.probeAll(frontendProbes()))
}

// agreesWithKernel checks every probe against its listener's verdict (the wildcard listener's and
// the one on the server's own address of the probe's family), and that none is unknown.
func agreesWithKernel(t *testing.T, rs *Ruleset, seen map[probe]string, want int) {
	t.Helper()
	if len(seen) != want {
		t.Errorf("%d probes, want %d", len(seen), want)
	}
	for p, kernel := range seen {
		src := netip.MustParseAddr(p.src)
		own := netip.MustParseAddr(srvAddr4)
		if src.Is6() {
			own = netip.MustParseAddr(srvAddr6)
		}
		for _, listen := range []netip.Addr{wildcard, own} {
			v := rs.Evaluate(p.proto, listen, p.port)
			if got := string(v.At(own).From(src)); got != kernel {
				t.Errorf("%s %d on %s from %s: kernel %s, verdict %s (%+v)", p.proto, p.port, listen, p.src, kernel, got, v)
			}
		}
	}
}

func checkUfw(t *testing.T, rs *Ruleset, seen map[probe]string) {
	// the kernel first: ufw's rules must show what the test is about
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr6, 22}: "open", {"tcp", cliAddr4, 443}: "open",
		{"tcp", cliAddr4, 3306}: "filtered", {"tcp", cliAddr4, 5432}: "open", {"tcp", cli2Addr4, 5432}: "filtered",
		{"tcp", cliAddr4, 8081}: "closed", {"udp", cliAddr4, 53}: "open", {"udp", cliAddr6, 5060}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernel(t, rs, seen, 27)
	v := rs.Evaluate("tcp", wildcard, 22)
	if v.Kind != Open || !strings.Contains(v.Note, "rate-limited") || !strings.Contains(v.Note, "recent") {
		t.Errorf("ufw limit 22/tcp: %+v, want open, rate-limited", v)
	}
	if v := rs.Evaluate("udp", wildcard, 5060); v.Kind != Filtered || v.Rule != "chain ip filter INPUT: policy drop" {
		t.Errorf("udp 5060: %+v, want the default deny (INPUT's policy)", v)
	}
	if v := rs.Evaluate("tcp", wildcard, 80); v.Kind != Open || strings.Contains(v.Note, "rate-limited") {
		t.Errorf("ufw allow 80,443/tcp: %+v", v)
	}
	// the deciding rule as ufw's user writes it
	for _, c := range []struct {
		proto  string
		port   uint16
		source string
	}{
		{"tcp", 22, "ufw limit 22/tcp"}, {"tcp", 80, "ufw allow 80,443/tcp"}, {"tcp", 3306, "ufw default deny incoming"},
		{"tcp", 5432, "ufw allow from 10.200.0.2 to any port 5432 proto tcp"}, {"tcp", 8080, "ufw deny 8080/tcp"},
		{"tcp", 8081, "ufw reject 8081/tcp"}, {"udp", 53, "ufw allow dns"}, // the profile its comment names
	} {
		v := rs.Evaluate(c.proto, netip.MustParseAddr(srvAddr4), c.port)
		if v.Frontend != "ufw" || v.Source != c.source {
			t.Errorf("%s %d: frontend %q, source %q, want ufw, %q (%s)", c.proto, c.port, v.Frontend, v.Source, c.source, v.Rule)
		}
	}
}

// adminXtRules are an admin's iptables rules with the matches frontends and admins write.
const adminXtRules = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:svc - [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -m state --state INVALID -j DROP
-A INPUT -p tcp -m tcp ! --syn -j DROP
-A INPUT -m addrtype ! --dst-type LOCAL -j DROP
-A INPUT -m addrtype --src-type BROADCAST -j DROP
-A INPUT -m mark --mark 0x1/0x1 -j ACCEPT
-A INPUT -m connmark --mark 0x4000/0x4000 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 8000:8002,8010 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 8020 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8030 -m iprange --src-range 10.200.0.2-10.200.0.2 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8031 -m iprange --dst-range 10.200.0.1-10.200.0.1 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8032 -m iprange --dst-range 192.0.2.1-192.0.2.9 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8040 -m hashlimit --hashlimit-upto 5/min --hashlimit-mode srcip --hashlimit-name h -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8041 -m recent --rcheck --seconds 60 --name knock -j ACCEPT
-A INPUT -p tcp -m tcp --dport 8050 -j REJECT --reject-with icmp-host-prohibited
-A INPUT -p tcp -m tcp --dport 8051 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p udp -m udp --dport 9050 -j REJECT --reject-with icmp-admin-prohibited
-A INPUT -p udp -m udp --dport 9051 -j REJECT
-A INPUT -p tcp -m tcp --dport 8060 -j svc
-A INPUT -p tcp -m tcp --dport 8070 -m statistic --mode random --probability 0.5 -j ACCEPT
-A svc -s 10.200.0.3/32 -j RETURN
-A svc -j LOG --log-prefix "svc "
-A svc -j ACCEPT
COMMIT
`

var adminTCP = []uint16{8000, 8001, 8002, 8003, 8010, 8020, 8030, 8031, 8032, 8040, 8041, 8050, 8051, 8060}
var adminUDP = []uint16{9050, 9051}

// TestXtMatches: each xt match and target of adminXtRules against the kernel.
func TestXtMatches(t *testing.T) {
	needLab(t, "iptables-nft-restore")
	var listen []string
	for _, p := range adminTCP {
		listen = append(listen, "tcp:"+itoa(p))
	}
	for _, p := range adminUDP {
		listen = append(listen, "udp:"+itoa(p))
	}
	l := newLab(t, "xtmatch", append(listen, "tcp:8070")...)
	run(t, adminXtRules, "ip", "netns", "exec", l.srv, "iptables-nft-restore")
	var ps []probe
	for _, src := range []string{cliAddr4, cli2Addr4} {
		for _, p := range adminTCP {
			ps = append(ps, probe{"tcp", src, p})
		}
		for _, p := range adminUDP {
			ps = append(ps, probe{"udp", src, p})
		}
	}
	l.read(l.probeAll(ps))
}

func checkXtMatches(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 8001}: "open", {"tcp", cliAddr4, 8003}: "filtered", {"tcp", cliAddr4, 8030}: "open",
		{"tcp", cli2Addr4, 8030}: "filtered", {"tcp", cliAddr4, 8032}: "filtered", {"tcp", cliAddr4, 8050}: "filtered",
		{"tcp", cliAddr4, 8051}: "closed", {"udp", cliAddr4, 9050}: "filtered", {"udp", cliAddr4, 9051}: "closed",
		{"tcp", cliAddr4, 8060}: "open", {"tcp", cli2Addr4, 8060}: "filtered", {"tcp", cliAddr4, 8041}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	// a destination range on the machine's address (8031) and on addresses not its own (8032):
	// decided for a wildcard listener once the evaluator knows the machine's addresses
	if v := rs.Evaluate("tcp", netip.IPv4Unspecified(), 8032); v.Kind != Unknown {
		t.Errorf("8032 on 0.0.0.0 before the addresses are known: %+v, want unknown", v)
	}
	rs.SetLocal([]netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr(srvAddr6)})
	if v := rs.Evaluate("tcp", netip.IPv4Unspecified(), 8032); v.Kind != Filtered {
		t.Errorf("8032 on 0.0.0.0, the range not the machine's: %+v, want filtered", v)
	}
	if len(seen) != 32 {
		t.Errorf("%d probes, want 32", len(seen))
	}
	for p, kernel := range seen {
		for _, listen := range []netip.Addr{netip.IPv4Unspecified(), netip.MustParseAddr(srvAddr4)} {
			v := rs.Evaluate(p.proto, listen, p.port).At(netip.MustParseAddr(srvAddr4))
			if got := string(v.From(netip.MustParseAddr(p.src))); got != kernel {
				t.Errorf("%s %d on %s from %s: kernel %s, verdict %s (%+v)", p.proto, p.port, listen, p.src, kernel, got, v)
			}
		}
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8040); v.Kind != Open || !strings.Contains(v.Note, "rate-limited") {
		t.Errorf("hashlimit: %+v, want open, rate-limited", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8070); v.Kind != Unknown || !strings.Contains(v.Reason, `xt match "statistic"`) {
		t.Errorf("statistic: %+v, want unknown naming it", v)
	}
}

var firewalldTCP = []uint16{22, 80, 3306, 5432, 8080}
var firewalldUDP = []uint16{546, 5060}

// TestFirewalld: firewalld's table (zones, services, rich rules, the IPv6 reverse-path fib rule).
func TestFirewalld(t *testing.T) {
	var listen []string
	var ps []probe
	for _, p := range firewalldTCP {
		listen = append(listen, "tcp:"+itoa(p))
	}
	for _, p := range firewalldUDP {
		listen = append(listen, "udp:"+itoa(p))
	}
	l := newLab(t, "firewalld", listen...)
	b, err := os.ReadFile("testdata/frontends/firewalld.nft")
	if err != nil {
		t.Fatal(err)
	}
	l.nft(string(b))
	// a link-local address of its own that the test knows (the kernel's comes from a random MAC)
	run(t, "", "ip", "-n", l.srv, "addr", "flush", "dev", "veth0", "scope", "link")
	run(t, "", "ip", "-n", l.srv, "addr", "add", "fe80::1/64", "dev", "veth0", "nodad")
	if got, err := LocalAddrs(l.pid); err != nil || fmt.Sprint(got) != fmt.Sprint(firewalldLocal) {
		t.Errorf("LocalAddrs: %v %v, want %v", got, err, firewalldLocal)
	}
	for _, src := range []string{cliAddr4, cli2Addr4, cliAddr6} {
		for _, p := range firewalldTCP {
			ps = append(ps, probe{"tcp", src, p})
		}
		for _, p := range firewalldUDP {
			ps = append(ps, probe{"udp", src, p})
		}
	}
	l.read(l.probeAll(ps))
}

// firewalldLocal are the lab server's addresses in TestFirewalld (its link-local one made fixed).
var firewalldLocal = []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr(srvAddr6), netip.MustParseAddr("fe80::1")}

func checkFirewalld(t *testing.T, rs *Ruleset, seen map[probe]string) {
	rs.SetLocal(firewalldLocal)
	for p, want := range map[probe]string{
		{"tcp", cliAddr6, 22}: "open", {"tcp", cliAddr4, 3306}: "filtered", {"tcp", cliAddr4, 5432}: "open",
		{"tcp", cli2Addr4, 5432}: "filtered", {"tcp", cli2Addr4, 8080}: "closed", {"tcp", cliAddr6, 8080}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	agreesWithKernel(t, rs, seen, 21)
	v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr6), 22)
	if v.Kind != Open || !strings.Contains(v.Note, "route back") {
		t.Errorf("IPv6 22 past the fib rule: %+v, want open with the assumption noted", v)
	}
	if v := rs.Evaluate("tcp", wildcard, 80); v.Kind != Open || !strings.Contains(v.Note, "rate-limited") {
		t.Errorf("http with a limit: %+v", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 22); v.Frontend != "firewalld" || v.Source != "firewalld zone public" {
		t.Errorf("22: frontend %q, source %q", v.Frontend, v.Source)
	}
	// dhcpv6-client: accepted to the link-local address only
	v = rs.Evaluate("udp", wildcard, 546)
	if v.At(netip.MustParseAddr("fe80::1")).Kind != Open || v.At(netip.MustParseAddr(srvAddr6)).Kind != Filtered ||
		v.At(netip.MustParseAddr(srvAddr4)).Kind != Filtered || !strings.Contains(v.Note, "filtered on fd00:200::1") {
		t.Errorf("udp 546 on a wildcard: %+v, want open on fe80::1 only", v)
	}
}
