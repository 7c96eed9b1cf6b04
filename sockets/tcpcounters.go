package sockets

// TCPCounters are a network namespace's own TCP counters, as the kernel
// keeps them in /proc/net/snmp and /proc/net/netstat: they see what leaves
// no socket behind, such as a scan of closed ports (each probe answered
// with a reset) or a SYN scan (half-open connections the scanner resets),
// without capturing a packet. They only grow, for the namespace's life.
type TCPCounters struct {
	// Netns labels the namespace as its sockets are labelled.
	Netns string
	// OutRsts: segments sent with RST (Tcp OutRsts): mostly the answer to
	// a connection attempt on a port where nothing listens.
	OutRsts uint64
	// EmbryonicRsts: resets received for connections still in SYN_RECV
	// (TcpExt EmbryonicRsts): a SYN scan of open ports does this; real
	// clients almost never do.
	EmbryonicRsts uint64
	// PassiveOpens: connections accepted by listeners (Tcp PassiveOpens).
	PassiveOpens uint64
	// ListenDrops and ListenOverflows: connection attempts a listener
	// dropped, and those dropped because its backlog was full (TcpExt).
	ListenDrops, ListenOverflows uint64
}
