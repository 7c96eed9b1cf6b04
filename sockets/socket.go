package sockets

import (
	"bytes"
	"cmp"
	"net/netip"
	"strconv"
	"time"

	"github.com/portwatch/portwatch/sockets/reach"
)

// Proto is a transport protocol. It, OwnerStatus and Direction are bytes,
// not strings: a busy server has 60,000 sockets, and the monitor keeps a
// copy of each. Their text is what String and JSON give. (State stays a
// string: its values are shared constants, so a copy costs no memory.)
type Proto uint8

// The protocols portwatch lists.
const (
	TCP Proto = iota + 1
	UDP
)

func (p Proto) String() string {
	switch p {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	}
	return ""
}

// MarshalText gives "tcp" or "udp" in JSON.
func (p Proto) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UDP sockets have no TCP state; portwatch names theirs the way ss does.
const (
	StateUnconnected = "UNCONN"      // a bound UDP socket with no peer: it listens
	StateEstablished = "ESTABLISHED" // a TCP connection, or a UDP socket connect()ed to one peer
	StateListen      = "LISTEN"
	StateTimeWait    = "TIME_WAIT"
)

// OwnerStatus says what is known about the processes holding a socket.
type OwnerStatus uint8

const (
	// OwnerKnown: at least one owning process was found.
	OwnerKnown OwnerStatus = iota + 1
	// OwnerNone: no process owns the socket by nature (TIME_WAIT, a half-open
	// handshake the kernel holds for a listener).
	OwnerNone
	// OwnerHidden: another user's process holds it and portwatch, not being
	// root, may not look at that process's descriptors.
	OwnerHidden
	// OwnerOutside: no process in portwatch's view holds it, and every
	// process's descriptors were read (as root): its owner lives outside this
	// pid namespace (a container runtime, a sandbox).
	OwnerOutside
	// OwnerUnreadable: no process portwatch could read holds it, and the
	// descriptors of some processes could not be read (Socket.Unreadable
	// says whose and why): one of them may hold it. Root meets this too,
	// without CAP_SYS_PTRACE (a container's default) or under a security
	// module; a user meets it for a socket of its own uid that a process
	// of another uid holds.
	OwnerUnreadable
	// OwnerGone: the socket was listed but its owner exited while the poll
	// ran (and closed it, or is gone with it); the next poll looks again.
	OwnerGone
)

var ownerStatusText = [...]string{OwnerKnown: "known", OwnerNone: "none", OwnerHidden: "hidden", OwnerOutside: "outside",
	OwnerUnreadable: "unreadable", OwnerGone: "gone"}

func (o OwnerStatus) String() string {
	if int(o) < len(ownerStatusText) {
		return ownerStatusText[o]
	}
	return ""
}

// MarshalText gives the status's word in JSON.
func (o OwnerStatus) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnreadableProcess is a process whose descriptors portwatch could not
// read in a poll, and why.
type UnreadableProcess struct {
	PID int32
	// Reason is the system's word for the refusal: "permission denied"
	// (EACCES), "operation not permitted" (EPERM).
	Reason string
}

// UnreadableOwners lists the processes of one poll whose descriptors could
// not be read, lowest pid first: where a socket's owner is
// OwnerUnreadable, one of them may hold it. One list is shared by every
// socket of the poll (a pointer costs a socket 8 bytes, a list 24), and it
// is never changed once made.
type UnreadableOwners struct {
	Processes []UnreadableProcess
	// Ptrace: portwatch held CAP_SYS_PTRACE, so the reasons say what else
	// is in the way, and asking for it would not help.
	Ptrace bool
}

// Process is what portwatch knows about a process that holds sockets.
type Process struct {
	PID        int32
	PPID       int32
	Name       string
	Exe        string
	ExeDeleted bool
	Cmdline    string
	User       string
	UID        int32
	Started    time.Time
	// StartTicks is the start time in clock ticks since boot (field 22 of
	// /proc/PID/stat). A pid is reused; a pid with its start time is not:
	// together they name this process exactly, which a signal needs.
	StartTicks uint64
	Unit       string // systemd unit, from /proc/PID/cgroup
	// Identity is what was proven about the executable (sockets/pkgproof):
	// the package that installed it, or why that is not known. nil where
	// it was not checked.
	Identity *Identity
	// Stdio holds the socket inode behind each of descriptors 0, 1 and 2,
	// or 0 where that descriptor is no socket: a shell whose input and
	// output are a connection is a reverse shell.
	Stdio [3]uint64
}

// StdioOn lists which of descriptors 0-2 are the socket inode: "0, 1 and 2".
func (p *Process) StdioOn(inode uint64) []int {
	var fds []int
	for fd, ino := range p.Stdio {
		if inode != 0 && ino == inode {
			fds = append(fds, fd)
		}
	}
	return fds
}

// Socket is one TCP or UDP socket, IPv4 or IPv6, as seen in one poll. Its
// fields are ordered so that the small ones pack together.
type Socket struct {
	Local  netip.Addr
	Remote netip.Addr
	// State is the TCP state in gopsutil's words (LISTEN, ESTABLISHED,
	// TIME_WAIT, ...); for UDP, UNCONN or ESTABLISHED.
	State string
	// Owners lists every process holding the socket, lowest pid first.
	Owners []*Process
	// Netns labels the network namespace the socket lives in: "host" for
	// portwatch's own, an `ip netns` name, a container, or "netns:INODE".
	Netns      string
	NetnsInode uint64
	// User is the name of UID, the socket's owner as the kernel records it:
	// known without root, and shown when the process cannot be.
	User string
	// Unreadable is set when OwnerStatus is OwnerUnreadable: the processes
	// whose descriptors could not be read, one of which may hold the socket.
	Unreadable *UnreadableOwners
	// Inode identifies the socket in the kernel; 0 for TIME_WAIT remnants.
	Inode  uint64
	Family int // 4 or 6
	// UID is the socket's owner as the kernel records it, known without root.
	UID   uint32
	LPort uint16
	RPort uint16
	Proto Proto
	// BoundIf is the interface index the socket is bound to
	// (SO_BINDTODEVICE; `%lo` in ss), 0 for none. Index 1 is every
	// namespace's loopback device: such a socket is loopback only, whatever
	// its address (0.0.0.0%lo).
	BoundIf uint32
	// DualStack marks an IPv6 wildcard listener that accepts IPv4 too.
	DualStack bool
	// DualStackGuessed says DualStack (true or false) was not read from the
	// kernel but guessed from net.ipv6.bindv6only: the /proc/net tables do
	// not say whether a program set IPV6_V6ONLY, sock_diag does. Set on
	// IPv6 wildcard listeners read through /proc/net only, so an output can
	// say "probably dual-stack".
	DualStackGuessed bool
	OwnerStatus      OwnerStatus
	// Direction is set for connections: inbound or outbound.
	Direction Direction
	// Timer is the kernel timer running on the socket when it was listed
	// (TIME_WAIT's countdown, a retransmission, a zero-window probe,
	// keepalive), and Expires when it fires, in milliseconds after the
	// listing: for TIME_WAIT, the time left before the kernel lets it go.
	Timer   Timer
	Expires uint32
	// Traffic is a TCP connection's counters as the kernel keeps them,
	// read with the dump that lists it; nil where there are none: UDP,
	// listeners, TIME_WAIT remnants, and sockets read from /proc/net. A
	// pointer, so a socket without counters pays 8 bytes for them.
	Traffic *Traffic
}

// Timer is the kernel timer pending on a socket, in sock_diag's numbers
// (idiag_timer; /proc/net/tcp's "tr" column).
type Timer uint8

// The kernel's socket timers.
const (
	TimerNone Timer = iota
	// TimerRetransmit: data sent and not acknowledged; when it runs out the
	// kernel sends it again (also the tail loss probe).
	TimerRetransmit
	// TimerKeepalive: an idle connection is probed now and then.
	TimerKeepalive
	// TimerTimeWait: TIME_WAIT's countdown.
	TimerTimeWait
	// TimerZeroWindow: the peer advertised a zero receive window (it does
	// not read); the kernel probes it until it opens.
	TimerZeroWindow
)

var timerText = [...]string{TimerNone: "", TimerRetransmit: "retransmit", TimerKeepalive: "keepalive",
	TimerTimeWait: "time-wait", TimerZeroWindow: "zero-window probe"}

func (t Timer) String() string {
	if int(t) < len(timerText) {
		return timerText[t]
	}
	return "timer " + strconv.Itoa(int(t))
}

// TimeLeft is how long the socket's timer has to run, measured from the
// poll that listed it; 0 when no timer runs.
func (s *Socket) TimeLeft() time.Duration {
	if s.Timer == TimerNone {
		return 0
	}
	return time.Duration(s.Expires) * time.Millisecond
}

// Traffic is what the kernel counts for one TCP connection (struct
// tcp_info, and the queues of inet_diag_msg), as of one poll. It is never
// changed once made: polls and outputs share it, and an idle connection's
// counters may be the very same value from poll to poll. Counters run from
// the connection's start. The segment counters (tcpi_segs_out, segs_in)
// are left out on purpose: nothing reads them, and an idle connection's
// keep-alive probes move them, which made every idle connection a new
// value every few polls.
type Traffic struct {
	// BytesSent is the bytes the peer acknowledged (tcpi_bytes_acked, as
	// ss -i shows it): the data, and one for the SYN on the side that
	// opened the connection.
	BytesSent     uint64
	BytesReceived uint64 // bytes received (tcpi_bytes_received)
	// DeliveryRate is the kernel's estimate of the rate of the last
	// delivery, in bytes per second (tcpi_delivery_rate): the speed of the
	// path when the sender last had data, not a running average.
	DeliveryRate uint64
	// Retransmits counts the segments sent again over the connection's
	// life (tcpi_total_retrans).
	Retransmits uint32
	RTT         uint32 // smoothed round-trip time, microseconds
	RTTVar      uint32 // its variation, microseconds
	// SendQueue is the bytes written by the program and not yet
	// acknowledged by the peer; RecvQueue the bytes received and not yet
	// read by the program.
	SendQueue uint32
	RecvQueue uint32
	// SendWindow is the receive window the peer last advertised
	// (tcpi_snd_wnd), where the kernel reports it (WindowKnown): 0 means
	// the peer's buffer is full.
	SendWindow  uint32
	WindowKnown bool
}

// Health is what a connection's counters say over several polls, as flags
// (sockets/traffic judges them, sockets/assess explains them). It is a
// state, not a measure: it changes when the connection starts or stops
// misbehaving, not with every byte.
type Health uint8

// The health flags of a connection.
const (
	// HealthRetransmits: the retransmit counter keeps climbing.
	HealthRetransmits Health = 1 << iota
	// HealthSendStuck: data waits in the send queue and the peer has
	// acknowledged none of it for a while.
	HealthSendStuck
	// HealthZeroWindow, with HealthSendStuck: the peer's receive window is
	// zero: it does not read what it is sent.
	HealthZeroWindow
)

// RTTMillis is the smoothed round-trip time in milliseconds.
func (t *Traffic) RTTMillis() float64 { return float64(t.RTT) / 1000 }

// HostNetns labels the network namespace portwatch itself runs in.
const HostNetns = "host"

// Snapshot is every socket of the machine at one moment. It holds facts
// only: the sentences that explain them belong to each output.
type Snapshot struct {
	Taken   time.Time
	Took    time.Duration
	Sockets []Socket
	Root    bool
	Method  string // how sockets were listed: "netlink" or "procfs"
	// Counters says the TCP connections of portwatch's namespace come with
	// the kernel's counters (Socket.Traffic): sock_diag was asked for them.
	Counters bool
	// Hidden counts sockets whose owner is another user's process that
	// portwatch, not being root, may not inspect.
	Hidden int
	// NetnsSkipped counts processes whose network namespace could not be
	// read (not root), so sockets of other namespaces may be missing.
	NetnsSkipped int
	// Unreadable lists the processes whose descriptors could not be read in
	// this poll, and why (nil when every one was read): the sockets whose
	// owner is OwnerUnreadable point to the same list.
	Unreadable *UnreadableOwners
	// Firewalls holds each namespace's firewall (by netns inode), where it
	// was read: what a new connection from outside meets.
	Firewalls map[uint64]Firewall
	// Published lists the ports each namespace's rules publish (DNAT to
	// another address), with their verdicts, whether or not a socket backs them.
	Published []Published
	// TCPStats holds each namespace's TCP counters (by netns inode), for the
	// namespaces with listeners whose counters could be read.
	TCPStats map[uint64]TCPCounters
}

// PID is the socket's first owner's pid, or 0.
func (s *Socket) PID() int32 {
	if p := s.Process(); p != nil {
		return p.PID
	}
	return 0
}

// Process is the socket's first owner, or nil.
func (s *Socket) Process() *Process {
	if len(s.Owners) == 0 {
		return nil
	}
	return s.Owners[0]
}

// LocalEndpoint is "addr:port", with IPv6 addresses in brackets; a
// dual-stack wildcard listener is "*:port", as ss writes it.
func (s *Socket) LocalEndpoint() string {
	if s.DualStack {
		return "*:" + strconv.Itoa(int(s.LPort))
	}
	return endpoint(s.Local, s.LPort)
}

// RemoteEndpoint is "addr:port", or "*" for a socket with no peer.
func (s *Socket) RemoteEndpoint() string {
	if s.RPort == 0 && (!s.Remote.IsValid() || s.Remote.IsUnspecified()) {
		return "*"
	}
	return endpoint(s.Remote, s.RPort)
}

func endpoint(a netip.Addr, port uint16) string {
	return netip.AddrPortFrom(a, port).String()
}

// SocketKey identifies a socket across polls: protocol, family, local and
// remote endpoints. Listeners add the inode, because SO_REUSEPORT lets
// several of them share one address and each is its own socket. The pid is
// no part of it: it can appear and vanish with permissions while the socket
// stays. It is a small comparable value without pointers: the monitor keys
// a map of every socket by it, which the collector then need not scan.
type SocketKey struct {
	netns         uint64 // the same port in two namespaces is two sockets
	inode         uint64 // listeners only
	local, remote [16]byte
	lport, rport  uint16
	udp           bool
	family        uint8
}

// Key is the socket's SocketKey.
func (s *Socket) Key() SocketKey {
	k := SocketKey{netns: s.NetnsInode, local: s.Local.As16(), remote: s.Remote.As16(),
		lport: s.LPort, rport: s.RPort, udp: s.Proto == UDP, family: uint8(s.Family)}
	if s.IsListening() {
		k.inode = s.Inode
	}
	return k
}

// CompareKeys orders two sockets by their keys' fields (namespace,
// protocol, family, endpoints, a listener's inode): a total order for
// stable sorting, without building keys, as a sort of tens of thousands of
// rows compares a million times.
func CompareKeys(a, b *Socket) int {
	ai, bi := uint64(0), uint64(0)
	if a.IsListening() {
		ai = a.Inode
	}
	if b.IsListening() {
		bi = b.Inode
	}
	return cmp.Or(cmp.Compare(a.NetnsInode, b.NetnsInode), compareBool(a.Proto == UDP, b.Proto == UDP),
		cmp.Compare(a.Family, b.Family), compareAddr(a.Local, b.Local), cmp.Compare(a.LPort, b.LPort),
		compareAddr(a.Remote, b.Remote), cmp.Compare(a.RPort, b.RPort), cmp.Compare(ai, bi))
}

// compareAddr orders addresses as their 16-byte forms do in a SocketKey.
func compareAddr(a, b netip.Addr) int {
	if a == b {
		return 0
	}
	ab, bb := a.As16(), b.As16()
	return bytes.Compare(ab[:], bb[:])
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func (k SocketKey) addr(b [16]byte) netip.Addr {
	a := netip.AddrFrom16(b)
	if k.family == 4 {
		return a.Unmap()
	}
	return a
}

// String is "tcp4 127.0.0.1:80 10.0.0.9:5000" (and " #inode" for a listener).
func (k SocketKey) String() string {
	proto := TCP
	if k.udp {
		proto = UDP
	}
	s := proto.String() + strconv.Itoa(int(k.family)) + " " + netip.AddrPortFrom(k.addr(k.local), k.lport).String() + " " +
		netip.AddrPortFrom(k.addr(k.remote), k.rport).String()
	if k.inode != 0 {
		s += " #" + strconv.FormatUint(k.inode, 10)
	}
	return s
}

// Firewall is a namespace's firewall as the judgement needs it: what a new
// connection from outside meets at a listener. sockets/firewall's Ruleset
// satisfies it; the data model names only the vocabulary (sockets/reach), so
// it links no netlink or nftables code.
type Firewall interface {
	Evaluate(proto string, listen netip.Addr, port uint16) reach.Verdict
}
