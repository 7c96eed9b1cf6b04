//go:build linux

package collect

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// TestFastPathMatchesReference: netlink, with the owner map kept between
// polls, and the /proc/net path list the test's own sockets exactly as the
// reference path does (every descriptor walked anew): the same sockets,
// states, inodes, uids and owners. The map is built before the sockets
// exist, so they are found as new sockets of a known process.
func TestFastPathMatchesReference(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	fast := NewLive()
	if fast.Method() != MethodNetlink {
		t.Fatalf("method %s, want netlink", fast.Method())
	}
	snapshot(t, fast)
	own := openOwnSockets(t)
	snapshot(t, fast) // finds the new sockets: a full walk
	own.compare(t, "portwatch's paths", func() ([]pathView, ssListing) {
		return []pathView{
			own.pick("netlink", snapshot(t, fast).Sockets, true), // the steady state: nothing walked
			own.pick("procfs", snapshot(t, newLive("/proc", MethodProcfs)).Sockets, true),
			own.pick("reference", snapshot(t, NewReference()).Sockets, true),
		}, nil
	})
}

// TestFastPathMatchesSS: for every socket the test made, each of
// portwatch's paths and `ss -tanp state all` / `ss -uanp state all` agree:
// listed or not, and if listed with the same endpoints, state, inode and
// owning pids.
func TestFastPathMatchesSS(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
	own := openOwnSockets(t)
	own.compare(t, "portwatch and ss", func() ([]pathView, ssListing) {
		listing, _ := runSS(t)
		return own.pathViews(t), listing
	})
}

// TestCloseStateSocketsAgreeWithSS: a TCP socket a process holds in CLOSE
// state (bound and nothing more, or whose connect() was refused) is listed
// by every path of portwatch if and only if `ss -tan state all` lists it,
// and then as CLOSE. On Linux 6.18 with iproute2 6.1, ss lists none of
// them: sock_diag and /proc/net list the sockets in the kernel's listening
// and connection tables, and these are in neither; only a request for the
// bound-inactive pseudo-state gets the bound ones, and portwatch does not
// ask for it (diagStates). A listener is the control: ss must list it, or
// the agreement on absence would prove nothing.
func TestCloseStateSocketsAgreeWithSS(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
	own := &ownSockets{}
	own.addListener(t, "control: tcp4 listener", listenTCP(t, "127.0.0.1:0"), os.Getpid())
	own.addCloseState(t)
	var listing ssListing
	own.compare(t, "portwatch and ss", func() ([]pathView, ssListing) {
		listing, _ = runSS(t)
		return own.pathViews(t), listing
	})
	if len(listing.of(own, own.list[0].name)) == 0 {
		t.Fatalf("ss does not list the control listener %v: its output was not read", own.list[0])
	}
	for _, x := range own.list[1:] {
		t.Logf("%v: ss lists %s", x, sayAbsent(listing.of(own, x.name)))
	}
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
	// Only this test's own listener: other programs' listeners come and go
	// (their owners are then read again, as they should be).
	mine := find(snap, sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	src.index.update(pids, mine, time.Now())
	walks, full := src.index.pidWalks, src.index.fullWalks
	src.index.update(pids, mine, time.Now())
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
// lists both families in one walk, and one request per family list the
// test's own sockets alike, IPv6 ones included.
func TestBothTCPRequestsListTheSameSockets(t *testing.T) {
	if !netlinkWorks() {
		t.Skip("netlink sock_diag is not available here")
	}
	l6, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	l6.Close()
	own := openOwnSockets(t)
	list := func(l *netlinkLister) []sockets.Socket {
		socks, err := l.list(nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return socks
	}
	own.compare(t, "the combined and per-family requests", func() ([]pathView, ssListing) {
		combined, split := newNetlinkLister(), newNetlinkLister()
		split.splitTCP = true
		a, b := list(combined), list(split)
		if combined.splitTCP {
			t.Skip("this kernel refuses the original TCP request")
		}
		return []pathView{own.pick("the combined request", a, false), own.pick("the per-family requests", b, false)}, nil
	})
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
	ix.ofPID = map[int32][]heldSocket{10: {{1, 3}, {2, 4}}, 5: {{1, 3}}}
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
