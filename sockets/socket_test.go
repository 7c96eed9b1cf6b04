package sockets

import (
	"net/netip"
	"testing"
)

func sock(proto Proto, local string, lport uint16, remote string, rport uint16, state string, inode uint64) Socket {
	return Socket{Proto: proto, Family: 4, Local: netip.MustParseAddr(local), LPort: lport,
		Remote: netip.MustParseAddr(remote), RPort: rport, State: state, Inode: inode}
}

func TestDirectionsAndExposure(t *testing.T) {
	socks := []Socket{
		sock(TCP, "0.0.0.0", 22, "0.0.0.0", 0, StateListen, 1),
		sock(TCP, "127.0.0.1", 5432, "0.0.0.0", 0, StateListen, 2),
		sock(TCP, "192.168.1.5", 22, "192.168.1.9", 40000, StateEstablished, 3),   // in via wildcard
		sock(TCP, "127.0.0.1", 5432, "127.0.0.1", 40001, StateEstablished, 4),     // in via exact address
		sock(TCP, "192.168.1.5", 5432, "192.168.1.9", 40002, StateEstablished, 5), // not that listener
		sock(TCP, "192.168.1.5", 40003, "192.168.1.9", 443, StateEstablished, 6),  // out
		sock(UDP, "192.168.1.5", 22, "192.168.1.9", 53, StateEstablished, 7),      // udp is not tcp
	}
	SetDirections(socks)
	want := []Direction{0, 0, Inbound, Inbound, Outbound, Outbound, Outbound}
	for i, w := range want {
		if socks[i].Direction != w {
			t.Errorf("%s: direction %q, want %q", socks[i].Key(), socks[i].Direction, w)
		}
	}
	exp := map[string]Exposure{"0.0.0.0": ExposureAll, "::": ExposureAll, "127.0.0.1": ExposureLoopback, "::1": ExposureLoopback, "192.168.1.5": ExposureSpecific}
	for a, w := range exp {
		s := Socket{Local: netip.MustParseAddr(a)}
		if s.Exposure() != w {
			t.Errorf("%s: exposure %q, want %q", a, s.Exposure(), w)
		}
	}
}

// TestSocketKeyOrderAndText: keys sort by namespace, protocol, family, then
// endpoints, and read the way ss writes endpoints.
func TestSocketKeyOrderAndText(t *testing.T) {
	v6 := Socket{Proto: TCP, Family: 6, Local: netip.MustParseAddr("::1"), LPort: 22,
		Remote: netip.MustParseAddr("::1"), RPort: 40000, State: StateEstablished, Inode: 7}
	ordered := []Socket{
		sock(TCP, "10.0.0.1", 80, "10.0.0.9", 5000, StateEstablished, 1),
		sock(TCP, "10.0.0.1", 80, "10.0.0.9", 5001, StateEstablished, 2),
		sock(TCP, "10.0.0.2", 22, "10.0.0.9", 5000, StateEstablished, 3),
		v6,
		sock(UDP, "127.0.0.1", 53, "0.0.0.0", 0, StateUnconnected, 4),
	}
	// Two SO_REUSEPORT listeners differ by inode only.
	ordered = append(ordered, sock(UDP, "127.0.0.1", 5353, "0.0.0.0", 0, StateUnconnected, 8),
		sock(UDP, "127.0.0.1", 5353, "0.0.0.0", 0, StateUnconnected, 9))
	for i := range ordered {
		for j := range ordered {
			want := cmpInt(i, j)
			if got := CompareKeys(&ordered[i], &ordered[j]); got != want {
				t.Errorf("CompareKeys(%s, %s) = %d, want %d", ordered[i].Key(), ordered[j].Key(), got, want)
			}
		}
	}
	for s, want := range map[*Socket]string{
		&ordered[0]: "tcp4 10.0.0.1:80 10.0.0.9:5000",
		&ordered[3]: "tcp6 [::1]:22 [::1]:40000",
		&ordered[4]: "udp4 127.0.0.1:53 0.0.0.0:0 #4",
	} {
		if got := s.Key().String(); got != want {
			t.Errorf("key text %q, want %q", got, want)
		}
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
