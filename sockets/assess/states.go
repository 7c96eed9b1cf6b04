package assess

import "github.com/portwatch/portwatch/sockets"

// stateHelp explains every TCP state, and UDP's two, in plain words.
var stateHelp = map[string]string{
	"LISTEN":       "Waiting for connections: a server socket that accepts clients.",
	"PUBLISHED":    "Not a socket: a DNAT rule sends connections to this host port on to another address (a container's), whether or not a proxy socket listens here.",
	"SYN_SENT":     "This side sent a connection request (SYN) and waits for the answer. Many of these to one host: it is down or filtered.",
	"SYN_RECV":     "A client's request (SYN) arrived and was answered (SYN-ACK); waiting for its final ACK. A flood of these is a SYN flood.",
	"NEW_SYN_RECV": "A half-open connection that the kernel holds for a listener until the handshake completes.",
	"ESTABLISHED":  "The connection is open and data can flow both ways.",
	"FIN_WAIT1":    "This side closed the connection (sent FIN) and waits for the peer to acknowledge it.",
	"FIN_WAIT2":    "The peer acknowledged our close; waiting for the peer to close its side too.",
	"TIME_WAIT":    "Closed by this side; the kernel keeps the address pair for a while (60 s on Linux) so late packets are not mistaken for a new connection. No process owns it.",
	"CLOSE":        "The socket is closed and not in use.",
	"CLOSE_WAIT":   "The peer closed its side; the local program has not closed its own yet. Many that never go away: the program leaks connections.",
	"LAST_ACK":     "Both sides closed; waiting for the last acknowledgement of our FIN.",
	"CLOSING":      "Both sides closed at the same moment; waiting for the acknowledgement.",
	"UNCONN":       "A UDP socket bound to a port and receiving from anyone: UDP's way of listening. UDP has no connections and no handshake.",
}

// udpConnectedHelp is ESTABLISHED for UDP, which has no handshake.
const udpConnectedHelp = "A UDP socket connect()ed to one peer: it sends to and receives from that peer only. No handshake took place; UDP has no real connections."

// StateHelp explains a socket's state for learners.
func StateHelp(proto sockets.Proto, state string) string {
	if proto == sockets.UDP && state == sockets.StateEstablished {
		return udpConnectedHelp
	}
	if h, ok := stateHelp[state]; ok {
		return h
	}
	return "A state portwatch has no explanation for."
}

// TCPStates lists the TCP states in the order a connection meets them.
var TCPStates = []string{"LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "CLOSING"}
