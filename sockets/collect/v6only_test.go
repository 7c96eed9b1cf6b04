//go:build linux

package collect

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

// v6onlyScript listens on [::] twice, once with IPV6_V6ONLY set and once
// with it cleared (whatever the namespace's net.ipv6.bindv6only says), and
// says both ports.
const v6onlyScript = `import socket, sys
only = socket.socket(socket.AF_INET6)
only.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
only.bind(("::", 0))
only.listen()
both = socket.socket(socket.AF_INET6)
both.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
both.bind(("::", 0))
both.listen()
print(only.getsockname()[1], both.getsockname()[1], flush=True)
sys.stdin.readline()
`

// TestV6OnlyInAnotherNamespace: in a network namespace the test makes, an
// IPV6_V6ONLY listener on [::] is not dual-stack and a plain one is, as
// read from the kernel (netlink from a socket opened inside the
// namespace); through /proc/net both are marked as a guess.
func TestV6OnlyInAnotherNamespace(t *testing.T) {
	sockettest.NeedRoot(t, "to make a network namespace")
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip is not installed")
	}
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	py := pythonPath(t)
	name := fmt.Sprintf("pwv6only%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace here: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	c := startChild(t, exec.Command("ip", "netns", "exec", name, py, "-c", v6onlyScript))
	f := strings.Fields(c.line(t))
	if len(f) != 2 {
		t.Fatalf("the child said %q", f)
	}
	onlyPort, _ := strconv.Atoi(f[0])
	bothPort, _ := strconv.Atoi(f[1])
	in := func(snap *sockets.Snapshot, port int) sockets.Socket {
		t.Helper()
		var got []sockets.Socket
		for _, s := range snap.Sockets {
			if int(s.LPort) == port && s.Netns == name && s.IsListening() {
				got = append(got, s)
			}
		}
		if len(got) != 1 {
			t.Fatalf("%d listeners on port %d in namespace %s, want 1", len(got), port, name)
		}
		return got[0]
	}

	snap := snapshot(t, NewLive())
	only, both := in(snap, onlyPort), in(snap, bothPort)
	if only.DualStack || !both.DualStack {
		t.Errorf("netlink: the IPV6_V6ONLY listener dual=%v, the plain one dual=%v; want false, true", only.DualStack, both.DualStack)
	}
	if only.DualStackGuessed || both.DualStackGuessed {
		t.Error("netlink: dual-stack marked as guessed")
	}
	if !hasOwner(only, c.pid()) {
		t.Errorf("owners %v, want %d", ownerPIDs(only), c.pid())
	}

	snap = snapshot(t, newLive("/proc", MethodProcfs))
	only, both = in(snap, onlyPort), in(snap, bothPort)
	if !only.DualStackGuessed || !both.DualStackGuessed {
		t.Errorf("procfs: guessed %v and %v, want both marked as guesses", only.DualStackGuessed, both.DualStackGuessed)
	}
}

// TestDualStackGuessedOnlyThroughProcfs: in portwatch's own namespace,
// netlink reads IPV6_V6ONLY and /proc/net marks its dual-stack flag a
// guess, on IPv6 wildcard listeners only.
func TestDualStackGuessedOnlyThroughProcfs(t *testing.T) {
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Skipf("no IPv6 here: %v", err)
	}
	defer ln.Close()
	lo := listenTCP(t, "127.0.0.1:0")
	if netlinkWorks() {
		snap := snapshot(t, NewLive())
		if s := findOne(t, snap, sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{}); s.DualStackGuessed {
			t.Error("netlink: marked as guessed")
		}
	}
	snap := snapshot(t, newLive("/proc", MethodProcfs))
	if s := findOne(t, snap, sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{}); !s.DualStackGuessed {
		t.Error("procfs: the [::] listener's dual-stack flag is not marked as a guess")
	}
	if s := findOne(t, snap, sockets.TCP, addrPort(t, lo.Addr()), netip.AddrPort{}); s.DualStackGuessed {
		t.Error("procfs: an IPv4 listener is marked as a dual-stack guess")
	}
}
