//go:build linux

package collect

import (
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"

	"github.com/portwatch/portwatch/sockets"
	"golang.org/x/sys/unix"
)

// diagDatagram is one netlink datagram of n TCP connections' dump messages
// (inodes 1 to n, each with a tcp_info), as the combined request's dump
// gives them, and the message that ends the dump.
func diagDatagram(n int, seq uint32) []byte {
	ne := binary.NativeEndian
	info := tcpInfoBytes(int(unsafe.Sizeof(unix.TCPInfo{})))
	var b []byte
	add := func(typ uint16, payload []byte) {
		h := make([]byte, nlmsgHeaderLen, nlmsgHeaderLen+len(payload))
		ne.PutUint32(h[0:], uint32(nlmsgHeaderLen+len(payload)))
		ne.PutUint16(h[4:], typ)
		ne.PutUint32(h[8:], seq)
		b = append(b, append(h, payload...)...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	for i := range n {
		add(tcpDiagGetSock, diagMsg(1, 0, 0, 0, 0, uint32(i+1), info))
	}
	add(unix.NLMSG_DONE, make([]byte, 4))
	return b
}

// A dump whose connections' counters did not change allocates nothing for
// them: each keeps the last dump's value (the interner once made a copy of
// every connection's counters on the heap, changed or not: 1.2 MB a dump
// at 20,000 connections).
func TestQuietDumpAllocatesNoCounters(t *testing.T) {
	if !alone(t) {
		return
	}
	q := diagQuery{typ: tcpDiagGetSock, proto: unix.IPPROTO_TCP, combined: true}
	for _, n := range []int{2000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			b := diagDatagram(n, 1)
			var in trafficInterner
			socks := make([]sockets.Socket, 0, n)
			dump := func() {
				socks = socks[:0]
				in.start()
				if done, err := parseDiagMessages(b, q, 1, &socks, &in); !done || err != nil {
					t.Fatalf("dump: done %v, %v", done, err)
				}
				in.finish()
			}
			dump()
			dump() // both of the interner's arrays are grown
			first := socks[n-1].Traffic
			if allocs := testing.AllocsPerRun(5, dump); allocs != 0 {
				t.Errorf("%d idle connections: %.0f allocations a dump, want 0", n, allocs)
			}
			if len(socks) != n || socks[n-1].Traffic != first {
				t.Errorf("%d sockets listed; the last one's counters shared: %v", len(socks), socks[n-1].Traffic == first)
			}
		})
	}
}
