package sockets

import (
	"net/netip"

	"github.com/portwatch/portwatch/sockets/reach"
)

// StatePublished is the state of a published port's row: not a socket the kernel lists but a
// DNAT rule that sends a host port elsewhere, a way in all the same (it is a listener's kind).
const StatePublished = "PUBLISHED"

// Published is a published port of one namespace: connections from outside to its host address
// and port are sent (DNAT) to another address, a container's or another machine's, whether or
// not a proxy socket backs it; the verdict is what they meet on the forward path.
type Published struct {
	reach.Published
	// Netns and NetnsInode are the namespace whose rules publish it (its label, as Socket's).
	Netns      string `json:"netns"`
	NetnsInode uint64 `json:"-"`
	// Inside is the listener that answers it, where one of this machine's namespaces holds the
	// destination address and listens there (JoinPublished); nil for none (another machine, or
	// nothing listening: the connections meet a reset or nothing).
	Inside *PublishedListener `json:"inside,omitempty"`
}

// PublishedListener names the listener a published port reaches: copied, not pointed to, as
// the snapshot's sockets are handed back after each poll.
type PublishedListener struct {
	Netns      string     `json:"netns"`
	NetnsInode uint64     `json:"-"`
	Inode      uint64     `json:"inode"`
	Local      netip.Addr `json:"address"`
	Port       uint16     `json:"port"`
	PID        int32      `json:"pid,omitempty"`
	Process    string     `json:"process,omitempty"`
}

// Publisher is a Firewall that also lists the ports its rules publish.
type Publisher interface {
	Published() []reach.Published
}

// maxJoinAddrs bounds the addresses JoinPublished indexes: namespaces are anyone's to make.
const maxJoinAddrs = 1 << 16

// JoinPublished names, for each published port, the listener inside that answers it: a socket of
// its protocol listening on its destination port, in the namespace that holds its destination
// address (addrs: each namespace's addresses by netns inode), bound to that address or to every
// address of its family. An address two namespaces claim names neither (the join would guess).
func JoinPublished(pubs []Published, socks []Socket, addrs map[uint64][]netip.Addr) {
	if len(pubs) == 0 {
		return
	}
	owner := map[netip.Addr]uint64{}
	ambiguous := map[netip.Addr]bool{}
	n := 0
	for ino, as := range addrs {
		for _, a := range as {
			if n++; n > maxJoinAddrs {
				break
			}
			a = a.Unmap()
			if o, ok := owner[a]; ok && o != ino {
				ambiguous[a] = true
			}
			owner[a] = ino
		}
	}
	type key struct {
		ino   uint64
		proto string
		port  uint16
	}
	wanted := map[key]bool{}
	for i := range pubs {
		pubs[i].Inside = nil
		to := pubs[i].To.Addr().Unmap()
		if ino, ok := owner[to]; ok && !ambiguous[to] {
			wanted[key{ino, pubs[i].Proto, pubs[i].To.Port()}] = true
		}
	}
	listeners := map[key][]*Socket{}
	for i := range socks {
		s := &socks[i]
		k := key{s.NetnsInode, s.Proto.String(), s.LPort}
		if wanted[k] && s.IsListening() {
			listeners[k] = append(listeners[k], s)
		}
	}
	for i := range pubs {
		p := &pubs[i]
		to := p.To.Addr().Unmap()
		ino, ok := owner[to]
		if !ok || ambiguous[to] {
			continue
		}
		if s := answering(listeners[key{ino, p.Proto, p.To.Port()}], to); s != nil {
			l := &PublishedListener{Netns: s.Netns, NetnsInode: s.NetnsInode, Inode: s.Inode, Local: s.Local, Port: s.LPort}
			if pr := s.Process(); pr != nil {
				l.PID, l.Process = pr.PID, pr.Name
			}
			p.Inside = l
		}
	}
}

// answering is the listener a connection to addr reaches among a port's listeners: one bound to
// addr itself before a wildcard one of its family (or a dual-stack one).
func answering(ls []*Socket, addr netip.Addr) *Socket {
	var wild *Socket
	for _, s := range ls {
		local := s.Local.Unmap()
		switch {
		case local == addr:
			return s
		case wild == nil && local.IsUnspecified() && (local.Is4() == addr.Is4() || s.DualStack):
			wild = s
		}
	}
	return wild
}

// PublishedAs lists, for a listener, the published ports that reach it ("0.0.0.0:8080" as the
// host publishes it, its namespace's label before it when not the listener's own).
func PublishedAs(pubs []Published, s *Socket) []string {
	var out []string
	for i := range pubs {
		p := &pubs[i]
		if p.Inside == nil || p.Inside.Inode != s.Inode || p.Inside.NetnsInode != s.NetnsInode {
			continue
		}
		host := p.Host
		if !host.IsValid() {
			host = netip.IPv4Unspecified()
		}
		w := netip.AddrPortFrom(host, p.HostPort).String()
		if p.NetnsInode != s.NetnsInode {
			w = p.Netns + " " + w
		}
		out = append(out, w)
	}
	return out
}
