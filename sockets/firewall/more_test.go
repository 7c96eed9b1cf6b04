//go:build linux

package firewall

import (
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// A second ruleset: the other matches the evaluator decides, against the kernel again.
const moreRules = `
table ip pwfw4 {
	set svc {
		type ipv4_addr . inet_service
		elements = { 10.200.0.2 . 8084, 10.200.0.3 . 8085 }
	}
	set range {
		type ipv4_addr
		flags interval
		elements = { 10.200.0.0-10.200.0.2 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state vmap { established : accept, related : accept, invalid : drop }
		meta l4proto { tcp, udp } th dport 8053 accept
		iifname != "lo" tcp dport 8080 accept
		ct state new tcp dport 8081 log prefix "new " accept
		tcp dport 8082 limit rate 1000/second accept
		ip saddr . tcp dport @svc accept
		ip saddr @range tcp dport 8086 accept
		ip daddr 10.200.0.1 tcp dport 8087 accept
		tcp dport { 8088, 8089 } goto tail
		udp dport 9090 ct state new accept
	}
	chain tail {
		tcp dport 8088 accept
		reject with icmp type admin-prohibited
	}
}
`

func TestMoreAgainstKernel(t *testing.T) {
	ports := []uint16{8053, 8080, 8081, 8082, 8084, 8085, 8086, 8087, 8088, 8089}
	var listen []string
	for _, p := range ports {
		listen = append(listen, "tcp:"+itoa(p))
	}
	listen = append(listen, "udp:8053", "udp:9090")
	l := newLab(t, "more", listen...)
	l.nft(moreRules)
	var probes []probe
	for _, src := range []string{cliAddr4, cli2Addr4} {
		for _, p := range ports {
			probes = append(probes, probe{"tcp", src, p})
		}
		probes = append(probes, probe{"udp", src, 8053}, probe{"udp", src, 9090})
	}
	l.read(l.probeAll(probes))
}

func checkMoreAgainstKernel(t *testing.T, rs *Ruleset, seen map[probe]string) {
	if len(seen) != 24 {
		t.Errorf("%d probes, want 24", len(seen))
	}
	for p := range seen {
		want := seen[p]
		v := rs.Evaluate(p.proto, netip.MustParseAddr(srvAddr4), p.port)
		if got := string(v.From(netip.MustParseAddr(p.src))); got != want {
			t.Errorf("%s %d from %s: kernel %s, verdict %s (%+v)", p.proto, p.port, p.src, want, got, v)
		}
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8089); v.Kind != Filtered || !strings.Contains(v.Rule, "admin-prohibited") {
		t.Errorf("8089, rejected with admin-prohibited: %+v", v)
	}
	// ip daddr: decided for a listener on that address, not for a wildcard one
	if v := rs.Evaluate("tcp", netip.IPv4Unspecified(), 8087); v.Kind != Unknown || !strings.Contains(v.Reason, "ip daddr 10.200.0.1 tcp dport 8087 accept") {
		t.Errorf("8087 on 0.0.0.0: %+v", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8082); v.Kind != Open || !strings.Contains(v.Note, "rate-limited") {
		t.Errorf("8082: %+v", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8084); v.Kind != Restricted || len(v.Sources) != 1 || v.Sources[0].String() != "10.200.0.2/32" {
		t.Errorf("8084: %+v", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8086); v.Kind != Restricted || len(v.Sources) != 2 {
		t.Errorf("8086: %+v", v) // 10.200.0.0/31 and 10.200.0.2/32
	}
	// an IPv6 listener: no ip table applies
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr6), 8086); v.Kind != Open || v.Note == "" {
		t.Errorf("IPv6: %+v", v)
	}
}

// TestRender checks the renderer on nft's own output for the same rules.
func TestRender(t *testing.T) {
	l := newLab(t, "render")
	l.nft(labRules)
	l.nft(moreRules)
	l.read(nil)
}

func checkRender(t *testing.T, rs *Ruleset, _ map[probe]string) {
	var got []string
	for _, key := range []setKey{{famINET, "pwfw", "input"}, {famINET, "pwfw", "services"}, {famIPv4, "pwfw4", "input"}, {famIPv4, "pwfw4", "tail"}} {
		for _, r := range rs.chains[key].rules {
			got = append(got, r.String())
		}
	}
	want := []string{
		"chain inet pwfw input: ct state established,related accept",
		`chain inet pwfw input: iifname "lo" accept`,
		"chain inet pwfw input: meta l4proto ipv6-icmp accept",
		"chain inet pwfw input: tcp dport 8080 accept",
		"chain inet pwfw input: tcp dport @allowed accept",
		"chain inet pwfw input: tcp dport 8082 reject with tcp reset",
		"chain inet pwfw input: ip saddr 10.200.0.0/24 tcp dport 8083 accept",
		"chain inet pwfw input: ip saddr 10.201.0.0/24 tcp dport 8084 accept",
		"chain inet pwfw input: ip saddr @trusted tcp dport 8088 accept",
		"chain inet pwfw input: jump services",
		"chain inet pwfw input: udp dport 9090 accept",
		"chain inet pwfw input: udp dport 9091 reject",
		"chain inet pwfw input: tcp dport vmap { 8090 : accept, 8091 : drop }",
		"chain inet pwfw input: tcp dport 8092-8093 accept",
		"chain inet pwfw input: ip6 saddr fd00:200::/64 tcp dport 8094 accept",
		"chain inet pwfw input: counter",
		"chain inet pwfw services: tcp dport 8085 accept",
		"chain inet pwfw services: tcp dport 8086 drop",
		"chain inet pwfw services: ip saddr != 10.200.0.3 tcp dport 8087 accept",
		"chain inet pwfw services: return",
		`chain ip pwfw4 input: iif "lo" accept`,
		"chain ip pwfw4 input: ct state vmap { invalid : drop, established : accept, related : accept }",
		"chain ip pwfw4 input: meta l4proto { tcp, udp } th dport 8053 accept",
		`chain ip pwfw4 input: iifname != "lo" tcp dport 8080 accept`,
		`chain ip pwfw4 input: ct state new tcp dport 8081 log prefix "new " accept`,
		"chain ip pwfw4 input: tcp dport 8082 limit rate 1000/second accept",
		"chain ip pwfw4 input: ip saddr . tcp dport @svc accept",
		"chain ip pwfw4 input: ip saddr @range tcp dport 8086 accept",
		"chain ip pwfw4 input: ip daddr 10.200.0.1 tcp dport 8087 accept",
		"chain ip pwfw4 input: tcp dport { 8088, 8089 } goto tail",
		"chain ip pwfw4 input: udp dport 9090 ct state new accept",
		"chain ip pwfw4 tail: tcp dport 8088 accept",
		"chain ip pwfw4 tail: reject with icmp admin-prohibited",
	}
	handle := regexp.MustCompile(` # handle \d+$`)
	for i := range got {
		if !handle.MatchString(got[i]) {
			t.Errorf("no handle: %s", got[i])
		}
		got[i] = handle.ReplaceAllString(got[i], "")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rendered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestIngress: a chain bound to a device sees only that device's packets: followed both ways.
func TestIngress(t *testing.T) {
	l := newLab(t, "ingress")
	l.nft(`
table netdev pwfwnd {
	chain ingress {
		type filter hook ingress device "veth0" priority 0; policy accept;
		tcp dport 8081 drop
		tcp dport 8082 accept
	}
	chain loingress {
		type filter hook ingress device "lo" priority 0; policy drop;
	}
}`)
	l.read(nil)
}

func checkIngress(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 8080); v.Kind != Open {
		t.Errorf("8080: %+v", v)
	}
	if v := rs.Evaluate("tcp", wildcard, 8082); v.Kind != Open {
		t.Errorf("8082: %+v", v)
	}
	if v := rs.Evaluate("tcp", wildcard, 8081); v.Kind != Unknown || !strings.Contains(v.Reason, `chain netdev pwfwnd ingress (only for packets from device veth0)`) {
		t.Errorf("8081: %+v", v)
	}
}
