//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// kube-proxy in nftables mode (1.31+): its own "ip kube-proxy" table, where a NodePort is a key
// of a concatenated verdict map (meta l4proto . th dport) reached under "fib daddr type local",
// the service chain picks its endpoint with numgen, and the endpoint chain's DNAT names no port.
// kube-proxy itself is not run (it changes the host's firewall): testdata/frontends/
// kube-proxy-nft.nft is what it writes for two Services, loaded in the lab's server namespace,
// and a third namespace plays the pods 10.244.0.5 and 10.244.0.6 listening on 8080 behind a
// bridge cni0.

// kubeNodePorts are the Services' NodePorts and the endpoints each sends to: web has one, api two
// (its endpoint picked by numgen random mod 2).
var kubeNodePorts = map[uint16][]netip.AddrPort{
	30080: {netip.MustParseAddrPort("10.244.0.5:8080")},
	30081: {netip.MustParseAddrPort("10.244.0.5:8080"), netip.MustParseAddrPort("10.244.0.6:8080")},
}

// kubeLocal and kubeRoutes are the lab node's addresses and routes in TestKubeProxyNft.
var kubeLocal = []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr("10.244.0.1"), netip.MustParseAddr(srvAddr6)}
var kubeRoutes = []Route{{Prefix: netip.MustParsePrefix("10.200.0.0/24"), Dev: "veth0"}, {Prefix: netip.MustParsePrefix("10.244.0.0/24"), Dev: "cni0"},
	{Prefix: netip.MustParsePrefix("fd00:200::/64"), Dev: "veth0"}}

// TestKubeProxyNft: each NodePort of kube-proxy's nftables mode is listed as published, once per
// endpoint, by kube-proxy, with the verdict the kernel gave the probes from the clients.
func TestKubeProxyNft(t *testing.T) {
	l := kubeLab(t, "kubenft")
	b, err := os.ReadFile("testdata/frontends/kube-proxy-nft.nft")
	if err != nil {
		t.Fatal(err)
	}
	l.nft(string(b))
	seen := l.probeAll(kubeProbes())
	l.read(seen)

	l.nft(kubeWideService())
	l.read(l.probeAll([]probe{{"tcp", cliAddr4, kubeWidePort}}))

	// nodePortAddresses set to the node's primary address: NodePorts on it alone
	l.nft(kubeNodePortIPs)
	run(t, "", "ip", "-n", l.cli, "route", "add", "10.244.0.0/24", "via", srvAddr4)
	seen = l.probeAll([]probe{{"tcp", cliAddr4, 30080}})
	for p, got := range l.probeAt("10.244.0.1", srvAddr6, []probe{{"tcp", cliAddr4, 30080}}) {
		seen[probe{p.proto, "10.244.0.1>" + p.src, p.port}] = got
	}
	l.read(seen)
}

// kubeNodePortIPs is kube-proxy's services chain with nodePortAddresses set ("primary"): the
// NodePort map is reached for the addresses of @nodeport-ips, not under "fib daddr type local".
const kubeNodePortIPs = `add set ip kube-proxy nodeport-ips { type ipv4_addr; comment "IPs that accept NodePort traffic"; }
add element ip kube-proxy nodeport-ips { 10.200.0.1 }
flush chain ip kube-proxy services
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports
flush chain ip kube-proxy nodeport-endpoints-check
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
`

// checkKubeNodePortIPs: a NodePort is published on the node's address in @nodeport-ips only; on
// its other address (the bridge's) the kernel answers from its own stack (closed: no listener).
func checkKubeNodePortIPs(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, want := range map[probe]string{{"tcp", cliAddr4, 30080}: "open", {"tcp", "10.244.0.1>" + cliAddr4, 30080}: "closed"} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	rs.SetLocal(kubeLocal)
	rs.SetRoutes(kubeRoutes)
	rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
	n := 0
	for _, p := range rs.Published() {
		if p.HostPort != 30080 {
			continue
		}
		n++
		if p.Host != netip.MustParseAddr(srvAddr4) || p.To != kubeNodePorts[30080][0] {
			t.Errorf("NodePort 30080 with nodeport-ips: %s to %s, want on %s alone to %s", p.Host, p.To, srvAddr4, kubeNodePorts[30080][0])
		}
		if got := string(p.Verdict.From(netip.MustParseAddr(cliAddr4))); got != seen[probe{"tcp", cliAddr4, 30080}] {
			t.Errorf("NodePort 30080 with nodeport-ips: verdict %s, kernel %s", got, seen[probe{"tcp", cliAddr4, 30080}])
		}
	}
	if n != 1 {
		t.Errorf("NodePort 30080 with nodeport-ips: %d entries, want 1 (%+v)", n, rs.Published())
	}
}

// kubeLab is a node for kube-proxy's tests: the lab's server namespace, forwarding, with a bridge
// cni0 to a third namespace that plays the pods 10.244.0.5 and 10.244.0.6, listening on 8080.
func kubeLab(t *testing.T, name string, tools ...string) *lab {
	needLab(t, tools...)
	l := newLab(t, name, "tcp:22")
	pod := l.srv[:len(l.srv)-2] + "-p"
	_ = exec.Command("ip", "netns", "del", pod).Run()
	run(t, "", "ip", "netns", "add", pod)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", pod).Run() })
	run(t, "", "ip", "-n", l.srv, "link", "add", "cni0", "type", "bridge")
	run(t, "", "ip", "-n", l.srv, "addr", "add", "10.244.0.1/24", "dev", "cni0")
	run(t, "", "ip", "-n", l.srv, "link", "add", "vethp", "type", "veth", "peer", "name", "eth0", "netns", pod)
	run(t, "", "ip", "-n", l.srv, "link", "set", "vethp", "master", "cni0", "up")
	run(t, "", "ip", "-n", l.srv, "link", "set", "cni0", "up")
	run(t, "", "ip", "-n", pod, "addr", "add", "10.244.0.5/24", "dev", "eth0")
	run(t, "", "ip", "-n", pod, "addr", "add", "10.244.0.6/24", "dev", "eth0")
	run(t, "", "ip", "-n", pod, "link", "set", "eth0", "up")
	run(t, "", "ip", "-n", pod, "link", "set", "lo", "up")
	run(t, "", "ip", "-n", pod, "route", "add", "default", "via", "10.244.0.1")
	run(t, "", "ip", "netns", "exec", l.srv, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	startListeners(t, pod, "tcp:8080")
	return l
}

// kubeProbes are a probe of the node's own listener and of each NodePort from both clients.
func kubeProbes() []probe {
	ps := []probe{{"tcp", cliAddr4, 22}}
	for port := range kubeNodePorts {
		ps = append(ps, probe{"tcp", cliAddr4, port}, probe{"tcp", cli2Addr4, port})
	}
	return ps
}

// TestKubeProxyIptables: kube-proxy's iptables mode for the same Services, on a node whose FORWARD
// policy is drop: the NodePorts' packets pass by KUBE-FORWARD's accept of the mark KUBE-MARK-MASQ
// set before routing, and one of api's endpoints is picked by -m statistic.
func TestKubeProxyIptables(t *testing.T) {
	l := kubeLab(t, "kubeipt", "iptables-nft-restore")
	l.restore("iptables-nft-restore", "testdata/frontends/kube-proxy-iptables.rules")
	l.read(l.probeAll(kubeProbes()))
}

// kubeWidePort is a NodePort whose Service has more endpoints than the evaluator follows ways of a
// numgen (maxNumgenWays + 1, all of them 10.244.0.5:8080 here, so the kernel's outcome is known).
const kubeWidePort = 30082

// kubeWideService is that Service as kube-proxy adds it to its table.
func kubeWideService() string {
	var b strings.Builder
	n := maxNumgenWays + 1
	b.WriteString("add chain ip kube-proxy service-WIDE-default/wide/tcp/\n")
	b.WriteString("add chain ip kube-proxy external-WIDE-default/wide/tcp/\n")
	var vmap []string
	for i := 0; i < n; i++ {
		ep := fmt.Sprintf("endpoint-WIDE%d-default/wide/tcp/__10.244.0.5/8080", i)
		fmt.Fprintf(&b, "add chain ip kube-proxy %s\nadd rule ip kube-proxy %s meta l4proto tcp dnat to 10.244.0.5:8080\n", ep, ep)
		vmap = append(vmap, fmt.Sprintf("%d : goto %s", i, ep))
	}
	fmt.Fprintf(&b, "add rule ip kube-proxy service-WIDE-default/wide/tcp/ numgen random mod %d vmap { %s }\n", n, strings.Join(vmap, ", "))
	b.WriteString("add rule ip kube-proxy external-WIDE-default/wide/tcp/ jump mark-for-masquerade\n")
	b.WriteString("add rule ip kube-proxy external-WIDE-default/wide/tcp/ goto service-WIDE-default/wide/tcp/\n")
	fmt.Fprintf(&b, "add element ip kube-proxy service-nodeports { tcp . %d : goto external-WIDE-default/wide/tcp/ }\n", kubeWidePort)
	return b.String()
}

// checkKubeProxyNftWide: past the bound, the NodePort's verdict is unknown naming the verdict map
// the numgen feeds, and it is not listed as published to a destination the evaluator did not see.
func checkKubeProxyNftWide(t *testing.T, rs *Ruleset, seen map[probe]string) {
	if got := seen[probe{"tcp", cliAddr4, kubeWidePort}]; got != "open" {
		t.Errorf("kernel: %d: %s, the lab expects open", kubeWidePort, got)
	}
	rs.SetLocal(kubeLocal)
	rs.SetRoutes(kubeRoutes)
	rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
	v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), kubeWidePort)
	if v.Kind != Unknown || !strings.Contains(v.Rule, "numgen random mod 65") || !strings.Contains(v.Reason, "verdict map on a key the evaluator does not know") {
		t.Errorf("NodePort %d with %d endpoints: %+v, want unknown naming the numgen's verdict map", kubeWidePort, maxNumgenWays+1, v)
	}
	for _, p := range rs.Published() {
		if p.HostPort == kubeWidePort {
			t.Errorf("published past the bound: %+v", p)
		}
	}
	if n := len(rs.Published()); n != 3 {
		t.Errorf("%d published, want the other Services' 3", n)
	}
}

func checkKubeProxyNft(t *testing.T, rs *Ruleset, seen map[probe]string) {
	checkKubeMarkText(t, rs)
	checkKubeNodePorts(t, rs, seen)
}

// checkKubeNodePorts: both modes' NodePorts, each published to each of its endpoints, judged as
// the kernel did.
func checkKubeNodePorts(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, got := range seen {
		if got != "open" {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects open", p.proto, p.src, p.port, got)
		}
	}
	rs.SetLocal(kubeLocal)
	rs.SetRoutes(kubeRoutes)
	rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
	if v := rs.Evaluate("tcp", wildcard, 22); v.At(netip.MustParseAddr(srvAddr4)).Kind != Open {
		t.Errorf("the node's own listener: %+v, want open", v)
	}
	pub := rs.Published()
	for port, endpoints := range kubeNodePorts {
		var found []Published
		for _, p := range pub {
			if p.HostPort == port && p.Proto == "tcp" {
				found = append(found, p)
			}
		}
		if len(found) != len(endpoints) {
			t.Errorf("NodePort %d published: %+v, want one entry to each of %v (all published: %+v)", port, found, endpoints, pub)
			continue
		}
		for i, e := range found {
			checkKubeEntry(t, e, endpoints[i], seen)
		}
	}
	for _, p := range pub {
		if _, ok := kubeNodePorts[p.HostPort]; !ok {
			t.Errorf("published, though no NodePort: %+v (a ClusterIP's port is not on the node's addresses)", p)
		}
	}
}

// checkKubeEntry: one published NodePort entry of TestKubeProxyNft, to the endpoint want.
func checkKubeEntry(t *testing.T, e Published, want netip.AddrPort, seen map[probe]string) {
	if e.To != want || e.Host != netip.IPv4Unspecified() {
		t.Errorf("NodePort %d: to %s on %s, want %s on any address", e.HostPort, e.To, e.Host, want)
	}
	// the Publisher's reading (sockets.Published.Publisher): the rule's chain lives in table
	// kube-proxy (nftables mode) or is a KUBE-* chain (iptables mode)
	f := strings.Fields(strings.SplitN(e.Rule, ": ", 2)[0])
	if len(f) != 4 || f[0] != "chain" || (f[2] != "kube-proxy" && !strings.HasPrefix(f[3], "KUBE-")) ||
		!strings.Contains(e.Rule, "dnat to "+want.String()) && !strings.Contains(e.Rule, `xt target "DNAT"`) {
		t.Errorf("NodePort %d's rule %q: not kube-proxy's DNAT to %s", e.HostPort, e.Rule, want)
	}
	for _, src := range []string{cliAddr4, cli2Addr4} {
		p := probe{"tcp", src, e.HostPort}
		if got := string(e.Verdict.From(netip.MustParseAddr(src))); got != seen[p] {
			t.Errorf("NodePort %d to %s from %s: kernel %s, verdict %s (%+v)", e.HostPort, want, src, seen[p], got, e.Verdict)
		}
	}
	if !strings.Contains(e.Verdict.Note, markRouteNote) {
		t.Errorf("NodePort %d's verdict does not say the way to its DNAT set a mark before routing: %q", e.HostPort, e.Verdict.Note)
	}
	if e.Verdict.Frontend != "kube-proxy" {
		t.Errorf("NodePort %d's forward verdict: frontend %q, want kube-proxy (%s)", e.HostPort, e.Verdict.Frontend, e.Verdict.Rule)
	}
}

// checkKubeMarkText: kube-proxy's masquerade mark is said as nft says it; a mark is host order.
func checkKubeMarkText(t *testing.T, rs *Ruleset) {
	want := map[string]string{
		"mark-for-masquerade": "meta mark set meta mark | 0x00004000",
		"masquerading":        "meta mark & 0x00004000 == 0x00000000 return",
	}
	for _, c := range rs.chains {
		if w, ok := want[c.name]; ok && c.table.name == "kube-proxy" && len(c.rules) > 0 {
			if got := renderRule(rs, c.rules[0]); got != w {
				t.Errorf("chain %s: %q, want %q", c.name, got, w)
			}
			delete(want, c.name)
		}
	}
	if len(want) > 0 {
		t.Errorf("chains not read: %v", want)
	}
}
