package sockets

import (
	"net/netip"
	"slices"
)

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

// listenerIndex answers "is this local endpoint one of our listeners?":
// the listeners' endpoints sorted by port, protocol and namespace, searched
// by halves. A machine has a few dozen listeners and tens of thousands of
// connections: the index lives on SetDirections's stack up to
// stackListeners of them, so a poll makes nothing for it, and a connection
// on an ephemeral port (every outbound one) is told apart by its port
// alone.
type listenerIndex []listenerKey

// stackListeners is how many listeners the index holds without the heap.
const stackListeners = 64

type listenerKey struct {
	port  uint16
	proto Proto
	netns uint64
	addr  netip.Addr // the zero Addr for a wildcard listener
}

// comparePort orders keys by port, protocol and namespace, not address.
func comparePort(a, b *listenerKey) int {
	switch {
	case a.port != b.port:
		return int(a.port) - int(b.port)
	case a.proto != b.proto:
		return cmpUint(uint64(a.proto), uint64(b.proto))
	}
	return cmpUint(a.netns, b.netns)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// newListenerIndex indexes socks's listeners in buf's array (grown past it
// only for more listeners than it holds).
func newListenerIndex(socks []Socket, buf []listenerKey) listenerIndex {
	idx := buf[:0]
	for i := range socks {
		s := &socks[i]
		if !s.IsListening() {
			continue
		}
		k := listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
		if !s.Local.IsUnspecified() {
			k.addr = s.Local
		}
		idx = append(idx, k)
	}
	slices.SortFunc(idx, func(a, b listenerKey) int { return comparePort(&a, &b) })
	return idx
}

// accepts reports whether a connection with this local endpoint came in
// through one of the listeners: a wildcard one on its port, or one on its
// very address.
func (idx listenerIndex) accepts(s *Socket) bool {
	k := listenerKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
	lo, hi := 0, len(idx) // the first key not before k's port
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if comparePort(&idx[m], &k) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	for i := lo; i < len(idx) && comparePort(&idx[i], &k) == 0; i++ {
		if !idx[i].addr.IsValid() || idx[i].addr == s.Local {
			return true
		}
	}
	return false
}

// SetDirections marks every connection inbound (its local endpoint is one of
// this machine's listeners for the same protocol) or outbound.
func SetDirections(socks []Socket) {
	var buf [stackListeners]listenerKey
	idx := newListenerIndex(socks, buf[:])
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
