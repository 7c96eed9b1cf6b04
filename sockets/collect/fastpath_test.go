//go:build linux

package collect

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// openVariety opens one of each kind of socket on loopback: listeners of
// both families and protocols, a connection, a TIME_WAIT remnant and a
// listener shared with a child process.
func openVariety(t *testing.T) {
	t.Helper()
	ln := listenTCP(t, "127.0.0.1:0")
	c, err := net.Dial("tcp4", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	// The client closes first: its end goes to TIME_WAIT.
	c2, err := net.Dial("tcp4", ln.Addr().String())
	if err == nil {
		s2, _ := ln.Accept()
		c2.Close()
		if s2 != nil {
			time.Sleep(50 * time.Millisecond)
			s2.Close()
		}
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	if l6, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		t.Cleanup(func() { l6.Close() })
	}
	if ld, err := net.Listen("tcp", "[::]:0"); err == nil {
		t.Cleanup(func() { ld.Close() })
	}
	startChildHolding(t, listenTCP(t, "127.0.0.1:0"))
}

// comparable is a socket without what legitimately differs between paths.
func comparable(s sockets.Socket) string {
	var pids []string
	for _, p := range s.Owners {
		pids = append(pids, strconv.Itoa(int(p.PID)))
	}
	return fmt.Sprintf("%s%d %s:%d %s:%d %s ino=%d uid=%d owners=%s %s", s.Proto, s.Family, s.Local, s.LPort,
		s.Remote, s.RPort, s.State, s.Inode, s.UID, strings.Join(pids, ","), s.OwnerStatus)
}

func comparableSet(snap *sockets.Snapshot) []string {
	var out []string
	for _, s := range snap.Sockets {
		if s.State == "TIME_WAIT" {
			continue // TIME_WAIT remnants come and go by the millisecond
		}
		out = append(out, comparable(s))
	}
	slices.Sort(out)
	return out
}

// TestFastPathMatchesReference: netlink with the owner map kept between
// polls gives the same sockets, states and owners as /proc/net with a full
// descriptor walk.
func TestFastPathMatchesReference(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	openVariety(t)
	fast := NewLive()
	if fast.Method() != MethodNetlink {
		t.Fatalf("method %s, want netlink", fast.Method())
	}
	snapshot(t, fast) // the first poll builds the owner map; the second keeps it
	var diff []string
	for attempt := 0; attempt < 5; attempt++ {
		a := comparableSet(snapshot(t, fast))
		b := comparableSet(snapshot(t, NewReference()))
		diff = symmetricDiff(a, b)
		if len(diff) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond) // another program's sockets moved meanwhile
	}
	t.Errorf("fast and reference paths differ:\n%s", strings.Join(diff, "\n"))
}

func symmetricDiff(a, b []string) []string {
	var d []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			d = append(d, "fast only:      "+x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			d = append(d, "reference only: "+x)
		}
	}
	return d
}

// TestFastPathMatchesSS: every TCP and UDP socket ss lists, portwatch lists
// with the same state and every pid ss names.
func TestFastPathMatchesSS(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
	openVariety(t)
	src := NewLive()
	ssStates := map[string]string{"ESTAB": "ESTABLISHED", "LISTEN": "LISTEN", "UNCONN": "UNCONN", "TIME-WAIT": "TIME_WAIT",
		"CLOSE-WAIT": "CLOSE_WAIT", "SYN-SENT": "SYN_SENT", "SYN-RECV": "SYN_RECV", "FIN-WAIT-1": "FIN_WAIT1",
		"FIN-WAIT-2": "FIN_WAIT2", "LAST-ACK": "LAST_ACK", "CLOSING": "CLOSING"}
	pidRe := regexp.MustCompile(`pid=(\d+)`)
	var problems []string
	for attempt := 0; attempt < 5; attempt++ {
		problems = nil
		out, err := exec.Command("ss", "-H", "-tuanp").Output()
		if err != nil {
			t.Fatal(err)
		}
		snap := snapshot(t, src)
		ours := map[string][]sockets.Socket{}
		for _, s := range snap.Sockets {
			k := fmt.Sprintf("%s %s %s", s.Proto, ssEndpoint(s.Local, s.LPort, s.DualStack), ssEndpoint(s.Remote, s.RPort, s.DualStack))
			ours[k] = append(ours[k], s)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if len(f) < 6 || f[1] == "TIME-WAIT" {
				continue
			}
			k := fmt.Sprintf("%s %s %s", f[0], normSS(f[4]), normSS(f[5]))
			got := ours[k]
			if len(got) == 0 {
				problems = append(problems, "ss lists "+line)
				continue
			}
			want := ssStates[f[1]]
			state := false
			for _, s := range got {
				state = state || s.State == want
			}
			if !state {
				problems = append(problems, fmt.Sprintf("state of %s: ss %s", k, f[1]))
			}
			for _, m := range pidRe.FindAllStringSubmatch(line, -1) {
				pid, _ := strconv.Atoi(m[1])
				found := false
				for _, s := range got {
					found = found || hasOwner(s, pid)
				}
				if !found {
					problems = append(problems, fmt.Sprintf("ss names pid %d on %s", pid, k))
				}
			}
		}
		if len(problems) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("portwatch and ss disagree:\n%s", strings.Join(problems, "\n"))
}

// ssEndpoint writes an endpoint as ss does: "*" for a dual-stack wildcard,
// brackets for IPv6, "*" for port 0.
func ssEndpoint(a netip.Addr, port uint16, dual bool) string {
	host := a.String()
	if dual {
		host = "*"
	} else if a.Is6() {
		host = "[" + host + "]"
	}
	p := strconv.Itoa(int(port))
	if port == 0 {
		p = "*"
	}
	return host + ":" + p
}

// normSS drops the interface ("%lo") and unmaps "[::ffff:1.2.3.4]".
func normSS(ep string) string {
	i := strings.LastIndexByte(ep, ':')
	host, port := ep[:i], ep[i+1:]
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
		if strings.HasPrefix(host, "[") {
			host += "]"
		}
	}
	if strings.HasPrefix(host, "[::ffff:") && strings.Count(host, ".") == 3 {
		host = strings.TrimSuffix(strings.TrimPrefix(host, "[::ffff:"), "]")
	}
	if host == "0.0.0.0" && port == "*" || host == "[::]" && port == "*" {
		return host + ":*"
	}
	return host + ":" + port
}

// TestNetlinkKnowsV6Only: netlink tells a dual-stack listener from one with
// IPV6_V6ONLY set; /proc/net cannot.
func TestNetlinkKnowsV6Only(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	fd, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	defer syscall.Close(fd)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_V6ONLY, 1)
	if err := syscall.Bind(fd, &syscall.SockaddrInet6{}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	port := uint16(sa.(*syscall.SockaddrInet6).Port)
	dual, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	snap := snapshot(t, NewLive())
	v6only := findOne(t, snap, sockets.TCP, netip.AddrPortFrom(netip.IPv6Unspecified(), port), netip.AddrPort{})
	both := findOne(t, snap, sockets.TCP, addrPort(t, dual.Addr()), netip.AddrPort{})
	if v6only.DualStack || !both.DualStack {
		t.Errorf("v6only listener dual=%v, default listener dual=%v; want false, true", v6only.DualStack, both.DualStack)
	}
}

// TestOwnerIndexWalksOnlyWhatChanged: in a steady state a poll reads no
// descriptors at all; a new socket of a known process, or a new process,
// is found at once.
func TestOwnerIndexWalksOnlyWhatChanged(t *testing.T) {
	src := newLive("/proc", MethodProcfs)
	ln := listenTCP(t, "127.0.0.1:0")
	snap := snapshot(t, src)
	// The same processes and sockets again: nothing is read. (Fed by hand:
	// other tests open sockets meanwhile, and that must not matter here.)
	pids, err := listPIDs("/proc")
	if err != nil {
		t.Fatal(err)
	}
	src.index.update(pids, snap.Sockets, time.Now())
	walks, full := src.index.pidWalks, src.index.fullWalks
	src.index.update(pids, snap.Sockets, time.Now())
	if src.index.pidWalks != walks || src.index.fullWalks != full {
		t.Errorf("a poll with nothing new read %d processes", src.index.pidWalks-walks)
	}
	ln2 := listenTCP(t, "127.0.0.1:0")
	s := findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln2.Addr()), netip.AddrPort{})
	if !hasOwner(s, os.Getpid()) {
		t.Errorf("a new socket of a known process has owners %v", s.Owners)
	}
	child := startChildHolding(t, ln)
	s = findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if !hasOwner(s, child.Process.Pid) {
		t.Errorf("a new process holding a known socket is not an owner: %v", s.Owners)
	}
	child.Process.Kill()
	child.Wait()
	s = findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if hasOwner(s, child.Process.Pid) {
		t.Error("an exited process is still an owner")
	}
}

// netlinkWorks: can this process use sock_diag here?
func netlinkWorks() bool {
	_, err := newNetlinkLister().list(nil, false)
	return err == nil
}

// TestBothTCPRequestsListTheSameSockets: the original TCP request, which
// lists both families in one walk, and one request per family give the same
// sockets, IPv6 ones included.
func TestBothTCPRequestsListTheSameSockets(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	t.Cleanup(func() { l6.Close() })
	openVariety(t)
	keys := func(l *netlinkLister) []string {
		socks, err := l.list(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range socks {
			if s.State != sockets.StateTimeWait {
				out = append(out, comparable(s))
			}
		}
		slices.Sort(out)
		return out
	}
	var diff []string
	for attempt := 0; attempt < 5; attempt++ {
		combined, split := newNetlinkLister(), newNetlinkLister()
		split.splitTCP = true
		a, b := keys(combined), keys(split)
		if combined.splitTCP {
			t.Skip("this kernel refuses the original TCP request")
		}
		own := fmt.Sprintf("tcp6 ::1:%d", addrPort(t, l6.Addr()).Port())
		if !slices.ContainsFunc(a, func(k string) bool { return strings.HasPrefix(k, own+" ") }) {
			t.Fatalf("the combined request misses our IPv6 listener %s", own)
		}
		if diff = symmetricDiff(a, b); len(diff) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond) // another program's sockets moved meanwhile
	}
	t.Errorf("the combined and per-family requests differ:\n%s", strings.Join(diff, "\n"))
}

// TestNetlinkBufferTooSmallIsEnlarged: a datagram larger than the buffer is
// noticed, not cut short, and the dump is redone whole.
func TestNetlinkBufferTooSmallIsEnlarged(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	ln := listenTCP(t, "127.0.0.1:0")
	for range 20 { // enough sockets for a datagram over 256 bytes
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	l := newNetlinkLister()
	l.buf = make([]byte, 256)
	socks, err := l.list(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.buf) <= 256 {
		t.Errorf("the buffer was not enlarged (%d bytes)", len(l.buf))
	}
	want := addrPort(t, ln.Addr())
	n := 0
	for _, s := range socks {
		if s.LPort == want.Port() && s.Local == want.Addr() && s.State == sockets.StateEstablished {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d of our 20 accepted connections listed, want all", n)
	}
}

// TestRecycledSnapshotIsRefilled: a snapshot handed back is the next poll's
// array, and that poll is as complete as any.
func TestRecycledSnapshotIsRefilled(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	ln := listenTCP(t, "127.0.0.1:0")
	src := NewLive()
	first := snapshot(t, src)
	array := &first.Sockets[:1][0]
	src.Recycle(first)
	if first.Sockets != nil {
		t.Error("Recycle left the snapshot holding its sockets")
	}
	second := snapshot(t, src)
	if &second.Sockets[:1][0] != array {
		t.Error("the next poll did not reuse the recycled array")
	}
	s := findOne(t, second, sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if !hasOwner(s, os.Getpid()) {
		t.Errorf("our listener in the refilled snapshot has owners %v", s.Owners)
	}
}

// TestOwnerIndexSharedSockets: a socket held by two processes lists both,
// lowest pid first, and loses each as it exits.
func TestOwnerIndexSharedSockets(t *testing.T) {
	ix := newOwnerIndex("/nonexistent")
	ix.ofPID = map[int32][]uint64{10: {1, 2}, 5: {1}}
	ix.add(1, 10)
	ix.add(2, 10)
	ix.add(1, 5)
	ix.add(1, 5) // a second descriptor of the same socket
	var one [1]int32
	if got := ix.owners(1, &one); !slices.Equal(got, []int32{5, 10}) {
		t.Errorf("shared socket owners %v, want [5 10]", got)
	}
	if got := ix.owners(2, &one); !slices.Equal(got, []int32{10}) {
		t.Errorf("single owner %v, want [10]", got)
	}
	ix.forget(5)
	if got := ix.owners(1, &one); !slices.Equal(got, []int32{10}) || len(ix.shared) != 0 {
		t.Errorf("after pid 5 exits: owners %v, shared %v; want [10] and none", got, ix.shared)
	}
	ix.forget(10)
	if ix.owned(1) || ix.owned(2) || ix.owners(1, &one) != nil {
		t.Error("sockets of exited processes still have owners")
	}
}

// TestRefusedCombinedRequestFallsBackPerFamily: a kernel that refuses the
// original TCP request is asked once per family instead, and every socket
// is still listed.
func TestRefusedCombinedRequestFallsBackPerFamily(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	ln := listenTCP(t, "127.0.0.1:0")
	l := newNetlinkLister()
	l.combinedType = 0x7e // no such request: the kernel answers EINVAL
	socks, err := l.list(nil, false)
	if err != nil {
		t.Fatalf("the fallback failed: %v", err)
	}
	if !l.splitTCP {
		t.Error("the lister did not switch to one request per family")
	}
	want := addrPort(t, ln.Addr())
	if !slices.ContainsFunc(socks, func(s sockets.Socket) bool { return s.LPort == want.Port() && s.Local == want.Addr() }) {
		t.Errorf("our listener %v is missing after the fallback", want)
	}
}
