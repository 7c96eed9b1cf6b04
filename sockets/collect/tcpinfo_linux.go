//go:build linux

package collect

import (
	"encoding/binary"
	"unsafe"

	"github.com/portwatch/portwatch/sockets"
	"golang.org/x/sys/unix"
)

// The fields of struct tcp_info portwatch reads, at their offsets in the
// kernel's layout (golang.org/x/sys/unix.TCPInfo mirrors it). The kernel
// sends the struct as long as it knows it: an older kernel sends a shorter
// one, a newer a longer one. A field beyond what was sent reads as zero,
// and the send window, the newest field read, says whether it was there.
var (
	tiTotalRetrans  = int(unsafe.Offsetof(unix.TCPInfo{}.Total_retrans))
	tiRTT           = int(unsafe.Offsetof(unix.TCPInfo{}.Rtt))
	tiRTTVar        = int(unsafe.Offsetof(unix.TCPInfo{}.Rttvar))
	tiBytesAcked    = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked))
	tiBytesReceived = int(unsafe.Offsetof(unix.TCPInfo{}.Bytes_received))
	tiDeliveryRate  = int(unsafe.Offsetof(unix.TCPInfo{}.Delivery_rate))
	tiSndWnd        = int(unsafe.Offsetof(unix.TCPInfo{}.Snd_wnd))
)

// parseTCPInfo reads the counters out of a struct tcp_info of any length.
func parseTCPInfo(b []byte) sockets.Traffic {
	u32 := func(off int) uint32 {
		if off+4 > len(b) {
			return 0
		}
		return binary.NativeEndian.Uint32(b[off:])
	}
	u64 := func(off int) uint64 {
		if off+8 > len(b) {
			return 0
		}
		return binary.NativeEndian.Uint64(b[off:])
	}
	return sockets.Traffic{
		BytesSent:     u64(tiBytesAcked),
		BytesReceived: u64(tiBytesReceived),
		DeliveryRate:  u64(tiDeliveryRate),
		Retransmits:   u32(tiTotalRetrans),
		RTT:           u32(tiRTT),
		RTTVar:        u32(tiRTTVar),
		SendWindow:    u32(tiSndWnd),
		WindowKnown:   tiSndWnd+4 <= len(b),
	}
}

// trafficInterner hands out each connection's counters: the last dump's
// value where they did not change (the same pointer: nothing is allocated
// for an idle connection, and whoever compares pointers sees it idle), a
// new one where they did. The kernel's dump order holds from poll to poll,
// so a connection's last counters are looked for where it was last time:
// just after the last one found, or a few places on.
type trafficInterner struct {
	prev, next []internedTraffic
	pos        int // where in prev the next connection is likely
}

type internedTraffic struct {
	inode uint64
	t     *sockets.Traffic
}

// internWindow is how far past the likely place a connection is looked
// for: connections opened or closed since the last dump shift the rest.
const internWindow = 8

// start begins a dump (nil: no interner, nothing to do).
func (in *trafficInterner) start() {
	if in == nil {
		return
	}
	clear(in.next[:cap(in.next)]) // let go of values no longer listed
	in.next, in.pos = in.next[:0], 0
}

// finish makes a complete dump's counters the ones the next compares with.
func (in *trafficInterner) finish() {
	if in != nil {
		in.prev, in.next = in.next, in.prev
	}
}

// intern is t as a shared value.
func (in *trafficInterner) intern(inode uint64, t sockets.Traffic) *sockets.Traffic {
	var p *sockets.Traffic
	if in != nil {
		for i := in.pos; i < min(in.pos+internWindow, len(in.prev)); i++ {
			if in.prev[i].inode == inode {
				p, in.pos = in.prev[i].t, i+1
				break
			}
		}
	}
	if p == nil || *p != t {
		// A new value only here: &t would move t to the heap on every call,
		// a copy of every connection's counters whether they changed or not.
		p = new(sockets.Traffic)
		*p = t
	}
	if in == nil {
		return p
	}
	in.next = append(in.next, internedTraffic{inode, p})
	return p
}
