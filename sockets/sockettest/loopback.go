package sockettest

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// Pair is a real TCP connection on loopback with both of its ends open in
// this process, and the listener that accepted it.
type Pair struct {
	Listener *net.TCPListener
	Client   *net.TCPConn // the end that dialled
	Server   *net.TCPConn // the end the listener accepted
}

// LoopbackPair listens on 127.0.0.1 on a port the kernel picks, connects
// to it and accepts. The listener and both ends are closed when the test
// ends (a test may close them before: closing twice is harmless).
func LoopbackPair(t testing.TB) *Pair {
	t.Helper()
	ln := Listen(t, "tcp4", "127.0.0.1:0")
	client, server := Connect(t, ln)
	return &Pair{Listener: ln, Client: client, Server: server}
}

// ClientAddr is the client end's local address and port.
func (p *Pair) ClientAddr() netip.AddrPort { return AddrPort(p.Client.LocalAddr()) }

// ServerAddr is the server end's local address and port: the listener's.
func (p *Pair) ServerAddr() netip.AddrPort { return AddrPort(p.Server.LocalAddr()) }

// Listen listens on address (network "tcp4", "tcp6" or "tcp"), closed when
// the test ends; the test fails if it cannot.
func Listen(t testing.TB, network, address string) *net.TCPListener {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatalf("listen %s %s: %v", network, address, err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// Connect dials ln at its own address and accepts that connection; both
// ends are closed when the test ends.
func Connect(t testing.TB, ln net.Listener) (client, server *net.TCPConn) {
	t.Helper()
	return ConnectTo(t, ln, "tcp", ln.Addr().String())
}

// ConnectTo dials address on network (one of ln's addresses: "127.0.0.1"
// for a dual-stack listener on [::], say) and accepts that connection from
// ln. A stranger's connection accepted meanwhile is closed, not returned:
// the machine's other programs may connect to any loopback port.
func ConnectTo(t testing.TB, ln net.Listener, network, address string) (client, server *net.TCPConn) {
	t.Helper()
	c, err := net.DialTimeout(network, address, 10*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, address, err)
	}
	t.Cleanup(func() { c.Close() })
	client = c.(*net.TCPConn)
	want := AddrPort(client.LocalAddr())
	tl := ln.(*net.TCPListener)
	tl.SetDeadline(time.Now().Add(10 * time.Second))
	defer tl.SetDeadline(time.Time{})
	for {
		s, err := tl.AcceptTCP()
		if err != nil {
			t.Fatalf("accept on %s (the dial from %s): %v", ln.Addr(), want, err)
		}
		if AddrPort(s.RemoteAddr()) == want {
			t.Cleanup(func() { s.Close() })
			return client, s
		}
		s.Close()
	}
}

// AddrPort is a TCP or UDP address as a netip.AddrPort, an IPv4 address in
// its 4-byte form.
func AddrPort(a net.Addr) netip.AddrPort {
	var ip net.IP
	var port int
	switch a := a.(type) {
	case *net.TCPAddr:
		ip, port = a.IP, a.Port
	case *net.UDPAddr:
		ip, port = a.IP, a.Port
	default:
		ap, _ := netip.ParseAddrPort(a.String())
		return ap
	}
	addr, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port))
}
