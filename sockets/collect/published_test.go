//go:build linux

package collect

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/firewall"
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

// TestContainerJudgedThroughItsHost: the rounds judge a container's listener (a namespace whose
// default route goes through the host's address) through the host's rules: a host whose forward
// chain drops everything makes it filtered, naming that chain; a namespace beside it with no
// route through the host keeps its own verdict. The lab's host namespace plays the host here (the
// machine's own is never changed), handed to the rounds as "self".
func TestContainerJudgedThroughItsHost(t *testing.T) {
	sockettest.SkipShort(t, "makes three network namespaces")
	sockettest.NeedRoot(t, "to make network namespaces and load nft rules in them")
	for _, tool := range []string{"ip", "nft", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	base := fmt.Sprintf("pwbeh%d-", os.Getpid())
	host, ctr, beside := base+"h", base+"k", base+"b"
	for _, ns := range []string{host, ctr, beside} {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
			t.Skipf("cannot make a network namespace here: %v %s", err, out)
		}
		ns := ns
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	}
	sh := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	sh("", "ip", "-n", host, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", ctr)
	sh("", "ip", "-n", host, "link", "add", "veth1", "type", "veth", "peer", "name", "eth0", "netns", beside)
	sh("", "ip", "-n", host, "addr", "add", "10.202.0.1/24", "dev", "veth0")
	sh("", "ip", "-n", ctr, "addr", "add", "10.202.0.2/24", "dev", "eth0")
	sh("", "ip", "-n", beside, "addr", "add", "10.203.0.2/24", "dev", "eth0")
	for _, l := range [][]string{{host, "veth0"}, {host, "veth1"}, {ctr, "eth0"}, {beside, "eth0"}, {host, "lo"}, {ctr, "lo"}, {beside, "lo"}} {
		sh("", "ip", "-n", l[0], "link", "set", l[1], "up")
	}
	sh("", "ip", "-n", ctr, "route", "add", "default", "via", "10.202.0.1")
	sh("", "ip", "netns", "exec", host, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	sh("table inet f {\n\tchain through {\n\t\ttype filter hook forward priority 0; policy drop;\n\t}\n}\n", "ip", "netns", "exec", host, "nft", "-f", "-")
	listen := func(ns string, port int) *child {
		c := startChild(t, exec.Command("ip", "netns", "exec", ns, pythonPath(t), "-c", fmt.Sprintf(`import socket, sys
s = socket.socket(); s.bind(("0.0.0.0", %d)); s.listen(); print("ready", flush=True); sys.stdin.readline()`, port)))
		if l := c.line(t); l != "ready" {
			t.Fatalf("listener in %s said %q", ns, l)
		}
		return c
	}
	hp, kp, bp := listen(host, 22), listen(ctr, 80), listen(beside, 80)
	ino := func(pid int) uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/net", pid), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	key := fwKey{"tcp", netip.IPv4Unspecified(), 80}
	wants := map[uint64]want{
		ino(hp.pid()): {pid: hp.pid(), label: host, keys: []fwKey{{"tcp", netip.IPv4Unspecified(), 22}}},
		ino(kp.pid()): {pid: kp.pid(), label: ctr, keys: []fwKey{key}},
		ino(bp.pid()): {pid: bp.pid(), label: beside, keys: []fwKey{key}},
	}
	cache := &firewall.Cache{}
	defer cache.Close()
	f := newFWReader(cache)
	fws, _ := f.poll(ino(hp.pid()), wants, func(uint64) bool { return true }, nil)
	if v := fws[ino(kp.pid())].Evaluate("tcp", netip.IPv4Unspecified(), 80); v.Kind != reach.Filtered || !strings.Contains(v.Rule, "chain inet f through: policy drop") {
		t.Errorf("the container behind the host: %+v, want filtered by the host's forward chain", v)
	}
	if v := fws[ino(bp.pid())].Evaluate("tcp", netip.IPv4Unspecified(), 80); v.Kind != reach.Open {
		t.Errorf("the namespace beside, not behind the host: %+v, want its own (open: no firewall)", v)
	}
}
