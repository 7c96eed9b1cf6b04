//go:build linux

package collect

import (
	"fmt"

	"github.com/portwatch/portwatch/sockets"
)

// tcpStateNames names the kernel's TCP state numbers
// (include/net/tcp_states.h) in gopsutil's words. Both readers use it:
// /proc/net/tcp prints the number in hex, and sock_diag gives it in
// inet_diag_msg.idiag_state.
var tcpStateNames = [...]string{
	0x01: "ESTABLISHED",
	0x02: "SYN_SENT",
	0x03: "SYN_RECV",
	0x04: "FIN_WAIT1",
	0x05: "FIN_WAIT2",
	0x06: "TIME_WAIT",
	0x07: "CLOSE",
	0x08: "CLOSE_WAIT",
	0x09: "LAST_ACK",
	0x0A: "LISTEN",
	0x0B: "CLOSING",
	0x0C: "NEW_SYN_RECV", // a request socket; both readers report it as SYN_RECV
}

// tcpBoundInactive is TCP_BOUND_INACTIVE, the pseudo-state that follows the
// real ones (Linux 6.8 onwards): no socket is ever in it, but a sock_diag
// request that sets its bit also gets the sockets that are bound and
// nothing more, reported as CLOSE. netlink_linux.go does not ask for it.
const tcpBoundInactive = 0x0D

// stateName names a kernel socket state as portwatch shows it: a TCP state
// by the table above (an unknown number as STATE_XX), a UDP socket as ss
// does, ESTABLISHED once connect()ed to a peer and UNCONN otherwise.
func stateName(proto sockets.Proto, st uint64) string {
	if proto == sockets.UDP {
		if st == 0x01 {
			return sockets.StateEstablished
		}
		return sockets.StateUnconnected
	}
	if st < uint64(len(tcpStateNames)) && tcpStateNames[st] != "" {
		return tcpStateNames[st]
	}
	return fmt.Sprintf("STATE_%02X", st)
}
