//go:build linux

package collect

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// TestPublishedJoinedToListenerInside: a namespace that publishes a port (a DNAT to another
// namespace's address, as Docker does) lists it joined to the listener inside, with its program
// and pid, and the listener inside says it is published as the host's port; a DNAT to an address
// no namespace holds names no listener.
func TestPublishedJoinedToListenerInside(t *testing.T) {
	sockettest.SkipShort(t, "makes two network namespaces and a DNAT")
	sockettest.NeedRoot(t, "to make network namespaces and load nft rules in them")
	for _, tool := range []string{"ip", "nft", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	host, ctr := fmt.Sprintf("pwpub%d-h", os.Getpid()), fmt.Sprintf("pwpub%d-k", os.Getpid())
	for _, ns := range []string{host, ctr} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Skipf("cannot make a network namespace here: %v %s", err, out)
		}
		ns := ns
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	sh("ip", "-n", host, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", ctr)
	sh("ip", "-n", host, "addr", "add", "10.201.0.1/24", "dev", "veth0")
	sh("ip", "-n", ctr, "addr", "add", "10.201.0.2/24", "dev", "eth0")
	for _, l := range [][]string{{host, "veth0"}, {ctr, "eth0"}, {host, "lo"}, {ctr, "lo"}} {
		sh("ip", "-n", l[0], "link", "set", l[1], "up")
	}
	nft := exec.Command("ip", "netns", "exec", host, "nft", "-f", "-")
	nft.Stdin = strings.NewReader(`table ip nat {
	chain pre {
		type nat hook prerouting priority dstnat;
		tcp dport 18080 dnat to 10.201.0.2:80
		tcp dport 18081 dnat to 10.201.0.9:80
	}
}`)
	if out, err := nft.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v %s", err, out)
	}
	// the host forwards; the container's own rules drop what comes to its port 80
	sh("ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	ctrNft := exec.Command("ip", "netns", "exec", ctr, "nft", "-f", "-")
	ctrNft.Stdin = strings.NewReader("table inet own {\n\tchain input {\n\t\ttype filter hook input priority 0;\n\t\ttcp dport 80 drop\n\t}\n}\n")
	if out, err := ctrNft.CombinedOutput(); err != nil {
		t.Fatalf("nft in %s: %v %s", ctr, err, out)
	}
	listen := func(ns string, port int) *child {
		c := startChild(t, exec.Command("ip", "netns", "exec", ns, pythonPath(t), "-c", fmt.Sprintf(`import socket, sys
s = socket.socket(); s.bind(("0.0.0.0", %d)); s.listen(); print("ready", flush=True); sys.stdin.readline()`, port)))
		if l := c.line(t); l != "ready" {
			t.Fatalf("listener in %s said %q", ns, l)
		}
		return c
	}
	listen(host, 18022) // the host namespace has a listener, so its firewall is read
	inside := listen(ctr, 80)

	snap := snapshot(t, NewLive())
	byPort := map[uint16]sockets.Published{}
	for _, p := range snap.Published {
		if p.Netns == host {
			byPort[p.HostPort] = p
		}
	}
	p, ok := byPort[18080]
	if !ok {
		t.Fatalf("18080 not published: %+v", snap.Published)
	}
	if in := p.Inside; in == nil || in.PID != int32(inside.pid()) || in.Netns != ctr || in.Port != 80 || in.Local != netip.IPv4Unspecified() {
		t.Errorf("18080 -> %s: inside %+v, want the listener of pid %d in %s", p.To, p.Inside, inside.pid(), ctr)
	}
	if p.Verdict.Kind != reach.Filtered || !strings.Contains(p.Verdict.Rule, "chain inet own input") {
		t.Errorf("18080: past the DNAT the container's rules drop it: %+v", p.Verdict)
	}
	if q, ok := byPort[18081]; !ok || q.Inside != nil {
		t.Errorf("18081 (to an address nobody holds): %+v", q)
	}
	var s *sockets.Socket
	for i := range snap.Sockets {
		if x := &snap.Sockets[i]; x.Netns == ctr && x.LPort == 80 && x.IsListening() {
			s = x
		}
	}
	if s == nil {
		t.Fatalf("no listener on 80 in %s", ctr)
	}
	if got, want := sockets.PublishedAs(snap.Published, s), []string{host + " 0.0.0.0:18080"}; !slices.Equal(got, want) {
		t.Errorf("the listener inside is published as %q, want %q", got, want)
	}
}
