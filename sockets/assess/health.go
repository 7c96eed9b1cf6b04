package assess

import (
	"slices"

	"github.com/portwatch/portwatch/sockets"
)

// healthFindings explains a connection's health state (Context.Health,
// which the traffic tracker judges from the kernel's counters over several
// polls), worst first kept. The sentences depend on the state alone, never
// on the counters: a connection's verdict is rebuilt when its state
// changes, not with every byte.
func healthFindings(s *sockets.Socket, h sockets.Health, f []Finding) []Finding {
	if h == 0 || s.IsListening() {
		return f
	}
	n := len(f)
	if h&sockets.HealthRetransmits != 0 {
		f = append(f, Finding{Severity: RiskLow, Code: CodeRetransmits, Text: "The kernel keeps re-sending data on this connection: its retransmit counter rose in most of the last polls. " +
			"A retransmit is a segment sent again because no acknowledgement came back in time: it, or its " +
			"acknowledgement, was lost or held up on the way. A few are normal; a steady climb means packets are " +
			"being lost (a bad link, a congested router or Wi-Fi, a firewall dropping some), and TCP slows the " +
			"connection down each time."})
	}
	if h&sockets.HealthSendStuck != 0 {
		stuck := "Data waits in this connection's send queue and the peer has acknowledged none of it for several seconds. "
		if h&sockets.HealthZeroWindow != 0 {
			stuck += "The peer's receive window is zero: its buffer is full because the program at the other end is " +
				"not reading (stuck, busy or overloaded). The kernel keeps probing the window; until the peer reads, " +
				"this program's writes block, or fail with EAGAIN, and its data piles up here."
		} else {
			stuck += "The peer's window is open, so nothing is arriving there, or its acknowledgements are not coming " +
				"back: the path may be broken (a cable, a route, a firewall dropping packets) or the peer is gone. " +
				"The kernel retransmits with longer and longer waits and gives up after about 15 minutes " +
				"(net.ipv4.tcp_retries2)."
		}
		f = append(f, Finding{Severity: RiskLow, Code: CodeSendQueueStuck, Text: stuck})
	}
	if len(f) > n {
		slices.SortStableFunc(f, func(x, y Finding) int { return int(y.Severity) - int(x.Severity) })
	}
	return f
}
