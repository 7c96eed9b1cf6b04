package assess

import (
	"net/netip"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
)

// portKey names a listening port within its namespace: what an inbound
// connection came in through.
type portKey struct {
	netns uint64
	proto sockets.Proto
	port  uint16
}

func portOf(s *sockets.Socket) portKey {
	return portKey{netns: s.NetnsInode, proto: s.Proto, port: s.LPort}
}

// counts are what judging one socket needs to know about all the others,
// computed once per snapshot so that no judgement walks the snapshot.
type counts struct {
	conns     map[portKey]int                // established inbound connections per listening port
	perRemote map[portKey]map[netip.Addr]int // ... and per remote address
	perPID    map[int32]int                  // sockets each process holds
	floods    int                            // remote addresses at FloodThreshold or more
	baseline  *baseline.Baseline             // what listeners are compared with, or nil
	scanners  map[remoteKey]int              // remote addresses that reached many of our ports
	firewall  func(*sockets.Socket) (reach.Verdict, bool)
	texts     *texts // the sentences many sockets share
}

func countSnapshot(snap *sockets.Snapshot) *counts {
	c := &counts{conns: map[portKey]int{}, perRemote: map[portKey]map[netip.Addr]int{}, perPID: map[int32]int{}}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		for _, p := range s.Owners {
			c.perPID[p.PID]++
		}
		if s.Kind() != sockets.KindEstablished || s.Direction != sockets.Inbound {
			continue
		}
		k := portOf(s)
		c.conns[k]++
		if c.perRemote[k] == nil {
			c.perRemote[k] = map[netip.Addr]int{}
		}
		c.perRemote[k][s.Remote]++
	}
	for _, remotes := range c.perRemote {
		for _, n := range remotes {
			if n >= FloodThreshold {
				c.floods++
			}
		}
	}
	return c
}

// fromRemote counts the connections that an inbound connection's remote
// address holds to the same listening port.
func (c *counts) fromRemote(s *sockets.Socket) int {
	if c.floods == 0 || s.Direction != sockets.Inbound { // the usual case, at once
		return 0
	}
	return c.perRemote[portOf(s)][s.Remote]
}

// flooded: the socket is an inbound connection from an address that holds
// FloodThreshold connections or more to the same port.
func (c *counts) flooded(s *sockets.Socket) bool { return c.fromRemote(s) >= FloodThreshold }
