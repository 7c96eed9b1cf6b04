//go:build linux

package firewall

import (
	"net/netip"
	"strings"
	"testing"
)

// Docker 20.10's rules, as dockerd 20.10 writes them with iptables-nft for a container
// 172.17.0.2 on docker0 started with -p 8080:80: no raw drop of direct access, and the DOCKER
// chain admits the published container port to anyone the host routes for.
const docker2010Rules = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
`

// ctrRules are the container's own: it resets connections to 80 from the second client.
const ctrRules = `table inet ctr {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 10.200.0.3 tcp dport 80 reject with tcp reset
	}
}`

const ctrAddr = "172.17.0.2"

// TestContainerBehindHost: a client probes a container's own listeners directly (its address,
// routed through the host: no DNAT), under Docker 20.10's rules and then Docker 28's. The host's
// prerouting and forward chains decide first, then the container's own rules: under 20.10 its
// published port 80 is reachable straight from the LAN (and the container's reset for the second
// client is what that client meets), 81 is not; under 28 the raw drop refuses both. The
// container's namespace alone says "open" for both: Behind must say what the kernel says.
func TestContainerBehindHost(t *testing.T) {
	l, ctrPid := dockerLab(t, "behind", "1", docker2010Rules)
	// The container is behind the host: its default route goes through the host's docker0
	// address. The client's does not (it has no default route; its routes are its own links).
	hostAddrs, _ := LocalAddrs(l.pid)
	ctrRoutes, _ := Routes(ctrPid)
	if !RoutesVia(ctrRoutes, hostAddrs) {
		t.Errorf("the container (routes %v) is not seen behind the host (%v)", ctrRoutes, hostAddrs)
	}
	hostRoutes, _ := Routes(l.pid)
	if RoutesVia(hostRoutes, hostAddrs) || RoutesVia(ctrRoutes, []netip.Addr{netip.MustParseAddr(cliAddr4)}) {
		t.Errorf("behind the wrong namespace: host routes %v", hostRoutes)
	}
	run(t, ctrRules, "ip", "netns", "exec", l.srv[:len(l.srv)-2]+"-k", "nft", "-f", "-")
	ps := []probe{{"tcp", cliAddr4, 80}, {"tcp", cli2Addr4, 80}, {"tcp", cliAddr4, 81}, {"tcp", cli2Addr4, 81}}
	// and the published port, to the host's address: past the DNAT, the container's rules too
	pub := []probe{{"tcp", cliAddr4, 8080}, {"tcp", cli2Addr4, 8080}}
	probeBoth := func() map[probe]string {
		seen := l.probeAt(ctrAddr, srvAddr6, ps)
		for p, r := range l.probeAll(pub) {
			seen[p] = r
		}
		return seen
	}
	rec := l.recorder()
	seen := probeBoth()
	rec.read(l.pid, seen) // the host under Docker 20.10
	rec.read(ctrPid, seen)
	run(t, docker28Rules, "ip", "netns", "exec", l.srv, "iptables-nft-restore")
	seen = probeBoth()
	rec.read(l.pid, seen) // the host under Docker 28
	rec.read(ctrPid, seen)
}

// behindHost is the host's ruleset the last host step read, for the container step after it
// (the steps of one recording run in order, in the kernel test and in TestReplay alike).
var behindHost *Ruleset

func checkBehindHost(want map[probe]string) stepCheck {
	return func(t *testing.T, rs *Ruleset, seen map[probe]string) {
		for p, w := range want {
			if seen[p] != w {
				t.Errorf("kernel: %s from %s to %s:%d: %s, the lab expects %s", p.proto, p.src, ctrAddr, p.port, seen[p], w)
			}
		}
		rs.SetLocal(dockerLocal)
		rs.SetRoutes(dockerRoutes)
		rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
		behindHost = rs
		if _, ok := rs.Routed("tcp", netip.MustParseAddrPort("172.17.0.1:80")); ok {
			t.Error("the host's own address is not behind it")
		}
	}
}

func checkBehindContainer(t *testing.T, rs *Ruleset, seen map[probe]string) {
	if behindHost == nil {
		t.Fatal("no host step before the container's")
	}
	addrs := []netip.Addr{netip.MustParseAddr(ctrAddr)}
	var published *Published
	for _, p := range behindHost.Published() {
		if p.HostPort == 8080 {
			published = &p
		}
	}
	if published == nil || published.To.String() != ctrAddr+":80" {
		t.Fatalf("8080 not published to %s:80: %+v", ctrAddr, behindHost.Published())
	}
	wrongAlone, pubWrongAlone := false, false
	for p, kernel := range seen {
		src := netip.MustParseAddr(p.src)
		if p.port == 8080 {
			pubWrongAlone = pubWrongAlone || string(published.Verdict.From(src)) != kernel
			v := Through(published.Verdict, rs.Evaluate("tcp", wildcard, 80).At(published.To.Addr()))
			if got := string(v.From(src)); got != kernel {
				t.Errorf("published 8080 from %s: kernel %s, verdict %s (%+v)", p.src, kernel, got, v)
			}
			continue
		}
		own := rs.Evaluate(p.proto, wildcard, p.port)
		if string(own.From(src)) != kernel {
			wrongAlone = true
		}
		v := Behind(behindHost, own, p.proto, addrs, p.port)
		if got := string(v.From(src)); got != kernel {
			t.Errorf("%s from %s to %s:%d: kernel %s, verdict %s (%+v)", p.proto, p.src, ctrAddr, p.port, kernel, got, v)
		}
	}
	if !wrongAlone {
		t.Error("the container's own rules alone agree with the kernel: the step proves nothing about the host's part")
	}
	if seen[probe{"tcp", cli2Addr4, 8080}] == "closed" && !pubWrongAlone {
		t.Error("the forward path alone agrees with the kernel on 8080: the step proves nothing about the container's part")
	}
	// Forwarding off: nothing reaches the container through the host.
	behindHost.SetForwarding(Forwarding{ForwardOff, ForwardOff})
	if v := Behind(behindHost, rs.Evaluate("tcp", wildcard, 80), "tcp", addrs, 80); v.Kind != Filtered || !strings.Contains(v.Note, "ip_forward = 0") {
		t.Errorf("the host not forwarding: %+v", v)
	}
	// An address the host does not route to: the container's own verdict.
	if v := Behind(behindHost, rs.Evaluate("tcp", wildcard, 81), "tcp", []netip.Addr{netip.MustParseAddr("192.0.2.5")}, 81); v.Kind != Open {
		t.Errorf("not behind the host: %+v", v)
	}
	behindHost = nil
}

// TestParseRoutesGateway: the gateway of /proc/net/route (little-endian hex, RTF_GATEWAY) and
// of ipv6_route (the next hop), hostile text read strictly.
func TestParseRoutesGateway(t *testing.T) {
	v4 := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
		"eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
		"eth0\tzz\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
	got := parseRoute4(strings.NewReader(v4))
	if len(got) != 2 || got[0].Via != netip.MustParseAddr("172.17.0.1") || got[0].Prefix.Bits() != 0 || got[1].Via.IsValid() {
		t.Errorf("ipv4: %+v", got)
	}
	v6 := "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000017000000000000000000000001 00000400 00000001 00000000 00450003     eth0\n" +
		"fd000017000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n"
	got = parseRoute6(strings.NewReader(v6))
	if len(got) != 2 || got[0].Via != netip.MustParseAddr("fd00:17::1") || got[1].Via.IsValid() {
		t.Errorf("ipv6: %+v", got)
	}
	if !RoutesVia(got, []netip.Addr{netip.MustParseAddr("fd00:17::1")}) || RoutesVia(got[1:], []netip.Addr{netip.MustParseAddr("fd00:17::1")}) {
		t.Error("RoutesVia")
	}
}
