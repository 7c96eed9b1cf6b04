//go:build linux

package collect

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// plantedScript, run by sh inside a namespace an unprivileged user made (unshare -rn), loads a
// set of $1 addresses (in batches: one transaction of an unprivileged user's is small), one rule
// using it, then becomes a python3 with $2 listeners from port $3 on, which says "ready" and, for
// each line it reads, adds a rule (a new generation of the ruleset).
const plantedScript = `set -e
nft -f - <<NFT
table inet t {
 set s { type ipv4_addr; flags interval; }
 chain in { type filter hook input priority 0; policy drop; ip saddr @s tcp dport 1-65535 accept; }
}
NFT
i=0
while [ $i -lt $1 ]; do
  line=""; j=0
  while [ $j -lt 1000 ] && [ $i -lt $1 ]; do
    line="$line 10.$((i/65536%256)).$((i/256%256)).$((i%256)),"; i=$((i+1)); j=$((j+1))
  done
  nft add element inet t s "{ ${line%,} }"
done
exec /usr/bin/python3 -c '
import os, socket, sys
ls = []
for p in range(int(sys.argv[2]), int(sys.argv[2]) + int(sys.argv[1])):
    s = socket.socket(); s.bind(("0.0.0.0", p)); s.listen(); ls.append(s)
print("ready", flush=True)
n = 0
for line in sys.stdin:
    n += 1
    os.system("nft add rule inet t in tcp dport %d drop" % (60000 + n))
    print("changed", flush=True)
' "$2" "$3"
`

// plantFirewall starts, as the user nobody, a network namespace of its own with a large ruleset
// and listeners, as any local user can; it ends with the test.
func plantFirewall(t *testing.T, elements, listeners int, firstPort uint16) *child {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: root's portwatch reads the namespace a user planted")
	}
	for _, tool := range []string{"setpriv", "unshare", "nft", "/usr/bin/python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	cmd := exec.Command("setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
		"unshare", "-rn", "sh", "-c", plantedScript, "planted",
		strconv.Itoa(elements), strconv.Itoa(listeners), strconv.Itoa(int(firstPort)))
	c := startChild(t, cmd)
	select {
	case l, ok := <-c.lines:
		if !ok || l != "ready" {
			t.Skipf("an unprivileged user cannot plant a firewall here (%q)", l)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the planted namespace was not ready within 60 s")
	}
	return c
}

// plantedVerdicts is the firewall verdict of each listener of the planted namespace (found by
// its pid), by port.
func plantedVerdicts(snap *sockets.Snapshot, pid int) (map[uint16]reach.Verdict, uint64) {
	out := map[uint16]reach.Verdict{}
	var ino uint64
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if !s.IsListening() || !hasOwner(*s, pid) {
			continue
		}
		ino = s.NetnsInode
		if fw := snap.Firewalls[s.NetnsInode]; fw != nil {
			out[s.LPort] = fw.Evaluate(s.Proto.String(), s.Local, s.LPort)
		}
	}
	return out, ino
}

// timedSnapshot is a snapshot and how long it took.
func timedSnapshot(t *testing.T, src *Live) (*sockets.Snapshot, time.Duration) {
	t.Helper()
	start := time.Now()
	snap, err := src.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap, time.Since(start)
}

// hostVerdict is the firewall verdict of our own host listener.
func hostVerdict(t *testing.T, snap *sockets.Snapshot, port uint16) reach.Verdict {
	t.Helper()
	s := findOne(t, snap, sockets.TCP, netip.AddrPortFrom(netip.MustParseAddr("0.0.0.0"), port), netip.AddrPort{})
	fw := snap.Firewalls[s.NetnsInode]
	if fw == nil {
		t.Fatalf("no firewall for the host's namespace")
	}
	return fw.Evaluate("tcp", s.Local, s.LPort)
}

// A namespace an unprivileged user planted with a ruleset that is slow to judge does not slow the
// poll of the host's sockets: its ruleset is read and judged in the background, the poll hands
// out what is ready, and the planted listeners read unknown, saying why, until it is.
func TestPlantedFirewallDoesNotSlowTheHostPoll(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a ruleset of 4,000 elements")
	}
	host := listenTCP(t, "0.0.0.0:0")
	hostPort := addrPort(t, host.Addr()).Port()

	// the host's poll without the planted namespace
	src := NewLive()
	timedSnapshot(t, src)
	var absent time.Duration
	for i := 0; i < 3; i++ {
		_, d := timedSnapshot(t, src)
		absent = max(absent, d)
	}

	planted := plantFirewall(t, 4000, 60, 41000)
	src = NewLive() // its first poll waits for every namespace, bounded
	snap, first := timedSnapshot(t, src)
	if first > fwHostWait+2*time.Second {
		t.Errorf("the first poll took %v: waiting for the planted namespace is bounded by %v", first, fwHostWait)
	}
	if v := hostVerdict(t, snap, hostPort); v.Kind == reach.Unknown && strings.Contains(v.Reason, "still being") {
		t.Errorf("the host's listener is %s (%s) after the first poll", v.Kind, v.Reason)
	}
	// a new generation makes the planted ruleset be read and judged again, slowly, in the background
	planted.say(t, "change")
	if l := planted.line(t); l != "changed" {
		t.Fatalf("the planted namespace said %q", l)
	}
	sawPending := false
	deadline := time.Now().Add(60 * time.Second)
	for {
		snap, d := timedSnapshot(t, src)
		// before the rounds, a poll took the whole evaluation: tens of seconds here; now only the
		// CPU the background round takes from it (two cores, a race build) slows it down
		if d > absent+1500*time.Millisecond {
			t.Errorf("a host poll took %v with the planted namespace present, %v without", d, absent)
		}
		if v := hostVerdict(t, snap, hostPort); v.Kind == reach.Unknown && strings.Contains(v.Reason, "still being") {
			t.Errorf("the host's listener is %s (%s)", v.Kind, v.Reason)
		}
		got, ino := plantedVerdicts(snap, planted.pid())
		if len(got) != 60 {
			t.Fatalf("%d planted listeners have a firewall verdict, want 60 (namespace %d)", len(got), ino)
		}
		judged := 0
		for port, v := range got {
			switch {
			case v.Kind == reach.Unknown && (v.Reason == reasonFirewallPending || v.Reason == reasonVerdictPending):
				sawPending = true
			case v.Kind == reach.Restricted || v.Kind == reach.Unknown && v.Reason != "":
				judged++
			default:
				t.Fatalf("planted listener %d: %s (%s): want restricted, or unknown with a reason", port, v.Kind, v.Reason)
			}
		}
		if judged == len(got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the planted namespace was not judged within 60 s (%d of %d)", judged, len(got))
		}
		time.Sleep(50 * time.Millisecond) // the interval between two polls, not a guess at a condition
	}
	t.Logf("host poll %v without, first poll %v with the planted namespace; pending seen: %v", absent, first, sawPending)
}

// A ruleset past the limits is not evaluated: its listeners read unknown, naming the limit.
func TestPlantedFirewallPastTheLimitsIsUnknown(t *testing.T) {
	if testing.Short() {
		t.Skip("loads a ruleset of 3,000 elements")
	}
	planted := plantFirewall(t, 3000, 3, 41300)
	src := NewLive()
	src.firewalls.Limits.MaxElements = 1000
	snap, _ := timedSnapshot(t, src)
	got, _ := plantedVerdicts(snap, planted.pid())
	if len(got) != 3 {
		t.Fatalf("%d planted listeners with a verdict, want 3", len(got))
	}
	want := fmt.Sprintf("ruleset larger than %d elements, not evaluated", 1000)
	for port, v := range got {
		if v.Kind != reach.Unknown || v.Reason != want {
			t.Errorf("planted listener %d: %s (%s), want unknown (%s)", port, v.Kind, v.Reason, want)
		}
	}
}

// openFDs counts this process's descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// The netlink sockets of namespaces that vanished are closed at the next poll, not a minute later.
func TestVanishedNamespacesLetGoOfTheirSockets(t *testing.T) {
	if testing.Short() {
		t.Skip("makes ten namespaces")
	}
	src := NewLive()
	var planted []*child
	for i := 0; i < 10; i++ {
		planted = append(planted, plantFirewall(t, 10, 1, uint16(41400+i)))
	}
	// every planted namespace judged, each through a socket of its own
	inodes := map[uint64]bool{}
	judgedAll := func() bool {
		snap, _ := timedSnapshot(t, src)
		for i, c := range planted {
			got, ino := plantedVerdicts(snap, c.pid())
			if len(got) != 1 || got[uint16(41400+i)].Kind != reach.Restricted {
				return false
			}
			inodes[ino] = true
		}
		return true
	}
	deadline := time.Now().Add(20 * time.Second)
	for !judgedAll() {
		if time.Now().After(deadline) {
			t.Fatal("10 planted namespaces not judged within 20 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	held := func() (n int) {
		for _, ino := range src.firewalls.Known() {
			if inodes[ino] {
				n++
			}
		}
		return n
	}
	if len(inodes) != 10 || held() != 10 {
		t.Fatalf("%d planted namespaces, %d held by the cache", len(inodes), held())
	}
	with := openFDs(t)
	for _, c := range planted {
		c.stop()
	}
	timedSnapshot(t, src)
	// a round still running closes its socket when it ends: a bounded wait for that
	deadline = time.Now().Add(10 * time.Second)
	for held() > 0 || with-openFDs(t) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("after the namespaces vanished: %d still held, %d descriptors (%d with them)", held(), openFDs(t), with)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// However many namespaces there are, the cache keeps at most MaxConns netlink sockets open, and
// those of the namespaces being read at that moment.
func TestFirewallSocketsAreBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("makes six namespaces")
	}
	src := NewLive()
	src.firewalls.MaxConns = 3
	var planted []*child
	for i := 0; i < 6; i++ {
		planted = append(planted, plantFirewall(t, 10, 1, uint16(41500+i)))
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		snap, _ := timedSnapshot(t, src)
		// a namespace being read keeps its socket: 3, and those of the rounds running
		if n, bound := src.firewalls.Conns(), 3+fwRounds+1; n > bound {
			t.Fatalf("%d netlink sockets open, bound %d", n, bound)
		}
		judged := 0
		for i, c := range planted {
			if got, _ := plantedVerdicts(snap, c.pid()); got[uint16(41500+i)].Kind == reach.Restricted {
				judged++
			}
		}
		if judged == len(planted) {
			return // all six judged through three sockets
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 6 planted namespaces judged within 20 s", judged)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
