//go:build linux

package collect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"syscall"
	"unsafe"

	"github.com/portwatch/portwatch/sockets"
	"golang.org/x/sys/unix"
)

// The sock_diag interface (linux/inet_diag.h): one dump request per family
// and protocol lists every socket with its state, uid and inode, at about a
// microsecond a socket, where /proc/net/tcp costs milliseconds before the
// first row. Layouts are fixed by the kernel's ABI.
const (
	inetDiagReqV2Len = 56 // struct inet_diag_req_v2
	inetDiagReqLen   = 60 // struct inet_diag_req, the original request
	tcpDiagGetSock   = 18 // TCPDIAG_GETSOCK: the original TCP dump, both families at once
	inetDiagMsgLen   = 72 // struct inet_diag_msg
	inetDiagInfo     = 2  // INET_DIAG_INFO attribute: struct tcp_info
	inetDiagSKV6Only = 11 // INET_DIAG_SKV6ONLY attribute
	// extInfo asks a TCP dump for INET_DIAG_INFO (idiag_ext's bit for it):
	// every full TCP socket's struct tcp_info comes with it. TIME_WAIT
	// remnants and half-open handshakes have none.
	extInfo        = 1 << (inetDiagInfo - 1)
	nlmsgHeaderLen = 16
	// diagStates asks for every real TCP state (bits 0 to 12), not for the
	// TCP_BOUND_INACTIVE pseudo-state (bit 13). Since Linux 6.8 a request
	// with that bit also gets every TCP socket that is bound and nothing
	// more (bind() without listen(); a connect() refused after a bind to a
	// chosen port), reported as CLOSE. Measured on Linux 6.18: neither
	// /proc/net/tcp nor `ss -tan state all` (iproute2 6.1) lists any of
	// them, nor any other socket whose connect() was refused (its port went
	// back to the pool); iproute2 releases since 2024 add the pseudo-state
	// to -a and to "state all". Such a socket sends and accepts nothing, and
	// the /proc path, which netlink falls back to, cannot see it: asking for
	// it made the two paths differ whenever a program held one. (A UDP
	// socket is in state 1 or 7 only: the same mask serves.)
	diagStates = 1<<tcpBoundInactive - 1
	// The kernel fills a dump's datagrams up to 32 KiB; a larger one would
	// be noticed (MSG_TRUNC) and the dump redone with a larger buffer.
	netlinkBufferSize = 64 << 10
)

// errNetlinkUnavailable means the kernel or the sandbox refuses sock_diag.
var errNetlinkUnavailable = errors.New("netlink sock_diag is not available")

// errDatagramTruncated: a datagram was larger than the buffer, which has
// been enlarged; the dump must start again.
var errDatagramTruncated = errors.New("sock_diag datagram larger than the buffer")

// netlinkLister lists the sockets of the calling thread's network namespace.
type netlinkLister struct {
	buf  []byte
	last int // sockets in the previous dump: the next slice is sized for them
	// splitTCP: the kernel refused the original TCP request, so IPv4 and
	// IPv6 are dumped one after the other.
	splitTCP bool
	// combinedType is the original request's message type (a test sets
	// one the kernel refuses).
	combinedType uint16
	// counters asks the TCP dump for every connection's tcp_info, unless
	// skip says to leave them out of the next dumps (Live.WantCounters).
	counters, skip bool
	// interned keeps the last dump's counters: a connection whose counters
	// did not change keeps the same value, with nothing allocated. Each
	// other namespace listIn dumps has its own (by the namespace's inode):
	// one shared by all compared each namespace's counters with another's.
	interned trafficInterner
	others   map[uint64]*nsInterner
	dumps    uint64 // listIn's dumps so far: the clock an unused interner is forgotten by
}

// nsInterner is the interner of another namespace, and the dump that last
// used it.
type nsInterner struct {
	in   trafficInterner
	used uint64
}

// internerOf is the interner of the namespace nsPath names (nil when it
// cannot be told: its counters are then each a new value). Namespaces are
// dumped once a poll each: an interner unused over the last two rounds of
// every namespace known belongs to a namespace gone, and is forgotten.
func (l *netlinkLister) internerOf(nsPath string) *trafficInterner {
	var st unix.Stat_t
	if err := unix.Stat(nsPath, &st); err != nil {
		return nil
	}
	l.dumps++
	if l.others == nil {
		l.others = map[uint64]*nsInterner{}
	}
	for ino, o := range l.others {
		if l.dumps-o.used > 2*uint64(len(l.others)) {
			delete(l.others, ino)
		}
	}
	o := l.others[st.Ino]
	if o == nil {
		o = &nsInterner{}
		l.others[st.Ino] = o
	}
	o.used = l.dumps
	return &o.in
}

func newNetlinkLister() *netlinkLister {
	return &netlinkLister{buf: make([]byte, netlinkBufferSize), combinedType: tcpDiagGetSock, counters: true}
}

// list dumps TCP and UDP sockets of both families, into spare's array if
// there is one. retried says the dump has been redone once already.
func (l *netlinkLister) list(spare []sockets.Socket, retried bool) ([]sockets.Socket, error) {
	return l.listWith(diagSocket, spare, retried, &l.interned)
}

// listIn dumps the sockets of another network namespace, the one nsPath
// (/proc/PID/ns/net) names, through a socket opened inside it. An error
// says why: the namespace's process has exited (fs.ErrNotExist), portwatch
// may not enter namespaces (EPERM: not root), or sock_diag failed.
func (l *netlinkLister) listIn(nsPath string) ([]sockets.Socket, error) {
	return l.listWith(func() (int, error) { return diagSocketIn(nsPath) }, nil, false, l.internerOf(nsPath))
}

// diagSocket opens a NETLINK_SOCK_DIAG socket in the calling thread's
// network namespace, without CAP_NET_ADMIN's attributes
// (diagcaps_linux.go).
func diagSocket() (int, error) { return openWithoutNetAdmin(plainDiagSocket) }

// plainDiagSocket opens a NETLINK_SOCK_DIAG socket in the calling thread's
// network namespace, with the caller's capabilities.
func plainDiagSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return -1, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// diagSocketIn opens a NETLINK_SOCK_DIAG socket inside the network
// namespace nsPath names. A socket keeps the namespace it was created in:
// its dumps list that namespace's sockets, with IPV6_V6ONLY exact, wherever
// it is used from. Creating it takes a thread into the namespace (setns),
// so the work runs on a goroutine of its own, locked to its thread, which
// comes back to its own namespace before it is unlocked. A thread that
// cannot come back is never unlocked: the runtime ends it with its
// goroutine, and no other goroutine ever runs in the wrong namespace.
func diagSocketIn(nsPath string) (int, error) {
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: nsPath, Err: err}
	}
	defer unix.Close(target)
	return onOwnThread(func() (int, bool, error) {
		own, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, true, fmt.Errorf("this thread's network namespace: %w", err)
		}
		defer unix.Close(own)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			return -1, true, fmt.Errorf("entering %s: %w", nsPath, err)
		}
		fd, restored, err := withoutNetAdmin(plainDiagSocket)
		// A thread that lacks CAP_NET_ADMIN now, or cannot come back, stays
		// locked and ends with the goroutine. The socket, if made, is in the
		// right namespace and may be used.
		return fd, restored && unix.Setns(own, unix.CLONE_NEWNET) == nil, err
	})
}

// listWith is list with the socket open makes, and the namespace's
// interner (nil: none); a retry opens another.
func (l *netlinkLister) listWith(open func() (int, error), spare []sockets.Socket, retried bool, in *trafficInterner) ([]sockets.Socket, error) {
	fd, err := open()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNetlinkUnavailable, err)
	}
	defer unix.Close(fd)
	socks := spare[:0] // a recycled array: it grows if the sockets outgrow it
	if cap(socks) == 0 {
		socks = make([]sockets.Socket, 0, l.last+l.last/8+64)
	}
	// The original TCPDIAG_GETSOCK request dumps IPv4 and IPv6 in one walk
	// of the kernel's connection table, where a request per family walks
	// it twice: a quarter of the kernel's time at 20,000
	queries := []diagQuery{{typ: l.combinedType, proto: unix.IPPROTO_TCP, combined: true}}
	if l.splitTCP {
		queries = []diagQuery{byFamily(unix.AF_INET, unix.IPPROTO_TCP), byFamily(unix.AF_INET6, unix.IPPROTO_TCP)}
	}
	withCounters := l.withCounters()
	if withCounters {
		for i := range queries {
			queries[i].ext = extInfo
		}
		in.start() // a dump without counters leaves the last counters to compare with
	}
	queries = append(queries, byFamily(unix.AF_INET, unix.IPPROTO_UDP), byFamily(unix.AF_INET6, unix.IPPROTO_UDP))
	for _, q := range queries {
		var err error
		socks, err = l.dump(fd, q, uint32(len(socks)+1), socks, in)
		if errors.Is(err, errDatagramTruncated) && !retried {
			return l.listWith(open, spare, true, in)
		}
		if err != nil && q.combined && errors.Is(err, errNetlinkUnavailable) {
			// An old request this kernel no longer serves: ask per family.
			l.splitTCP = true
			return l.listWith(open, spare, retried, in)
		}
		if err != nil {
			return nil, err
		}
	}
	l.last = len(socks)
	if withCounters {
		in.finish()
	}
	return socks, nil
}

// withCounters says whether the dumps ask for the TCP counters now.
func (l *netlinkLister) withCounters() bool { return l.counters && !l.skip }

// diagQuery is one dump request: its message type, family and protocol,
// the extensions asked for (idiag_ext); combined marks the original
// request, which has its own layout and lists both families.
type diagQuery struct {
	typ      uint16
	family   uint8
	proto    uint8
	ext      uint8
	combined bool
}

func byFamily(family, proto uint8) diagQuery {
	return diagQuery{typ: unix.SOCK_DIAG_BY_FAMILY, family: family, proto: proto}
}

// request builds the netlink message asking for every socket of q.
func (q diagQuery) request(seq uint32) []byte {
	ne := binary.NativeEndian
	if q.combined {
		// struct inet_diag_req: family, src_len, dst_len, ext, a zero
		// inet_diag_sockid (48 bytes), states, dbs.
		req := make([]byte, nlmsgHeaderLen+inetDiagReqLen)
		q.header(req, seq)
		req[16] = unix.AF_INET // ignored: this request always lists both families
		req[19] = q.ext
		ne.PutUint32(req[nlmsgHeaderLen+52:], diagStates)
		return req
	}
	// struct inet_diag_req_v2: family, protocol, ext, pad, states, sockid.
	req := make([]byte, nlmsgHeaderLen+inetDiagReqV2Len)
	q.header(req, seq)
	req[16] = q.family
	req[17] = q.proto
	req[18] = q.ext // INET_DIAG_SKV6ONLY comes with every IPv6 listener unasked
	ne.PutUint32(req[20:], diagStates)
	return req
}

func (q diagQuery) header(req []byte, seq uint32) {
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], q.typ)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
}

// dump appends the sockets q asks for to socks, their counters made
// through in.
func (l *netlinkLister) dump(fd int, q diagQuery, seq uint32, socks []sockets.Socket, in *trafficInterner) ([]sockets.Socket, error) {
	// Sent without an address: an unconnected netlink socket sends to the
	// kernel anyway, and a request sent with one is marked NETLINK_SKB_DST,
	// for which the kernel judges CAP_NET_ADMIN by the sending thread alone,
	// not by the socket's opener (diagcaps_linux.go).
	if err := unix.Sendto(fd, q.request(seq), 0, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", errNetlinkUnavailable, err)
	}
	for {
		n, err := recvTrunc(fd, l.buf) // n: the datagram's whole length
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading sock_diag: %w", err)
		}
		if n > len(l.buf) {
			l.buf = make([]byte, 2*n)
			return nil, errDatagramTruncated
		}
		done, err := parseDiagMessages(l.buf[:n], q, seq, &socks, in)
		if err != nil {
			return nil, err
		}
		if done {
			return socks, nil
		}
	}
}

// recvTrunc reads one datagram into buf and says its whole length, which
// is more than len(buf) when it did not fit (MSG_TRUNC). It is recvfrom(2)
// without the sender's address: unix.Recvfrom makes a Sockaddr of it, an
// allocation a datagram, a hundred sockets each.
func recvTrunc(fd int, buf []byte) (int, error) {
	n, _, errno := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(buf))), uintptr(len(buf)),
		unix.MSG_TRUNC, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// parseDiagMessages appends the sockets in one netlink datagram and says
// whether the dump is complete. Counters are made through in (nil: each
// its own).
func parseDiagMessages(b []byte, q diagQuery, seq uint32, socks *[]sockets.Socket, in *trafficInterner) (bool, error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHeaderLen {
		msgLen := int(ne.Uint32(b[0:]))
		typ := ne.Uint16(b[4:])
		if msgLen < nlmsgHeaderLen || msgLen > len(b) {
			return false, errors.New("sock_diag: truncated message")
		}
		if ne.Uint32(b[8:]) == seq {
			switch typ {
			case unix.NLMSG_DONE:
				return true, nil
			case unix.NLMSG_ERROR:
				if msgLen < nlmsgHeaderLen+4 { // struct nlmsgerr starts with the errno
					return false, errors.New("sock_diag: truncated error message")
				}
				errno := int32(ne.Uint32(b[nlmsgHeaderLen:]))
				if errno == 0 {
					return true, nil
				}
				return false, fmt.Errorf("%w: %v", errNetlinkUnavailable, syscall.Errno(-errno))
			case q.typ:
				if s, ok := parseDiagMsg(b[nlmsgHeaderLen:msgLen], q.proto, in); ok {
					*socks = append(*socks, s)
				}
			}
		}
		b = b[min(nlmsgAlign(msgLen), len(b)):]
	}
	return false, nil
}

func nlmsgAlign(n int) int { return (n + 3) &^ 3 }

// parseDiagMsg reads one struct inet_diag_msg and its attributes: a TCP
// connection's tcp_info, when the dump asked for it, becomes its Traffic
// (made through in; nil: a new value).
func parseDiagMsg(m []byte, proto uint8, in *trafficInterner) (sockets.Socket, bool) {
	if len(m) < inetDiagMsgLen {
		return sockets.Socket{}, false
	}
	ne := binary.NativeEndian
	s := sockets.Socket{Proto: sockets.TCP, Family: 4}
	if proto == unix.IPPROTO_UDP {
		s.Proto = sockets.UDP
	}
	switch m[0] { // idiag_family: the original TCP request mixes both
	case unix.AF_INET6:
		s.Family = 6
	case unix.AF_INET:
	default:
		return sockets.Socket{}, false
	}
	state := uint64(m[1])
	s.Timer = sockets.Timer(m[2])
	// inet_diag_sockid: ports and addresses in network byte order.
	s.LPort = binary.BigEndian.Uint16(m[4:])
	s.RPort = binary.BigEndian.Uint16(m[6:])
	s.Local = diagAddr(m[8:24], s.Family)
	s.Remote = diagAddr(m[24:40], s.Family)
	s.BoundIf = ne.Uint32(m[40:]) // idiag_if: the device of SO_BINDTODEVICE, host order
	if s.Timer != sockets.TimerNone {
		s.Expires = ne.Uint32(m[52:]) // idiag_expires, in milliseconds
	}
	s.UID = ne.Uint32(m[64:])
	s.Inode = uint64(ne.Uint32(m[68:]))
	s.State = stateName(s.Proto, state)
	v6only := false
	var info []byte
	for a := m[inetDiagMsgLen:]; len(a) >= 4; {
		alen := int(ne.Uint16(a[0:]))
		atype := ne.Uint16(a[2:])
		if alen < 4 || alen > len(a) {
			break
		}
		switch {
		case atype == inetDiagSKV6Only && alen >= 5:
			v6only = a[4] != 0
		case atype == inetDiagInfo:
			info = a[4:alen]
		}
		a = a[min((alen+3)&^3, len(a)):]
	}
	s.DualStack = s.Family == 6 && !v6only && s.IsListening() && s.Local.IsUnspecified()
	if info != nil && s.Proto == sockets.TCP && !s.IsListening() {
		t := parseTCPInfo(info)
		t.RecvQueue, t.SendQueue = ne.Uint32(m[56:]), ne.Uint32(m[60:]) // idiag_rqueue, idiag_wqueue
		s.Traffic = in.intern(s.Inode, t)
	}
	return s, true
}

func diagAddr(b []byte, family int) netip.Addr {
	if family == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16([16]byte(b[:16])).Unmap()
}
