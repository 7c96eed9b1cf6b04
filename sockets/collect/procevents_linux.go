package collect

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel's process events connector (drivers/connector/cn_proc.c) says when a process execs,
// renames itself or exits, so the process cache need not read every owner's /proc/PID/stat each
// poll to notice: it reads only the pids the kernel named. It is refused outside the initial pid
// and user namespaces (a container: the kernel stays silent) and, on some kernels, without
// CAP_NET_ADMIN (the kernel answers EPERM); the cache then reads every owner's stat as before.

// The change bits the cache is handed for a pid.
const (
	evExec uint8 = 1 << iota // a new program: read everything again, whatever its name
	evComm                   // a new name (prctl PR_SET_NAME, /proc/PID/comm)
	evExit                   // the process exited: its pid may now be someone else's
)

// Sizes and waits of the listener.
const (
	// maxChangedPIDs bounds the set kept between two polls: a hostile user execing and exiting
	// in a loop makes one entry per pid, so past this the poll reads everything instead.
	maxChangedPIDs = 4096
	// procEventsAckWait is how long the kernel has to answer the request to listen. It answers at
	// once where it accepts or refuses; in another pid or user namespace it never answers.
	procEventsAckWait = time.Second
	// procEventsRcvbuf is the socket's receive buffer, where a poll's events wait for it: more
	// than it holds are dropped by the kernel (ENOBUFS), which the poll takes as "everything
	// changed". Kernel memory, bounded here whatever other users do.
	procEventsRcvbuf = 1 << 20
)

// From linux/connector.h and linux/cn_proc.h.
const (
	cnIdxProc         = 1
	cnValProc         = 1
	procCnMcastListen = 1
	procEventNone     = 0x00000000
	procEventFork     = 0x00000001
	procEventExec     = 0x00000002
	procEventComm     = 0x00000200
	procEventExit     = 0x80000000
	// Offsets in a message: nlmsghdr (16), cn_msg (20: idx, val, seq, ack, len, flags), then
	// struct proc_event: what, cpu, timestamp_ns (8), and event_data, whose first two words are
	// the pid and the tgid for exec, comm and exit, and the error for an ack.
	nlHdrLen     = 16
	cnMsgLen     = 20
	offCnSeq     = nlHdrLen + 8
	offCnAck     = nlHdrLen + 12
	offWhat      = nlHdrLen + cnMsgLen
	offEventData = offWhat + 16
)

// procEvents is the kernel's process events socket. The kernel queues the events in the socket,
// at most its receive buffer, and the poll drains them once (take): nothing of portwatch wakes
// for each of them between polls. (A goroutine blocked on the socket cost portwatch 100 us of CPU
// an exec on a machine running a thousand programs a second; a drain costs a recvfrom an event.)
// It is used by one poll at a time and needs no lock.
type procEvents struct {
	fd     int
	close  sync.Once
	seq    uint32    // of our request: the kernel's answer acknowledges seq+1
	opened time.Time // the kernel's answer is awaited until procEventsAckWait after
	live   bool      // the kernel confirmed the listening
	failed error     // the kernel refused or stayed silent, or the socket broke: for good

	changed map[int32]uint8 // handed out by take, cleared by the next
	buf     []byte
}

// errProcEventsSilent: the kernel did not answer the request to listen (another pid or user
// namespace).
var errProcEventsSilent = errors.New("the kernel did not answer the request for process events")

// maxDrain bounds one take's reads: events arriving as fast as they are read (a storm) end it,
// and that poll reads everything.
const maxDrain = 2 * maxChangedPIDs

// openProcEvents opens the connector and asks for the events. The kernel's answer is read by the
// first takes: until it comes, they say that everything changed.
func openProcEvents() (*procEvents, error) { return openProcEventsWith(procEventsRcvbuf) }

// openProcEventsWith is openProcEvents with a receive buffer of rcvbuf bytes (a test has the
// kernel drop events with a small one).
func openProcEventsWith(rcvbuf int) (*procEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, err
	}
	e := &procEvents{fd: fd, seq: uint32(os.Getpid()), changed: map[int32]uint8{}}
	if err := e.setup(rcvbuf); err != nil {
		unix.Close(fd)
		return nil, err
	}
	e.opened = time.Now()
	return e, nil
}

// setup binds the socket to the kernel's group, sizes its buffer, has the kernel filter what
// portwatch has no use for, and asks to listen.
func (e *procEvents) setup(rcvbuf int) error {
	if err := unix.Bind(e.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		return err
	}
	// As root the buffer may pass net.core.rmem_max; otherwise the kernel caps it there.
	if unix.SetsockoptInt(e.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		unix.SetsockoptInt(e.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	// The kernel drops in its own context what the cache has no use for (forks, and the threads
	// that are not a process's main one), so a storm of them does not fill the buffer.
	if err := unix.SetsockoptSockFprog(e.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, procEventsFilter()); err != nil {
		return err
	}
	return unix.Sendto(e.fd, listenRequest(e.seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// Close lets go of the socket; a second call does nothing.
func (e *procEvents) Close() {
	e.close.Do(func() { unix.Close(e.fd) })
}

// working says whether the kernel confirmed the listening and nothing broke since.
func (e *procEvents) working() bool { return e.live && e.failed == nil }

// take drains what the kernel said since the last take: the pids that execed, renamed
// themselves or exited, and whether everything is to be read again instead (the kernel has not
// confirmed yet, or just did; it dropped events; too many pids). The map is the caller's until
// the next take.
func (e *procEvents) take(now time.Time) (changed map[int32]uint8, all bool) {
	clear(e.changed)
	if e.failed != nil {
		return e.changed, true
	}
	all = !e.live
	if e.buf == nil {
		e.buf = make([]byte, 4096) // one event a datagram: a few dozen bytes
	}
	for range maxDrain {
		n, from, err := unix.Recvfrom(e.fd, e.buf, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			return e.changed, e.settle(now, all)
		case err == unix.EINTR:
			continue
		case err == unix.ENOBUFS: // the kernel dropped events: nothing it said since is complete
			all = true
			continue
		case err != nil:
			e.fail(err)
			return e.changed, true
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 || n < offEventData+8 {
			continue // not the kernel's, or not an event
		}
		confirmed, err := e.read(e.buf[:n])
		if err != nil {
			e.fail(err)
			return e.changed, true
		}
		if confirmed || e.overflowed() {
			all = true // before the answer nothing was heard; past the bound nothing is kept
		}
	}
	return e.changed, true // a storm: the rest is read by the next take
}

// overflowed says whether more pids changed than the set keeps.
func (e *procEvents) overflowed() bool { return len(e.changed) > maxChangedPIDs }

// settle gives up on a kernel that did not answer in time, and says whether this take is to be
// trusted.
func (e *procEvents) settle(now time.Time, all bool) bool {
	if !e.live && now.Sub(e.opened) >= procEventsAckWait {
		e.fail(errProcEventsSilent)
	}
	return all || !e.live
}

// fail stops using the socket for good and lets go of it: the kernel would go on queueing other
// listeners' events there (the group is open to any socket bound to it).
func (e *procEvents) fail(err error) {
	e.failed, e.live = err, false
	e.Close()
}

// read takes one message: the kernel's answer to our request (confirmed; an error where it
// refused), or an event, recorded in changed when it is one the cache uses and the set is not
// past its bound.
func (e *procEvents) read(msg []byte) (confirmed bool, err error) {
	what := binary.NativeEndian.Uint32(msg[offWhat:])
	if what == procEventNone {
		if binary.NativeEndian.Uint32(msg[offCnAck:]) != e.seq+1 || e.live {
			return false, nil // another listener's answer
		}
		if code := binary.NativeEndian.Uint32(msg[offEventData:]); code != 0 {
			return false, unix.Errno(code)
		}
		e.live = true
		return true, nil
	}
	if !e.live {
		return false, nil // meant for other listeners (pids of another namespace, perhaps)
	}
	var bit uint8
	switch what {
	case procEventExec:
		bit = evExec
	case procEventComm:
		bit = evComm
	case procEventExit:
		bit = evExit
	default:
		return false, nil
	}
	pid := int32(binary.NativeEndian.Uint32(msg[offEventData:]))
	if tgid := int32(binary.NativeEndian.Uint32(msg[offEventData+4:])); pid != tgid {
		return false, nil // another thread: the process's name and program are its main thread's
	}
	if _, ok := e.changed[pid]; ok || len(e.changed) <= maxChangedPIDs {
		e.changed[pid] |= bit
	}
	return false, nil
}

// listenRequest is PROC_CN_MCAST_LISTEN, with seq as both the netlink and the connector
// sequence; the kernel's answer carries seq+1 as its ack (its own sequence is a counter of its
// own).
func listenRequest(seq uint32) []byte {
	msg := make([]byte, nlHdrLen+cnMsgLen+4)
	ne := binary.NativeEndian
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], unix.NLMSG_DONE)
	ne.PutUint32(msg[8:], seq)
	ne.PutUint32(msg[12:], uint32(os.Getpid()))
	ne.PutUint32(msg[nlHdrLen:], cnIdxProc)
	ne.PutUint32(msg[nlHdrLen+4:], cnValProc)
	ne.PutUint32(msg[offCnSeq:], seq)
	ne.PutUint32(msg[offCnAck:], seq)
	ne.PutUint16(msg[nlHdrLen+16:], 4)
	ne.PutUint32(msg[nlHdrLen+cnMsgLen:], procCnMcastListen)
	return msg
}

// procEventsFilter is a classic BPF program that keeps the kernel's answers and the events of a
// process's main thread (pid == tgid) other than forks, and drops the rest in the kernel. BPF
// loads words in network order: the constants are the kernel's native words read that way.
func procEventsFilter() *unix.SockFprog {
	word := func(v uint32) uint32 {
		var b [4]byte
		binary.NativeEndian.PutUint32(b[:], v)
		return binary.BigEndian.Uint32(b[:])
	}
	const keep, drop = 0xffff, 0
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offWhat},                     // 0: A = what
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: word(procEventNone), Jt: 5}, // 1: an answer: 7
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: word(procEventFork), Jt: 5}, // 2: a fork: 8
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offEventData},                // 3: A = pid
		{Code: unix.BPF_MISC | unix.BPF_TAX},                                            // 4: X = pid
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: offEventData + 4},            // 5: A = tgid
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X, Jt: 0, Jf: 1},                  // 6: the main thread: 7, else 8
		{Code: unix.BPF_RET | unix.BPF_K, K: keep},                                      // 7
		{Code: unix.BPF_RET | unix.BPF_K, K: drop},                                      // 8
	}
	return &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
}
