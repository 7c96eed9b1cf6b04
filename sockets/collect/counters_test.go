//go:build linux

package collect

import (
	"encoding/binary"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/sockettest"
	"golang.org/x/sys/unix"
)

// diagMsg builds one inet_diag_msg of a TCP socket with these timer,
// queues and tcp_info bytes (none when info is nil).
func diagMsg(state, timer uint8, expires, rq, wq uint32, inode uint32, info []byte) []byte {
	ne := binary.NativeEndian
	m := make([]byte, inetDiagMsgLen)
	m[0], m[1], m[2] = unix.AF_INET, state, timer
	binary.BigEndian.PutUint16(m[4:], 40000)
	binary.BigEndian.PutUint16(m[6:], 80)
	copy(m[8:], []byte{127, 0, 0, 1})
	copy(m[24:], []byte{127, 0, 0, 1})
	ne.PutUint32(m[52:], expires)
	ne.PutUint32(m[56:], rq)
	ne.PutUint32(m[60:], wq)
	ne.PutUint32(m[68:], inode)
	if info != nil {
		a := make([]byte, 4+len(info), 4+len(info)+3)
		ne.PutUint16(a[0:], uint16(4+len(info)))
		ne.PutUint16(a[2:], inetDiagInfo)
		copy(a[4:], info)
		m = append(m, a[:(len(a)+3)&^3]...)
	}
	return m
}

// tcpInfoBytes is a struct tcp_info of n bytes with a few counters set
// where the kernel puts them (n beyond the struct: a newer kernel's).
func tcpInfoBytes(n int) []byte {
	var ti unix.TCPInfo
	ti.Bytes_acked, ti.Bytes_received, ti.Delivery_rate = 123456, 654321, 2_000_000
	ti.Total_retrans, ti.Rtt, ti.Rttvar, ti.Segs_out, ti.Segs_in, ti.Snd_wnd = 7, 48, 12, 90, 95, 65535
	full := unsafe.Slice((*byte)(unsafe.Pointer(&ti)), unsafe.Sizeof(ti))
	b := make([]byte, n)
	copy(b, full)
	return b
}

// The counters come out of tcp_info whatever its length: an older kernel
// sends a shorter struct (what it lacks reads as zero, and the window as
// unknown), a newer one a longer struct.
func TestParseTCPInfoOfAnyLength(t *testing.T) {
	full := int(unsafe.Sizeof(unix.TCPInfo{}))
	cases := []struct {
		name  string
		n     int
		check func(sockets.Traffic) bool
	}{
		{"this kernel's", full, func(c sockets.Traffic) bool {
			return c.BytesSent == 123456 && c.BytesReceived == 654321 && c.Retransmits == 7 && c.RTT == 48 && c.RTTVar == 12 &&
				c.DeliveryRate == 2_000_000 && c.SendWindow == 65535 && c.WindowKnown
		}},
		{"a newer kernel's, longer", full + 40, func(c sockets.Traffic) bool { return c.BytesSent == 123456 && c.WindowKnown }},
		{"Linux 4.1's (up to bytes_received)", tiBytesReceived + 8, func(c sockets.Traffic) bool {
			return c.BytesSent == 123456 && c.BytesReceived == 654321 && c.DeliveryRate == 0 && !c.WindowKnown && c.SendWindow == 0
		}},
		{"the oldest (up to total_retrans)", tiTotalRetrans + 4, func(c sockets.Traffic) bool {
			return c.Retransmits == 7 && c.RTT == 48 && c.BytesSent == 0 && !c.WindowKnown
		}},
		{"cut in a field", tiBytesAcked + 5, func(c sockets.Traffic) bool { return c.BytesSent == 0 && c.Retransmits == 7 }},
		{"empty", 0, func(c sockets.Traffic) bool { return c == sockets.Traffic{} }},
	}
	for _, c := range cases {
		got := parseTCPInfo(tcpInfoBytes(c.n))
		if !c.check(got) {
			t.Errorf("%s (%d bytes): %+v", c.name, c.n, got)
		}
	}
}

// A dump message gives the socket its timer and the queues, and a
// connection's tcp_info becomes its Traffic; a listener, a TIME_WAIT
// remnant and a message without tcp_info have none.
func TestParseDiagMsgCountersAndTimers(t *testing.T) {
	info := tcpInfoBytes(int(unsafe.Sizeof(unix.TCPInfo{})))
	s, ok := parseDiagMsg(diagMsg(1, 4, 1500, 10, 4096, 77, info), unix.IPPROTO_TCP, nil)
	if !ok || s.Traffic == nil {
		t.Fatalf("established connection: %+v", s)
	}
	if c := s.Traffic; c.RecvQueue != 10 || c.SendQueue != 4096 || c.BytesSent != 123456 {
		t.Errorf("counters %+v", c)
	}
	if s.Timer != sockets.TimerZeroWindow || s.TimeLeft() != 1500*time.Millisecond {
		t.Errorf("timer %v, %v left", s.Timer, s.TimeLeft())
	}
	tw, _ := parseDiagMsg(diagMsg(6, 3, 42000, 0, 0, 0, nil), unix.IPPROTO_TCP, nil)
	if tw.State != sockets.StateTimeWait || tw.Timer != sockets.TimerTimeWait || tw.TimeLeft() != 42*time.Second || tw.Traffic != nil {
		t.Errorf("TIME_WAIT: %v %v %v left, traffic %v", tw.State, tw.Timer, tw.TimeLeft(), tw.Traffic)
	}
	ln, _ := parseDiagMsg(diagMsg(10, 0, 999, 0, 128, 5, info), unix.IPPROTO_TCP, nil)
	if ln.Traffic != nil || ln.Timer != sockets.TimerNone || ln.Expires != 0 {
		t.Errorf("listener: traffic %v, timer %v, expires %d", ln.Traffic, ln.Timer, ln.Expires)
	}
	udp, _ := parseDiagMsg(diagMsg(1, 0, 0, 0, 0, 6, info), unix.IPPROTO_UDP, nil)
	if udp.Traffic != nil {
		t.Error("a UDP socket got counters")
	}
}

// The interner gives an idle connection the same value dump after dump,
// looked for where the connection was in the last dump, also when
// connections opened or closed before it; a connection that moved gets a
// new value.
func TestInternedCountersAreSharedWhileIdle(t *testing.T) {
	var in trafficInterner
	dump := func(inodes []uint64, sent map[uint64]uint64) map[uint64]*sockets.Traffic {
		in.start()
		out := map[uint64]*sockets.Traffic{}
		for _, ino := range inodes {
			out[ino] = in.intern(ino, sockets.Traffic{BytesSent: sent[ino]})
		}
		in.finish()
		return out
	}
	sent := map[uint64]uint64{1: 10, 2: 20, 3: 30, 4: 40}
	first := dump([]uint64{1, 2, 3, 4}, sent)
	sent[3] = 31
	// 5 and 6 opened before 2, 1 closed.
	second := dump([]uint64{5, 6, 2, 3, 4}, sent)
	if second[2] != first[2] || second[4] != first[4] {
		t.Error("idle connections got new values")
	}
	if second[3] == first[3] || second[3].BytesSent != 31 {
		t.Error("a connection that moved kept its old value")
	}
	if *first[3] != (sockets.Traffic{BytesSent: 30}) {
		t.Error("an old value was changed: values are shared and must never change")
	}
	third := dump([]uint64{5, 6, 2, 3, 4}, sent)
	for _, ino := range []uint64{5, 6, 2, 3, 4} {
		if third[ino] != second[ino] {
			t.Errorf("connection %d: a new value for the same counters", ino)
		}
	}
}

// The /proc/net tables give the timer too (in clock ticks).
func TestParseProcNetTimer(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   2: 0100007F:A001 0100007F:0CEA 06 00000000:00000000 03:00000401 00000000     0        0 0 3 0\n" +
		"   3: 0100007F:A002 0100007F:0CEA 01 00000000:00000000 00:00000000 00000000     0        0 88 3 0\n"
	socks, err := parseProcNet([]byte(table), procNetTable{"tcp", sockets.TCP, 4})
	if err != nil || len(socks) != 2 {
		t.Fatal(err, len(socks))
	}
	if s := socks[0]; s.Timer != sockets.TimerTimeWait || s.TimeLeft() != 10250*time.Millisecond {
		t.Errorf("TIME_WAIT: %v, %v left", s.Timer, s.TimeLeft())
	}
	if s := socks[1]; s.Timer != sockets.TimerNone || s.TimeLeft() != 0 || s.Traffic != nil {
		t.Errorf("established: %v, %v left, traffic %v", s.Timer, s.TimeLeft(), s.Traffic)
	}
}

var (
	ssBytesAcked    = regexp.MustCompile(`\bbytes_acked:(\d+)`)
	ssBytesReceived = regexp.MustCompile(`\bbytes_received:(\d+)`)
	ssTimeWait      = regexp.MustCompile(`timer:\(timewait,(\d+)sec`)
)

// ssField is the number re finds in the ss -tinoH line of the connection
// from local to remote port, or -1.
func ssField(t *testing.T, re *regexp.Regexp, state string, lport, rport int) int64 {
	t.Helper()
	out, err := exec.Command("ss", "-tinoH", "state", state, "sport", "= :"+strconv.Itoa(lport), "dport", "= :"+strconv.Itoa(rport)).Output()
	if err != nil {
		t.Skipf("ss: %v", err)
	}
	m := re.FindStringSubmatch(strings.Join(strings.Fields(string(out)), " "))
	if m == nil {
		return -1
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// The counters of a real loopback connection: exactly the bytes the test
// sent each way, as ss -i counts them too; the TIME_WAIT remnant's
// countdown as ss -o says it.
func TestRealCountersMatchWhatWasSent(t *testing.T) {
	if _, err := exec.LookPath("ss"); err != nil {
		t.Skip("ss is not installed")
	}
	p := sockettest.LoopbackPair(t)
	client, server := p.Client, p.Server
	const up, down = 3_000_000, 123_457
	go func() { client.Write(make([]byte, up)) }()
	if _, err := io.ReadFull(server, make([]byte, up)); err != nil {
		t.Fatal(err)
	}
	go func() { server.Write(make([]byte, down)) }()
	if _, err := io.ReadFull(client, make([]byte, down)); err != nil {
		t.Fatal(err)
	}
	sockettest.WaitDelivered(t, 5*time.Second, client, server) // the last acknowledgements
	cAddr, sAddr := p.ClientAddr(), p.ServerAddr()
	snap := snapshot(t, NewLive())
	c := findOne(t, snap, sockets.TCP, cAddr, sAddr)
	s := findOne(t, snap, sockets.TCP, sAddr, cAddr)
	if c.Traffic == nil || s.Traffic == nil {
		t.Fatalf("no counters: client %v, server %v", c.Traffic, s.Traffic)
	}
	// The side that opened counts its SYN as a byte acknowledged.
	if c.Traffic.BytesSent != up+1 || c.Traffic.BytesReceived != down {
		t.Errorf("client: sent %d received %d, want %d (and the SYN) and %d", c.Traffic.BytesSent, c.Traffic.BytesReceived, up, down)
	}
	if s.Traffic.BytesSent != down || s.Traffic.BytesReceived != up {
		t.Errorf("server: sent %d received %d, want %d and %d", s.Traffic.BytesSent, s.Traffic.BytesReceived, down, up)
	}
	if c.Traffic.RTT == 0 || c.Traffic.SendQueue != 0 || c.Traffic.RecvQueue != 0 {
		t.Errorf("client: rtt %d µs, queues %d/%d", c.Traffic.RTT, c.Traffic.SendQueue, c.Traffic.RecvQueue)
	}
	cp, sp := int(cAddr.Port()), int(sAddr.Port())
	if got := ssField(t, ssBytesAcked, "established", cp, sp); got != int64(c.Traffic.BytesSent) {
		t.Errorf("ss says bytes_acked %d, portwatch %d", got, c.Traffic.BytesSent)
	}
	if got := ssField(t, ssBytesReceived, "established", sp, cp); got != int64(s.Traffic.BytesReceived) {
		t.Errorf("ss says bytes_received %d, portwatch %d", got, s.Traffic.BytesReceived)
	}

	// The client closes first: its end waits in TIME_WAIT, counting down.
	client.Close()
	server.Close()
	sockettest.WaitState(t, 5*time.Second, cAddr, sAddr, sockets.StateTimeWait)
	snap = snapshot(t, NewLive())
	tw := findOne(t, snap, sockets.TCP, cAddr, sAddr)
	if tw.State != sockets.StateTimeWait || tw.Timer != sockets.TimerTimeWait || tw.Traffic != nil {
		t.Fatalf("after close: %s, timer %v, traffic %v", tw.State, tw.Timer, tw.Traffic)
	}
	left := tw.TimeLeft()
	ssLeft := ssField(t, ssTimeWait, "time-wait", cp, sp)
	if left < 55*time.Second || left > 60*time.Second || ssLeft < 0 || (left-time.Duration(ssLeft)*time.Second).Abs() > 2*time.Second {
		t.Errorf("TIME_WAIT: %v left, ss says %d s", left, ssLeft)
	}
}

// A snapshot says whether it carries the counters; WantCounters(false)
// leaves them out of the next dumps, and SetCounters(false) for good.
func TestWantCounters(t *testing.T) {
	p := sockettest.LoopbackPair(t)
	cAddr, sAddr := p.ClientAddr(), p.ServerAddr()
	src := NewLive()
	for _, c := range []struct {
		want, on bool
	}{{true, true}, {false, true}, {true, true}, {true, false}} {
		src.SetCounters(c.on)
		src.WantCounters(c.want)
		snap := snapshot(t, src)
		s := findOne(t, snap, sockets.TCP, cAddr, sAddr)
		has := c.want && c.on
		if snap.Counters != has || (s.Traffic != nil) != has {
			t.Errorf("want %v, on %v: snapshot says %v, the connection has counters %v", c.want, c.on, snap.Counters, s.Traffic != nil)
		}
	}
}
