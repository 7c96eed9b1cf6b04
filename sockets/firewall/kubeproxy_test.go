//go:build linux

package firewall

import (
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
// kube-proxy-nft.nft is what it writes for one Service, loaded in the lab's server namespace,
// and a third namespace is the pod 10.244.0.5 listening on 8080 behind a bridge cni0.

const kubeNodePort = 30080

var kubeEndpoint = netip.MustParseAddrPort("10.244.0.5:8080")

// kubeLocal and kubeRoutes are the lab node's addresses and routes in TestKubeProxyNft.
var kubeLocal = []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr("10.244.0.1"), netip.MustParseAddr(srvAddr6)}
var kubeRoutes = []Route{{Prefix: netip.MustParsePrefix("10.200.0.0/24"), Dev: "veth0"}, {Prefix: netip.MustParsePrefix("10.244.0.0/24"), Dev: "cni0"},
	{Prefix: netip.MustParsePrefix("fd00:200::/64"), Dev: "veth0"}}

// TestKubeProxyNft: a NodePort of kube-proxy's nftables mode is listed as published, to its
// endpoint, by kube-proxy, with the verdict the kernel gave the probe from the client.
func TestKubeProxyNft(t *testing.T) {
	l := newLab(t, "kubenft", "tcp:22")
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
	run(t, "", "ip", "-n", pod, "link", "set", "eth0", "up")
	run(t, "", "ip", "-n", pod, "link", "set", "lo", "up")
	run(t, "", "ip", "-n", pod, "route", "add", "default", "via", "10.244.0.1")
	run(t, "", "ip", "netns", "exec", l.srv, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	startListeners(t, pod, "tcp:8080")
	b, err := os.ReadFile("testdata/frontends/kube-proxy-nft.nft")
	if err != nil {
		t.Fatal(err)
	}
	l.nft(string(b))
	seen := l.probeAll([]probe{{"tcp", cliAddr4, 22}, {"tcp", cliAddr4, kubeNodePort}, {"tcp", cli2Addr4, kubeNodePort}})
	l.read(seen)
}

func checkKubeProxyNft(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr4, kubeNodePort}: "open", {"tcp", cli2Addr4, kubeNodePort}: "open",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	checkKubeMarkText(t, rs)
	rs.SetLocal(kubeLocal)
	rs.SetRoutes(kubeRoutes)
	rs.SetForwarding(Forwarding{ForwardOn, ForwardOff})
	if v := rs.Evaluate("tcp", wildcard, 22); v.At(netip.MustParseAddr(srvAddr4)).Kind != Open {
		t.Errorf("the node's own listener: %+v, want open", v)
	}
	var found []Published
	for _, p := range rs.Published() {
		if p.HostPort == kubeNodePort && p.Proto == "tcp" {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("NodePort %d published: %+v, want one entry to %s (all published: %+v)", kubeNodePort, found, kubeEndpoint, rs.Published())
	}
	e := found[0]
	if e.To != kubeEndpoint || e.Host != netip.IPv4Unspecified() {
		t.Errorf("NodePort %d: to %s on %s, want %s on any address", kubeNodePort, e.To, e.Host, kubeEndpoint)
	}
	// the Publisher's reading (sockets.Published.Publisher): the rule's chain lives in table kube-proxy
	if f := strings.Fields(strings.SplitN(e.Rule, ": ", 2)[0]); len(f) != 4 || f[0] != "chain" || f[2] != "kube-proxy" || !strings.Contains(e.Rule, "dnat to 10.244.0.5:8080") {
		t.Errorf("NodePort %d's rule %q: not kube-proxy's DNAT", kubeNodePort, e.Rule)
	}
	for _, src := range []string{cliAddr4, cli2Addr4} {
		p := probe{"tcp", src, kubeNodePort}
		if got := string(e.Verdict.From(netip.MustParseAddr(src))); got != seen[p] {
			t.Errorf("NodePort %d from %s: kernel %s, verdict %s (%+v)", kubeNodePort, src, seen[p], got, e.Verdict)
		}
	}
	if e.Verdict.Frontend != "kube-proxy" {
		t.Errorf("NodePort %d's forward verdict: frontend %q, want kube-proxy (%s)", kubeNodePort, e.Verdict.Frontend, e.Verdict.Rule)
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
