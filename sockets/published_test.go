package sockets

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/portwatch/portwatch/sockets/reach"
)

// JoinPublished, on the cases a real namespace pair does not show (TestPublishedJoinedToListenerInside
// in collect runs the real one): a listener bound to the address wins over a wildcard one, the
// other family's wildcard is not it (but a dual-stack one is), and an address two namespaces
// hold names nobody.
func TestJoinPublishedPicks(t *testing.T) {
	listener := func(ino uint64, addr string, port uint16, inode uint64, dual bool) Socket {
		return Socket{Proto: TCP, Local: netip.MustParseAddr(addr), LPort: port, Remote: netip.IPv4Unspecified(),
			State: StateListen, Inode: inode, NetnsInode: ino, Netns: "ns", DualStack: dual}
	}
	pub := func(to string) Published {
		return Published{Published: reach.Published{Proto: "tcp", HostPort: 8080, To: netip.MustParseAddrPort(to)}, NetnsInode: 1, Netns: "host"}
	}
	socks := []Socket{
		listener(2, "0.0.0.0", 80, 20, false), listener(2, "172.17.0.2", 80, 21, false),
		listener(3, "::", 80, 30, false), listener(4, "::", 80, 40, true),
		listener(5, "0.0.0.0", 80, 50, false), listener(6, "0.0.0.0", 80, 60, false),
	}
	addrs := map[uint64][]netip.Addr{
		1: {netip.MustParseAddr("10.0.0.5")},
		2: {netip.MustParseAddr("172.17.0.2")}, 3: {netip.MustParseAddr("172.18.0.2")},
		4: {netip.MustParseAddr("172.19.0.2")},
		5: {netip.MustParseAddr("172.20.0.2")}, 6: {netip.MustParseAddr("172.20.0.2")},
	}
	pubs := []Published{pub("172.17.0.2:80"), pub("172.18.0.2:80"), pub("172.19.0.2:80"), pub("172.20.0.2:80"), pub("192.0.2.1:80")}
	JoinPublished(pubs, socks, addrs)
	want := []uint64{21, 0, 40, 0, 0}
	for i, p := range pubs {
		got := uint64(0)
		if p.Inside != nil {
			got = p.Inside.Inode
		}
		if got != want[i] {
			t.Errorf("%s: inside inode %d, want %d", p.To, got, want[i])
		}
	}
	if got := PublishedAs(pubs, &socks[1]); !slices.Equal(got, []string{"host 0.0.0.0:8080"}) {
		t.Errorf("published as %q", got)
	}
	if got := PublishedAs(pubs, &socks[0]); got != nil {
		t.Errorf("the wildcard listener the bound one shadows: published as %q", got)
	}
}
