package sockets

import (
	"net/netip"
	"testing"
)

// directionSockets is a server's listeners (nlisten of them, on ports from
// 1000, the odd ones bound to one address, the even ones wildcards) and n
// connections: one in through each kind of listener, the rest out.
func directionSockets(nlisten, n int) []Socket {
	var socks []Socket
	for i := range nlisten {
		local := "0.0.0.0"
		if i%2 == 1 {
			local = "10.0.0.5"
		}
		socks = append(socks, sock(TCP, local, uint16(1000+i), "0.0.0.0", 0, StateListen, uint64(i+1)))
	}
	for i := range n {
		switch i % 4 {
		case 0: // in through a wildcard listener
			socks = append(socks, sock(TCP, "10.0.0.7", 1000, "10.1.0.1", uint16(30000+i), StateEstablished, uint64(10000+i)))
		case 1: // in through the listener on its address
			socks = append(socks, sock(TCP, "10.0.0.5", 1001, "10.1.0.1", uint16(30000+i), StateEstablished, uint64(10000+i)))
		case 2: // to a listener's port on another address: not through it
			socks = append(socks, sock(TCP, "10.0.0.7", 1001, "10.1.0.1", uint16(30000+i), StateEstablished, uint64(10000+i)))
		default: // out
			socks = append(socks, sock(TCP, "10.0.0.7", uint16(40000+i%20000), "10.1.0.1", 443, StateEstablished, uint64(10000+i)))
		}
	}
	return socks
}

// Directions are the same with few listeners (the index on the stack) and
// many (past it), and in another namespace a listener's port is not ours.
func TestDirectionsManyListeners(t *testing.T) {
	for _, nlisten := range []int{4, stackListeners + 40} {
		socks := directionSockets(nlisten, 400)
		other := sock(TCP, "10.0.0.7", 1000, "10.1.0.1", 5000, StateEstablished, 99999)
		other.NetnsInode = 4026532000
		socks = append(socks, other)
		SetDirections(socks)
		for _, s := range socks[nlisten : len(socks)-1] {
			want := Outbound
			if s.LPort == 1000 || s.LPort == 1001 && s.Local == netip.MustParseAddr("10.0.0.5") {
				want = Inbound
			}
			if s.Direction != want {
				t.Fatalf("%d listeners: %s is %q, want %q", nlisten, s.Key(), s.Direction, want)
			}
		}
		if d := socks[len(socks)-1].Direction; d != Outbound {
			t.Errorf("%d listeners: a connection of another namespace on a listener's port is %q", nlisten, d)
		}
	}
}

// SetDirections makes nothing on the heap for a machine's usual few dozen
// listeners, whatever the number of connections (issue 24: a map a poll).
func TestSetDirectionsAllocatesNothing(t *testing.T) {
	socks := directionSockets(stackListeners, 20000)
	if n := testing.AllocsPerRun(10, func() { SetDirections(socks) }); n != 0 {
		t.Errorf("SetDirections of %d listeners and 20,000 connections: %.0f allocations, want none", stackListeners, n)
	}
}

func BenchmarkSetDirections(b *testing.B) {
	socks := directionSockets(40, 20000)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		SetDirections(socks)
	}
}
