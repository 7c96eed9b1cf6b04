package sockets

import "net/netip"

// Kind sorts sockets into the tabs portwatch shows.
type Kind int

// The kinds of socket.
const (
	KindOther       Kind = iota // any other TCP state: handshakes, closing, TIME_WAIT
	KindListening               // TCP LISTEN, or UDP bound with no peer
	KindEstablished             // TCP ESTABLISHED, or UDP connected to one peer
)

// String names the kind: listening, established or other.
func (k Kind) String() string {
	switch k {
	case KindListening:
		return "listening"
	case KindEstablished:
		return "established"
	}
	return "other"
}

// Direction tells who opened a connection; zero for listeners.
type Direction uint8

// Directions of a connection.
const (
	Inbound Direction = iota + 1
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Inbound:
		return "in"
	case Outbound:
		return "out"
	}
	return ""
}

// Word is the direction in full: "inbound" or "outbound" ("" for none).
func (d Direction) Word() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return ""
}

// MarshalText gives "in" or "out" in JSON.
func (d Direction) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Exposure says from where a listening socket can be reached.
type Exposure string

// Exposures of a listener.
const (
	ExposureAll      Exposure = "all interfaces"
	ExposureLoopback Exposure = "loopback"
	ExposureSpecific Exposure = "specific address"
)

// Short is the exposure in a word, for a narrow column: all, loopback or
// address.
func (e Exposure) Short() string {
	switch e {
	case ExposureAll:
		return "all"
	case ExposureLoopback:
		return "loopback"
	}
	return "address"
}

// Kind classifies the socket.
func (s *Socket) Kind() Kind {
	switch s.State {
	case StateListen, StateUnconnected, StatePublished:
		return KindListening
	case StateEstablished:
		return KindEstablished
	}
	return KindOther
}

// IsListening is Kind() == KindListening.
func (s *Socket) IsListening() bool { return s.Kind() == KindListening }

// Exposure is where a listener can be reached from; for a connection, the
// exposure of its local address.
func (s *Socket) Exposure() Exposure {
	switch {
	case s.BoundIf == loopbackIfindex: // bound to lo: nothing from outside arrives there
		return ExposureLoopback
	case s.Local.IsUnspecified():
		return ExposureAll
	case s.Local.IsLoopback():
		return ExposureLoopback
	}
	return ExposureSpecific
}

// loopbackIfindex is the loopback device's interface index, the same in
// every network namespace (the kernel creates lo first: LOOPBACK_IFINDEX).
const loopbackIfindex = 1

// listenerIndex answers "is this local endpoint one of our listeners?".
type listenerIndex map[listenerKey]bool

type listenerKey struct {
	netns uint64
	proto Proto
	port  uint16
	addr  netip.Addr // the zero Addr for a wildcard listener
}

func newListenerIndex(socks []Socket) listenerIndex {
	idx := listenerIndex{}
	for i := range socks {
		s := &socks[i]
		if !s.IsListening() {
			continue
		}
		k := listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
		if !s.Local.IsUnspecified() {
			k.addr = s.Local
		}
		idx[k] = true
	}
	return idx
}

// accepts reports whether a connection with this local endpoint came in
// through one of the listeners.
func (idx listenerIndex) accepts(s *Socket) bool {
	k := listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
	if idx[k] {
		return true
	}
	k.addr = s.Local
	return idx[k]
}

// SetDirections marks every connection inbound (its local endpoint is one of
// this machine's listeners for the same protocol) or outbound.
func SetDirections(socks []Socket) {
	idx := newListenerIndex(socks)
	for i := range socks {
		s := &socks[i]
		if s.IsListening() {
			s.Direction = 0
			continue
		}
		if idx.accepts(s) {
			s.Direction = Inbound
		} else {
			s.Direction = Outbound
		}
	}
}
