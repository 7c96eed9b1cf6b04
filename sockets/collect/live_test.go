//go:build linux

package collect

import (
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
)

func TestLoopbackListenerHasOurPidNameAndUser(t *testing.T) {
	ln := listenTCP(t, "127.0.0.1:0")
	snap := snapshot(t, NewLive())
	s := findOne(t, snap, sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})

	if s.State != sockets.StateListen || !s.IsListening() {
		t.Errorf("state %q, kind %v; want LISTEN, listening", s.State, s.Kind())
	}
	if s.Family != 4 || s.Exposure() != sockets.ExposureLoopback {
		t.Errorf("family %d exposure %q; want 4, loopback", s.Family, s.Exposure())
	}
	if s.OwnerStatus != sockets.OwnerKnown || !hasOwner(s, os.Getpid()) {
		t.Fatalf("owners %v (%s); want pid %d", s.Owners, s.OwnerStatus, os.Getpid())
	}
	p := s.Process()
	if p.Name != selfName(t) {
		t.Errorf("process name %q, want %q", p.Name, selfName(t))
	}
	me, _ := user.Current()
	if p.User != me.Username || strconv.Itoa(int(p.UID)) != me.Uid {
		t.Errorf("user %q uid %d, want %q %s", p.User, p.UID, me.Username, me.Uid)
	}
	if exe, _ := os.Executable(); p.Exe != exe {
		t.Errorf("exe %q, want %q", p.Exe, exe)
	}
	if p.PPID != int32(os.Getppid()) {
		t.Errorf("ppid %d, want %d", p.PPID, os.Getppid())
	}
	if p.Started.IsZero() || p.Started.After(time.Now()) {
		t.Errorf("start time %v", p.Started)
	}
}

func TestWildcardListenerIsExposedOnAllInterfaces(t *testing.T) {
	ln := listenTCP(t, "0.0.0.0:0")
	s := findOne(t, snapshot(t, NewLive()), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if s.Exposure() != sockets.ExposureAll {
		t.Errorf("exposure %q, want all interfaces", s.Exposure())
	}
	if s.DualStack {
		t.Errorf("an IPv4 listener is marked dual-stack")
	}
}

func TestConnectionIsInboundAndOutboundThenRemoved(t *testing.T) {
	p := sockettest.LoopbackPair(t)
	client, server := p.Client, p.Server
	src := NewLive()
	before := snapshot(t, src)
	cl, sv := p.ClientAddr(), p.ServerAddr()
	out := findOne(t, before, sockets.TCP, cl, sv)
	in := findOne(t, before, sockets.TCP, sv, cl)
	for _, c := range []struct {
		s   sockets.Socket
		dir sockets.Direction
	}{{out, sockets.Outbound}, {in, sockets.Inbound}} {
		if c.s.Kind() != sockets.KindEstablished || c.s.Direction != c.dir {
			t.Errorf("%s: kind %v direction %q, want established %q", c.s.Key(), c.s.Kind(), c.s.Direction, c.dir)
		}
		if !hasOwner(c.s, os.Getpid()) {
			t.Errorf("%s: owners %v, want our pid", c.s.Key(), c.s.Owners)
		}
	}

	// A zero linger closes with a reset: no TIME_WAIT remnant stays behind.
	client.SetLinger(0)
	server.SetLinger(0)
	client.Close()
	server.Close()
	after := snapshot(t, src)
	for _, gone := range []sockets.Socket{out, in} {
		if containsKey(after.Sockets, gone.Key()) {
			t.Errorf("%s is still listed after both ends closed", gone.Key())
		}
	}
}

func containsKey(socks []sockets.Socket, key sockets.SocketKey) bool {
	for _, s := range socks {
		if s.Key() == key {
			return true
		}
	}
	return false
}

// TestUDPSocketIsListening: an unconnected UDP socket is a listener, in
// state UNCONN, owned by this process, in every path of portwatch and in
// `ss -uanp`. It is recognised by its inode: another program's socket on
// the same port (SO_REUSEADDR, SO_REUSEPORT) is no concern of the test.
func TestUDPSocketIsListening(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	own := &ownSockets{}
	own.addConn(t, "udp4 unconnected", pc.(*net.UDPConn), sockets.StateUnconnected)
	var views []pathView
	own.compare(t, "portwatch's paths and ss", func() ([]pathView, ssListing) {
		listing, _ := runSS(t) // none without ss: the paths are still compared
		views = own.pathViews(t)
		return views, listing
	})
	for _, v := range views {
		for _, s := range v.of["udp4 unconnected"] {
			if !s.IsListening() {
				t.Errorf("%s: the udp socket is %v, not listening", v.path, s.Kind())
			}
		}
	}
}

func TestIPv6LoopbackListener(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	defer ln.Close()
	s := findOne(t, snapshot(t, NewLive()), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if s.Family != 6 || s.Exposure() != sockets.ExposureLoopback || s.DualStack {
		t.Errorf("family %d exposure %q dual %v; want 6, loopback, not dual-stack", s.Family, s.Exposure(), s.DualStack)
	}
}

func TestDualStackListenerIsMarked(t *testing.T) {
	if readSysctl("/proc/sys/net/ipv6/bindv6only") == "1" {
		t.Skip("net.ipv6.bindv6only=1: IPv6 wildcard listeners are IPv6 only here")
	}
	ln, err := net.Listen("tcp", "[::]:0")
	if err != nil {
		t.Skipf("no IPv6 here: %v", err)
	}
	defer ln.Close()
	s := findOne(t, snapshot(t, NewLive()), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if s.Family != 6 || !s.DualStack || s.Exposure() != sockets.ExposureAll {
		t.Errorf("family %d dual %v exposure %q; want 6, dual-stack, all interfaces", s.Family, s.DualStack, s.Exposure())
	}
}

func TestReusePortListenersAreTwoSockets(t *testing.T) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf /* SO_REUSEPORT */, 1)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	a, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := lc.Listen(t.Context(), "tcp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := find(snapshot(t, NewLive()), sockets.TCP, addrPort(t, a.Addr()), netip.AddrPort{})
	if len(got) != 2 {
		t.Fatalf("found %d sockets on %v, want 2 SO_REUSEPORT listeners", len(got), a.Addr())
	}
	if got[0].Key() == got[1].Key() {
		t.Errorf("both listeners have key %q", got[0].Key())
	}
}

// startChildHolding starts `sleep` with the listener's descriptor inherited.
func startChildHolding(t *testing.T, ln net.Listener) *exec.Cmd {
	t.Helper()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command("sleep", "60")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

func TestInheritedListenerListsEveryOwnerAndChildExitLeavesNoStaleName(t *testing.T) {
	ln := listenTCP(t, "127.0.0.1:0")
	child := startChildHolding(t, ln)
	src := NewLive()
	s := findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if !hasOwner(s, os.Getpid()) || !hasOwner(s, child.Process.Pid) {
		t.Fatalf("owners %v, want our pid %d and the child's %d", s.Owners, os.Getpid(), child.Process.Pid)
	}
	for _, p := range s.Owners {
		if int(p.PID) == child.Process.Pid && p.Name != "sleep" {
			t.Errorf("child name %q, want sleep", p.Name)
		}
	}

	child.Process.Kill()
	child.Wait()
	s = findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
	if hasOwner(s, child.Process.Pid) {
		t.Errorf("the exited child %d is still an owner", child.Process.Pid)
	}
	for _, p := range s.Owners {
		if p.Name == "sleep" {
			t.Errorf("stale process name sleep on pid %d", p.PID)
		}
	}
}

func TestProcessCacheReadsAnUnchangedProcessOnce(t *testing.T) {
	ln := listenTCP(t, "127.0.0.1:0")
	src := NewLive()
	reads := map[int32]int{}
	src.procs.onLoad = func(pid int32) { reads[pid]++ }
	for i := 0; i < 3; i++ {
		s := findOne(t, snapshot(t, src), sockets.TCP, addrPort(t, ln.Addr()), netip.AddrPort{})
		if !hasOwner(s, os.Getpid()) {
			t.Fatalf("poll %d: our pid missing from %v", i, s.Owners)
		}
	}
	if n := reads[int32(os.Getpid())]; n != 1 {
		t.Errorf("our process was read %d times in 3 polls, want 1", n)
	}
}

// TestSocketInodesListsSocketsOnly: a process's socket descriptors are
// found by inode; its pipes and files are not
func TestSocketInodesListsSocketsOnly(t *testing.T) {
	ln := listenTCP(t, "127.0.0.1:0")
	raw, err := ln.(*net.TCPListener).File() // a second descriptor of the socket
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	inodeOf := func(f *os.File) uint64 {
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	got, err := socketInodes("/proc", int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if n := countOf(got, inodeOf(raw)); n != 2 {
		t.Errorf("our listener's inode appears %d times, want 2 (two descriptors)", n)
	}
	if countOf(got, inodeOf(r)) != 0 || countOf(got, inodeOf(w)) != 0 {
		t.Error("a pipe was taken for a socket")
	}
	// Each at its own descriptor, which stillHolds confirms.
	for _, h := range got {
		if h.ino == inodeOf(raw) && (h.fd < 0 || !stillHolds("/proc", int32(os.Getpid()), h.fd, h.ino)) {
			t.Errorf("descriptor %d of inode %d is not confirmed", h.fd, h.ino)
		}
	}
	if fd := int32(raw.Fd()); stillHolds("/proc", int32(os.Getpid()), fd, inodeOf(r)) {
		t.Error("a descriptor was said to hold another socket than its own")
	}
}

func countOf(list []heldSocket, x uint64) int {
	n := 0
	for _, v := range list {
		if v.ino == x {
			n++
		}
	}
	return n
}
