//go:build linux

package firewall

import (
	"bufio"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Docker 28's rules, as dockerd writes them with iptables-nft for a container 172.17.0.2 on
// docker0 started with -p 8080:80 -p 8081:81, an admin's DOCKER-USER rule dropping 10.200.0.3,
// and an input rule refusing 8081 (what "ufw deny 8081/tcp" means to do, and Docker bypasses); dockerd itself is not run here (it changes the host's firewall): the lab's server
// namespace plays the host, a third namespace the container.
const docker28Rules = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.17.0.2:81
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-BRIDGE - [0:0]
:DOCKER-CT - [0:0]
:DOCKER-FORWARD - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-FORWARD
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 81 -j ACCEPT
-A DOCKER ! -i docker0 -o docker0 -j DROP
-A DOCKER-BRIDGE -o docker0 -j DOCKER
-A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-FORWARD -j DOCKER-CT
-A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1
-A DOCKER-FORWARD -j DOCKER-BRIDGE
-A DOCKER-FORWARD -i docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A INPUT -p tcp -m tcp --dport 8081 -j DROP
-A DOCKER-USER -s 10.200.0.3/32 -j DROP
COMMIT
`

// startListeners runs testdata/listen.py in a namespace until the test ends, and gives its pid.
func startListeners(t *testing.T, ns string, specs ...string) int {
	script, _ := filepath.Abs("testdata/listen.py")
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, "python3", script}, specs...)...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() { line, _ := bufio.NewReader(stdout).ReadString('\n'); ready <- line }()
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("listener in %s said %q", ns, line)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("listener not ready after 15 s")
	}
	return cmd.Process.Pid // ip netns exec executes python in place
}

// TestDocker: Docker 28's rules on a host with one container: the host's own listener is open
// (the raw drop of direct access is about the container's address), and each published port is
// listed and judged through the forward path as the kernel does.
func TestDocker(t *testing.T) {
	l, _ := dockerLab(t, "docker", "1", docker28Rules)
	var ps []probe
	for _, src := range []string{cliAddr4, cli2Addr4} {
		for _, p := range []uint16{22, 8080, 8081} {
			ps = append(ps, probe{"tcp", src, p})
		}
	}
	seen := l.probeAll(ps)
	l.read(seen)
}

// dockerLab is TestDocker's lab: the server namespace plays a host with Docker's rules and
// ip_forward set to forward ("1" or "0"), a third namespace the container 172.17.0.2 listening
// on 80 and 81 (the pid of its listener is returned), which the client reaches through the host.
func dockerLab(t *testing.T, name, forward, rules string) (*lab, int) {
	needLab(t, "iptables-nft-restore")
	l := newLab(t, name, "tcp:22", "tcp:8080")
	ctr := l.srv[:len(l.srv)-2] + "-k"
	_ = exec.Command("ip", "netns", "del", ctr).Run()
	run(t, "", "ip", "netns", "add", ctr)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ctr).Run() })
	run(t, "", "ip", "-n", l.srv, "link", "add", "docker0", "type", "bridge")
	run(t, "", "ip", "-n", l.srv, "addr", "add", "172.17.0.1/16", "dev", "docker0")
	run(t, "", "ip", "-n", l.srv, "link", "add", "vethc", "type", "veth", "peer", "name", "eth0", "netns", ctr)
	run(t, "", "ip", "-n", l.srv, "link", "set", "vethc", "master", "docker0", "up")
	run(t, "", "ip", "-n", l.srv, "link", "set", "docker0", "up")
	run(t, "", "ip", "-n", ctr, "addr", "add", "172.17.0.2/16", "dev", "eth0")
	run(t, "", "ip", "-n", ctr, "link", "set", "eth0", "up")
	run(t, "", "ip", "-n", ctr, "link", "set", "lo", "up")
	run(t, "", "ip", "-n", ctr, "route", "add", "default", "via", "172.17.0.1")
	run(t, "", "ip", "netns", "exec", l.srv, "sysctl", "-qw", "net.ipv4.ip_forward="+forward)
	run(t, "", "ip", "-n", l.cli, "route", "add", "172.17.0.0/16", "via", srvAddr4)
	pid := startListeners(t, ctr, "tcp:80", "tcp:81")
	run(t, rules, "ip", "netns", "exec", l.srv, "iptables-nft-restore")
	return l, pid
}

// dockerLocal and dockerRoutes are the lab host's addresses and routes in TestDocker.
var dockerLocal = []netip.Addr{netip.MustParseAddr(srvAddr4), netip.MustParseAddr("172.17.0.1"), netip.MustParseAddr(srvAddr6)}
var dockerRoutes = []Route{{Prefix: netip.MustParsePrefix("10.200.0.0/24"), Dev: "veth0"}, {Prefix: netip.MustParsePrefix("172.17.0.0/16"), Dev: "docker0"},
	{Prefix: netip.MustParsePrefix("fd00:200::/64"), Dev: "veth0"}}

func checkDocker(t *testing.T, rs *Ruleset, seen map[probe]string) {
	for p, want := range map[probe]string{
		{"tcp", cliAddr4, 22}: "open", {"tcp", cliAddr4, 8080}: "open", {"tcp", cliAddr4, 8081}: "open",
		{"tcp", cli2Addr4, 8081}: "filtered",
	} {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}
	rs.SetLocal(dockerLocal)
	rs.SetRoutes(dockerRoutes)
	if v := rs.Evaluate("tcp", wildcard, 22); v.At(netip.MustParseAddr(srvAddr4)).Kind != Open || strings.Contains(v.Rule, "nat") {
		t.Errorf("the host's own listener: %+v, want open, not by a nat chain's policy", v)
	}
	pub := rs.Published()
	byPort := map[uint16]Published{}
	for _, p := range pub {
		byPort[p.HostPort] = p
	}
	if len(pub) != 2 {
		t.Errorf("published: %+v, want 8080 and 8081", pub)
	}
	for p, kernel := range seen {
		if p.port == 22 {
			continue
		}
		e, ok := byPort[p.port]
		if !ok {
			t.Errorf("%d not published", p.port)
			continue
		}
		if got := string(e.Verdict.From(netip.MustParseAddr(p.src))); got != kernel {
			t.Errorf("published %d from %s: kernel %s, verdict %s (%+v)", p.port, p.src, kernel, got, e)
		}
	}
	if e := byPort[8081]; e.Input.Kind != Filtered || !strings.Contains(e.Input.Rule, "tcp dport 8081") || e.Verdict.Kind != Restricted {
		t.Errorf("8081: the input path refuses it, the forward path admits 10.200.0.2: %+v", e)
	}
	if e := byPort[8080]; e.Verdict.Frontend != "docker" {
		t.Errorf("8080's forward verdict: frontend %q, want docker (%s)", e.Verdict.Frontend, e.Verdict.Rule)
	}
	if e := byPort[8080]; e.Input.Kind != Open {
		t.Errorf("8080's input verdict past the DNAT: %+v", e.Input)
	}
	if e := byPort[8080]; e.To.String() != "172.17.0.2:80" || e.Host != netip.IPv4Unspecified() || !strings.Contains(e.Rule, "DNAT") {
		t.Errorf("8080: %+v", e)
	}
}
