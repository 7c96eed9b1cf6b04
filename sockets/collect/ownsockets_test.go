//go:build linux

package collect

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"golang.org/x/sys/unix"
)

// The tests that compare portwatch's paths with one another, with ss or
// with gopsutil look only at sockets they made themselves, each recognised
// by its inode (a TIME_WAIT remnant, which has none, by its endpoints):
// what other programs open and close meanwhile on a busy machine is never
// compared. (It can still tear the kernel's listing of the test's own
// sockets: see disagreement.) They fail when one of the test's sockets is
// missing from a listing, or listed with another state or other owners.

// ownSocket is one socket a test made, and what every listing must say of it.
type ownSocket struct {
	name  string // for messages: "tcp4 listener"
	proto sockets.Proto
	inode uint64 // 0 for a TIME_WAIT remnant
	// local and remote are the endpoints; remote is the zero AddrPort for
	// a socket with no peer.
	local, remote netip.AddrPort
	// want is the state it must be listed in.
	want string
	// maybe marks a socket whose presence ss decides (the CLOSE-state
	// ones): every path must list it if and only if ss does.
	maybe bool
	// pids must all be among its owners.
	pids []int
}

// ownSockets is the set of sockets a test made.
type ownSockets struct {
	list []ownSocket
}

func (o *ownSockets) add(x ownSocket) { o.list = append(o.list, x) }

// openOwnSockets opens one socket of each kind on loopback, all held by
// this process: TCP listeners and connections over IPv4 and IPv6 (one
// listener shared with a child process), a dual-stack listener with an
// IPv4 client, UDP sockets unconnected and connected, a TIME_WAIT remnant
// and the TCP sockets in CLOSE state of addCloseState.
func openOwnSockets(t *testing.T) *ownSockets {
	t.Helper()
	o := &ownSockets{}
	me := os.Getpid()

	ln4 := listenTCP(t, "127.0.0.1:0")
	o.addListener(t, "tcp4 listener shared with a child", ln4, me, startChildHolding(t, ln4).Process.Pid)
	c, s := dialAccept(t, "tcp4", ln4)
	o.addConn(t, "tcp4 client", c, sockets.StateEstablished)
	o.addConn(t, "tcp4 accepted", s, sockets.StateEstablished)
	o.addTimeWait(t, ln4)

	if ln6, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Logf("no IPv6 loopback here, no IPv6 sockets compared: %v", err)
	} else {
		t.Cleanup(func() { ln6.Close() })
		o.addListener(t, "tcp6 listener", ln6, me)
		c, s := dialAccept(t, "tcp6", ln6)
		o.addConn(t, "tcp6 client", c, sockets.StateEstablished)
		o.addConn(t, "tcp6 accepted", s, sockets.StateEstablished)
	}

	// With net.ipv6.bindv6only=1 only netlink knows that Go's [::]
	// listeners take IPv4 too (Go clears IPV6_V6ONLY): the /proc path
	// guesses from the sysctl, and the paths would differ by design.
	if readSysctl("/proc/sys/net/ipv6/bindv6only") == "1" {
		t.Log("net.ipv6.bindv6only=1: no dual-stack sockets compared")
	} else if lnd, err := net.Listen("tcp", "[::]:0"); err != nil {
		t.Logf("no IPv6 here, no dual-stack sockets compared: %v", err)
	} else {
		t.Cleanup(func() { lnd.Close() })
		o.addListener(t, "dual-stack listener", lnd, me)
		c, s := dialAccept(t, "tcp4", lnd) // accepted as ::ffff:127.0.0.1
		o.addConn(t, "tcp4 client of the dual-stack listener", c, sockets.StateEstablished)
		o.addConn(t, "v4-mapped connection accepted by the dual-stack listener", s, sockets.StateEstablished)
		if pc, err := net.ListenPacket("udp", "[::]:0"); err == nil {
			t.Cleanup(func() { pc.Close() })
			o.addConn(t, "dual-stack udp socket", pc.(*net.UDPConn), sockets.StateUnconnected)
		}
	}

	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	o.addConn(t, "udp4 unconnected", pc.(*net.UDPConn), sockets.StateUnconnected)
	uc, err := net.DialUDP("udp4", nil, pc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { uc.Close() })
	o.addConn(t, "udp4 connected", uc, sockets.StateEstablished)

	o.addCloseState(t)
	return o
}

// addListener records a TCP listener held by pids.
func (o *ownSockets) addListener(t *testing.T, name string, ln net.Listener, pids ...int) {
	t.Helper()
	o.add(ownSocket{name: name, proto: sockets.TCP, inode: connInode(t, ln.(syscall.Conn)),
		local: addrPort(t, ln.Addr()), want: sockets.StateListen, pids: pids})
}

// endpointsConn is what addConn needs of a net.Conn or a net.UDPConn.
type endpointsConn interface {
	syscall.Conn
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}

// addConn records a connection, or a UDP socket (connected or not), held
// by this process.
func (o *ownSockets) addConn(t *testing.T, name string, c endpointsConn, want string) {
	t.Helper()
	x := ownSocket{name: name, proto: sockets.TCP, inode: connInode(t, c), local: addrPort(t, c.LocalAddr()),
		want: want, pids: []int{os.Getpid()}}
	if _, udp := c.LocalAddr().(*net.UDPAddr); udp {
		x.proto = sockets.UDP
	}
	if c.RemoteAddr() != nil {
		x.remote = addrPort(t, c.RemoteAddr())
	}
	o.add(x)
}

// dialAccept connects to ln over network (at 127.0.0.1 or ::1) and
// accepts: both ends stay open until the test ends.
func dialAccept(t *testing.T, network string, ln net.Listener) (client, server *net.TCPConn) {
	t.Helper()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	host := "127.0.0.1"
	if network == "tcp6" {
		host = "::1"
	}
	return sockettest.ConnectTo(t, ln, network, net.JoinHostPort(host, port))
}

// addTimeWait leaves a TIME_WAIT remnant of a connection to ln: the client
// closes first, the server closes once it has read that, and the client's
// end waits out its TIME_WAIT (a minute) with neither inode nor owner. It
// records it once /proc shows it settled, or logs why there is none (a
// kernel can be told to keep no TIME_WAIT sockets at all).
func (o *ownSockets) addTimeWait(t *testing.T, ln net.Listener) {
	t.Helper()
	c, s := dialAccept(t, "tcp4", ln)
	local, remote := addrPort(t, c.LocalAddr()), addrPort(t, c.RemoteAddr())
	c.Close()
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the server did not see the client's close: %v", err)
	}
	s.Close()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		socks, err := readProcNet("/proc/self/net", false)
		if err != nil {
			t.Fatal(err)
		}
		client, server := "", ""
		for _, x := range socks {
			switch {
			case x.Proto != sockets.TCP:
			case netip.AddrPortFrom(x.Local, x.LPort) == local && netip.AddrPortFrom(x.Remote, x.RPort) == remote:
				client = x.State
			case netip.AddrPortFrom(x.Local, x.LPort) == remote && netip.AddrPortFrom(x.Remote, x.RPort) == local:
				server = x.State
			}
		}
		if client == sockets.StateTimeWait && server == "" {
			o.add(ownSocket{name: "tcp4 TIME_WAIT remnant", proto: sockets.TCP, local: local, remote: remote, want: sockets.StateTimeWait})
			return
		}
	}
	t.Log("no TIME_WAIT remnant appeared: none compared")
}

// addCloseState makes the TCP sockets that are in CLOSE state while a
// process holds them, with the system calls themselves (net closes a
// socket whose connect() fails, and cannot bind without listening):
//   - bound, never listened nor connected (IPv4 and IPv6);
//   - connect() refused, the port chosen by connect(): the kernel takes the
//     port back at the refusal;
//   - bound to a chosen port, then connect() refused: the port stays bound.
//
// Which of them ss lists is what the test finds out; every path must agree.
func (o *ownSockets) addCloseState(t *testing.T) {
	t.Helper()
	bound := rawTCP(t, unix.AF_INET)
	if err := unix.Bind(bound, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	target := sockname(t, bound)
	o.addRaw(t, "tcp4 bound, not listening", bound, netip.AddrPort{})
	if bound6, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err == nil {
		t.Cleanup(func() { unix.Close(bound6) })
		if unix.Bind(bound6, &unix.SockaddrInet6{Addr: netip.IPv6Loopback().As16()}) == nil {
			o.addRaw(t, "tcp6 bound, not listening", bound6, netip.AddrPort{})
		}
	}

	// Nobody listens on target's port, and nobody else can bind it while
	// the bound socket holds it: connect() is refused at once.
	refused := rawTCP(t, unix.AF_INET)
	connectRefused(t, refused, target)
	o.addRaw(t, "tcp4 connect() refused", refused, target)

	chosen := rawTCP(t, unix.AF_INET)
	bindChosenPort(t, chosen)
	connectRefused(t, chosen, target)
	o.addRaw(t, "tcp4 bound to a chosen port, connect() refused", chosen, target)
}

// rawTCP opens a TCP socket, closed when the test ends. It is
// close-on-exec, as Go's own are: a child process (sleep, ss) must not
// hold it, or it would have an owner more.
func rawTCP(t *testing.T, family int) int {
	t.Helper()
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

func (o *ownSockets) addRaw(t *testing.T, name string, fd int, remote netip.AddrPort) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	o.add(ownSocket{name: name, proto: sockets.TCP, inode: st.Ino, local: sockname(t, fd), remote: remote,
		want: "CLOSE", maybe: true, pids: []int{os.Getpid()}})
}

func connectRefused(t *testing.T, fd int, to netip.AddrPort) {
	t.Helper()
	err := unix.Connect(fd, &unix.SockaddrInet4{Addr: to.Addr().As4(), Port: int(to.Port())})
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("connect to %v, where nobody listens: %v, want ECONNREFUSED", to, err)
	}
}

// bindChosenPort binds fd to a port named in the call, as a server does,
// rather than to port 0: the kernel then keeps the port bound when a
// connect() fails. The port is one the kernel just gave out and took back;
// another program may take it meanwhile, hence the retries.
func bindChosenPort(t *testing.T, fd int) {
	t.Helper()
	for range 10 {
		probe, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		err = unix.Bind(probe, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
		port := 0
		if sa, ok := getsockname(probe).(*unix.SockaddrInet4); ok && err == nil {
			port = sa.Port
		}
		unix.Close(probe)
		if port != 0 && unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}) == nil {
			return
		}
	}
	t.Fatal("found no free port to bind to")
}

func getsockname(fd int) unix.Sockaddr {
	sa, _ := unix.Getsockname(fd)
	return sa
}

// sockname is a raw socket's local endpoint.
func sockname(t *testing.T, fd int) netip.AddrPort {
	t.Helper()
	switch sa := getsockname(fd).(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), uint16(sa.Port))
	}
	t.Fatalf("no local address for descriptor %d", fd)
	return netip.AddrPort{}
}

// connInode is the inode of a Go socket: what sock_diag, /proc/net and
// ss -e report as the socket's inode.
func connInode(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Fstat(int(fd), &st) }); err != nil {
		t.Fatal(err)
	}
	if serr != nil {
		t.Fatal(serr)
	}
	return st.Ino
}

// match names the own socket that a listed socket is, if it is one: a
// socket with an inode by its inode, a TIME_WAIT remnant by its endpoints.
func (o *ownSockets) match(proto sockets.Proto, inode uint64, local, remote string) (string, bool) {
	for _, x := range o.list {
		if x.proto != proto {
			continue
		}
		if inode != 0 && x.inode == inode {
			return x.name, true
		}
		if inode == 0 && x.inode == 0 && local == ssEndpoint(x.local.Addr(), x.local.Port(), false) &&
			remote == ssEndpoint(x.remote.Addr(), x.remote.Port(), false) {
			return x.name, true
		}
	}
	return "", false
}

// ports are the local ports of the sockets the test holds (TIME_WAIT
// remnants, which no process holds, aside).
func (o *ownSockets) ports() map[uint16]bool {
	ports := map[uint16]bool{}
	for _, x := range o.list {
		if x.inode != 0 && x.local.Port() != 0 {
			ports[x.local.Port()] = true
		}
	}
	return ports
}

// pathView is what one of portwatch's paths lists of the test's sockets:
// for each own socket by name, the sockets listed as it (none if absent).
type pathView struct {
	path   string
	owners bool // a snapshot with owners, not a bare sock_diag listing
	of     map[string][]sockets.Socket
}

// pick finds the test's sockets in a listing: portwatch's own network
// namespace only (a bare sock_diag listing has no label).
func (o *ownSockets) pick(path string, socks []sockets.Socket, owners bool) pathView {
	v := pathView{path: path, owners: owners, of: map[string][]sockets.Socket{}}
	for _, s := range socks {
		if s.Netns != "" && s.Netns != sockets.HostNetns {
			continue
		}
		if name, ok := o.match(s.Proto, s.Inode, ssEndpoint(s.Local, s.LPort, false), ssEndpoint(s.Remote, s.RPort, false)); ok {
			v.of[name] = append(v.of[name], s)
		}
	}
	return v
}

// pathViews takes a snapshot with each of portwatch's paths: netlink (when
// this process may use it, polled until its owner map is kept between
// polls), /proc/net, and the reference walk of every descriptor.
func (o *ownSockets) pathViews(t *testing.T) []pathView {
	t.Helper()
	var views []pathView
	if netlinkWorks() {
		fast := NewLive()
		if fast.Method() != MethodNetlink {
			t.Fatalf("method %s, want netlink", fast.Method())
		}
		snapshot(t, fast) // the first poll walks every process; the next keeps the map
		views = append(views, o.pick(MethodNetlink, snapshot(t, fast).Sockets, true))
	} else {
		t.Log("netlink sock_diag is not available here: only /proc compared")
	}
	views = append(views,
		o.pick(MethodProcfs, snapshot(t, newLive("/proc", MethodProcfs)).Sockets, true),
		o.pick(MethodReference, snapshot(t, NewReference()).Sockets, true))
	return views
}

// describe is everything a path says of a socket. Two paths that list the
// same socket must describe it alike.
func describe(socks []sockets.Socket, owners bool) string {
	if len(socks) == 0 {
		return "absent"
	}
	var out []string
	for _, s := range socks {
		d := fmt.Sprintf("%s%d %s -> %s %s ino=%d uid=%d dual=%v", s.Proto, s.Family, ssEndpoint(s.Local, s.LPort, false),
			ssEndpoint(s.Remote, s.RPort, false), s.State, s.Inode, s.UID, s.DualStack)
		if owners {
			d += fmt.Sprintf(" owners=%v %s", ownerPIDs(s), s.OwnerStatus)
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return strings.Join(out, " | ")
}

func ownerPIDs(s sockets.Socket) []int {
	var pids []int
	for _, p := range s.Owners {
		pids = append(pids, int(p.PID))
	}
	slices.Sort(pids)
	return pids
}

// A disagreement is one way two listings, or a listing and the test's
// expectations, differ about one of the test's sockets. count marks the
// kind that a torn read of the kernel's tables can cause: a socket listed
// twice, or not at all. /proc/net/tcp comes a page (some 27 sockets) per
// read() and sock_diag a datagram per recvmsg(); each resumes where the
// last stopped by bucket and position in the kernel's hash table, so a
// socket that another program adds or removes meanwhile in the same bucket
// as one of the test's shifts it by one place: measured here under churn,
// one whole read of /proc/net/tcp in 70 listed some socket twice. Such a
// read is taken again; any other disagreement is a fault at once.
type disagreement struct {
	text  string
	count bool
}

// disagreements lists every way the paths, ss (when listing is not nil)
// and the test's expectations differ about the test's own sockets.
func (o *ownSockets) disagreements(views []pathView, listing ssListing) []disagreement {
	var problems []disagreement
	add := func(count bool, format string, args ...any) {
		problems = append(problems, disagreement{fmt.Sprintf(format, args...), count})
	}
	for _, x := range o.list {
		first := views[0]
		got := first.of[x.name]
		for _, v := range views[1:] {
			if a, b := describe(got, first.owners && v.owners), describe(v.of[x.name], first.owners && v.owners); a != b {
				add(len(got) != len(v.of[x.name]), "%s: %s lists %s; %s lists %s", x.name, first.path, a, v.path, b)
			}
		}
		if listing != nil {
			theirs := listing.of(o, x.name)
			for _, v := range views {
				if a, b := sayAbsent(ssDescribe(v.of[x.name])), sayAbsent(theirs); a != b {
					add(len(v.of[x.name]) != len(theirs), "%s: %s lists %s; ss lists %s", x.name, v.path, a, b)
				}
			}
		}
		if len(got) == 0 && x.maybe {
			continue
		}
		if len(got) != 1 {
			add(true, "%s: %s lists %d sockets, want 1", x.name, first.path, len(got))
			continue
		}
		s := got[0]
		if s.State != x.want {
			add(false, "%s: %s says state %s, want %s", x.name, first.path, s.State, x.want)
		}
		if !first.owners {
			continue
		}
		for _, pid := range x.pids {
			if !hasOwner(s, pid) {
				add(false, "%s: %s gives owners %v, without pid %d", x.name, first.path, ownerPIDs(s), pid)
			}
		}
		if len(x.pids) == 0 && (len(s.Owners) != 0 || s.OwnerStatus != sockets.OwnerNone) {
			add(false, "%s: %s gives owners %v (%s), want none", x.name, first.path, ownerPIDs(s), s.OwnerStatus)
		}
	}
	return problems
}

// compare fails the test with every disagreement that list (which takes
// every listing anew) finds, one a line. Listings that differ only in how
// many times they list a socket are taken again, up to 5 times in all.
func (o *ownSockets) compare(t *testing.T, what string, list func() ([]pathView, ssListing)) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		problems := o.disagreements(list())
		if len(problems) == 0 {
			return
		}
		torn := !slices.ContainsFunc(problems, func(d disagreement) bool { return !d.count })
		if !torn || attempt == 5 {
			var lines []string
			for _, d := range problems {
				lines = append(lines, d.text)
			}
			t.Errorf("%s disagree about the test's own sockets (attempt %d):\n%s", what, attempt, strings.Join(lines, "\n"))
			return
		}
		t.Logf("attempt %d: a socket listed twice or missing, taken as a torn read: %s", attempt, problems[0].text)
	}
}

// String is the own socket as the test names it in logs.
func (x ownSocket) String() string {
	s := x.name + " (" + x.proto.String() + " " + x.local.String()
	if x.remote.IsValid() {
		s += " -> " + x.remote.String()
	}
	if x.inode != 0 {
		s += " ino " + strconv.FormatUint(x.inode, 10)
	}
	return s + ")"
}
