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
	// maxChangedPIDs bounds the set kept between two polls: a hostile user forking and exiting
	// in a loop makes one entry per pid, so past this the listener says "everything changed" once
	// and keeps nothing until the next poll takes it.
	maxChangedPIDs = 4096
	// procEventsAckWait is how long the kernel has to answer the request to listen. It answers at
	// once where it accepts or refuses; in another pid or user namespace it never answers.
	procEventsAckWait = time.Second
	// procEventsRcvbuf is the socket's receive buffer: a burst of events larger than this is
	// dropped by the kernel (ENOBUFS), which the listener takes as "everything changed".
	procEventsRcvbuf = 256 << 10
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
	nlHdrLen      = 16
	cnMsgLen      = 20
	offCnSeq      = nlHdrLen + 8
	offCnAck      = nlHdrLen + 12
	offWhat       = nlHdrLen + cnMsgLen
	offEventData  = offWhat + 16
	procEventSize = 16 + 24 // what, cpu, timestamp; the largest event_data we read (exit: six words)
)

// procEvents listens to the kernel's process events in a goroutine and keeps, between two polls,
// the pids that changed. The cache takes them once a poll (take).
type procEvents struct {
	f     *os.File // the netlink socket, in Go's poller so that Close wakes the reader
	done  chan struct{}
	close sync.Once

	mu      sync.Mutex
	changed map[int32]uint8 // since the last take
	spare   map[int32]uint8 // the map handed out by the last take, cleared for reuse
	all     bool            // since the last take: the set is not to be trusted (overflow, drops, start)
	live    bool            // the kernel confirmed the listening
	failed  error           // the kernel refused, or the socket broke: for good

	beforeRecv func() // a test seam: nil, or called before each read
}

// errProcEventsSilent: the kernel did not answer the request to listen (another pid or user
// namespace).
var errProcEventsSilent = errors.New("the kernel did not answer the request for process events")

// openProcEvents opens the connector and starts listening. The kernel's answer is awaited in the
// goroutine: until it comes, take says that everything changed.
func openProcEvents() (*procEvents, error) { return openProcEventsWith(procEventsRcvbuf, nil) }

// openProcEventsWith is openProcEvents with a receive buffer of rcvbuf bytes, and beforeRecv (a
// test seam, may be nil) called before each read: a test holds the reader there to have the
// kernel drop events.
func openProcEventsWith(rcvbuf int, beforeRecv func()) (*procEvents, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_CONNECTOR)
	if err != nil {
		return nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: cnIdxProc}); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// As root the buffer may pass net.core.rmem_max; otherwise the kernel caps it there.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvbuf) != nil {
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf)
	}
	// The kernel drops in its own context what the cache has no use for (forks, and the threads
	// that are not a process's main one), so a storm of them does not wake portwatch.
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, procEventsFilter()); err != nil {
		unix.Close(fd)
		return nil, err
	}
	e := &procEvents{f: os.NewFile(uintptr(fd), "proc-connector"), done: make(chan struct{}),
		changed: map[int32]uint8{}, spare: map[int32]uint8{}, all: true, beforeRecv: beforeRecv}
	go e.run()
	return e, nil
}

// Close stops the listener and waits for its goroutine.
func (e *procEvents) Close() {
	e.close.Do(func() { e.f.Close() })
	<-e.done
}

// take hands out the pids that changed since the last take, and whether everything is to be read
// again instead (the listener is not live, or missed events). The map is the cache's until the
// next take.
func (e *procEvents) take() (changed map[int32]uint8, all bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.live {
		clear(e.changed)
		return e.changed, true
	}
	changed, e.changed, e.spare = e.changed, e.spare, nil
	clear(e.changed)
	e.spare = changed
	all, e.all = e.all, false
	return changed, all
}

// working says whether the kernel confirmed the listening and nothing broke since.
func (e *procEvents) working() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.live && e.failed == nil
}

func (e *procEvents) run() {
	defer close(e.done)
	err := e.listen()
	e.mu.Lock()
	e.live, e.failed = false, err
	e.mu.Unlock()
	// The kernel would go on queueing other listeners' events here (the group is open to any
	// socket bound to it): let go of the socket now, not at Close.
	e.close.Do(func() { e.f.Close() })
}

// listen asks for the events, awaits the kernel's answer and then reads events until the socket
// is closed or breaks.
func (e *procEvents) listen() error {
	rc, err := e.f.SyscallConn()
	if err != nil {
		return err
	}
	seq := uint32(os.Getpid())
	if err := e.request(rc, seq); err != nil {
		return err
	}
	buf := make([]byte, 4096) // one event a datagram: a few dozen bytes
	e.f.SetReadDeadline(time.Now().Add(procEventsAckWait))
	for {
		if e.beforeRecv != nil {
			e.beforeRecv()
		}
		n, from, err := e.recv(rc, buf)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			return errProcEventsSilent
		case errors.Is(err, unix.ENOBUFS):
			e.markAll() // the kernel dropped events: nothing it said since is complete
			continue
		case err != nil:
			return err
		}
		if from != 0 || n < offEventData+4 {
			continue // not the kernel's, or not an event
		}
		msg := buf[:n]
		what := binary.NativeEndian.Uint32(msg[offWhat:])
		if what == procEventNone { // an answer: ours when it acknowledges our sequence
			if binary.NativeEndian.Uint32(msg[offCnAck:]) != seq+1 {
				continue
			}
			if code := binary.NativeEndian.Uint32(msg[offEventData:]); code != 0 {
				return unix.Errno(code)
			}
			e.mu.Lock()
			e.live = true
			e.mu.Unlock()
			e.f.SetReadDeadline(time.Time{})
			continue
		}
		e.note(what, msg)
	}
}

// request sends PROC_CN_MCAST_LISTEN, with seq as both the netlink and the connector sequence;
// the kernel's answer carries seq+1 as its ack (its own sequence is a counter of its own).
func (e *procEvents) request(rc syscallConn, seq uint32) error {
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
	var serr error
	err := rc.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
		return serr != unix.EAGAIN
	})
	if err != nil {
		return err
	}
	return serr
}

// recv reads one datagram; from is the sender's netlink port (0: the kernel).
func (e *procEvents) recv(rc syscallConn, buf []byte) (n int, from uint32, err error) {
	var rerr error
	from = ^uint32(0)
	err = rc.Read(func(fd uintptr) bool {
		var sa unix.Sockaddr
		n, sa, rerr = unix.Recvfrom(int(fd), buf, 0)
		if nl, ok := sa.(*unix.SockaddrNetlink); ok {
			from = nl.Pid
		}
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	return n, from, err
}

// note records one event: the pid of a process (its main thread) that execed, renamed itself or
// exited.
func (e *procEvents) note(what uint32, msg []byte) {
	var bit uint8
	switch what {
	case procEventExec:
		bit = evExec
	case procEventComm:
		bit = evComm
	case procEventExit:
		bit = evExit
	default:
		return
	}
	pid := int32(binary.NativeEndian.Uint32(msg[offEventData:]))
	tgid := int32(binary.NativeEndian.Uint32(msg[offEventData+4:]))
	if pid != tgid {
		return // another thread: the process's name and program are its main thread's
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.all {
		return // everything is read again anyway
	}
	if _, ok := e.changed[pid]; !ok && len(e.changed) >= maxChangedPIDs {
		e.all = true
		clear(e.changed)
		return
	}
	e.changed[pid] |= bit
}

// markAll says that the next poll reads everything again.
func (e *procEvents) markAll() {
	e.mu.Lock()
	e.all = true
	clear(e.changed)
	e.mu.Unlock()
}

// syscallConn is what the listener needs of the socket's syscall.RawConn.
type syscallConn interface {
	Read(func(fd uintptr) bool) error
	Write(func(fd uintptr) bool) error
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
