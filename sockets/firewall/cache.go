//go:build linux

package firewall

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
)

// Cache keeps each network namespace's ruleset and reads it again only when its generation id
// changes (nftables bumps it on every committed change: NFT_MSG_GETGEN), so an unchanged firewall
// costs one small netlink request per poll. It keeps one netlink socket open per namespace for that
// (opening one in another namespace means entering it); a namespace not asked about for a minute is
// let go, and Forget lets one go at once.
//
// Legacy iptables tables, which have no generation, are looked at again on every call in a
// namespace that has any. A ruleset with sets whose contents change without a generation change
// (timeouts, updates from the packet path) is read again once it is older than VolatileMaxAge.
// The zero Cache is ready to use and safe for concurrent use.
type Cache struct {
	// VolatileMaxAge bounds the age of a ruleset with volatile sets; 0 means 30 seconds.
	VolatileMaxAge time.Duration

	// open reaches a namespace through a process; nil is the kernel (openNS). The tests replay
	// recorded conversations through it.
	open func(pid int) (netns, error)

	mu      sync.Mutex
	entries map[uint64]*cacheEntry
	reads   int // full reads, for tests
}

type cacheEntry struct {
	rs    *Ruleset
	at    time.Time // when rs was read
	used  time.Time
	conn  *netlink.Conn
	legac bool // the namespace had legacy tables at the last look
}

const idleConn = time.Minute

// Ruleset is the ruleset of the network namespace nsInode, reached through process pid (0: the
// caller's own namespace). It fails when the process is gone or no longer in that namespace (pass
// nsInode 0 to skip that check). Like Read, a ruleset the caller may not read is a Ruleset whose
// verdicts are Unknown, not an error.
func (c *Cache) Ruleset(pid int, nsInode uint64) (*Ruleset, error) {
	ino, err := nsInodeOf(pid)
	if err != nil {
		if isPerm(err) {
			return unreadable(), nil
		}
		return nil, err
	}
	if nsInode != 0 && ino != nsInode {
		return nil, fmt.Errorf("firewall: process %d is in network namespace %d, not %d", pid, ino, nsInode)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.sweep(now)
	if c.entries == nil {
		c.entries = map[uint64]*cacheEntry{}
	}
	e := c.entries[ino]
	if e == nil {
		e = &cacheEntry{}
		c.entries[ino] = e
	}
	e.used = now

	var h netns // opened only when needed: to dial, to read, to look at legacy tables
	handle := func() (netns, error) {
		if h == nil {
			var err error
			if h, err = c.openNS(pid); err != nil {
				return nil, err
			}
			if h.inode() != ino {
				return nil, fmt.Errorf("firewall: process %d left network namespace %d", pid, ino)
			}
		}
		return h, nil
	}
	defer func() {
		if h != nil {
			h.close()
		}
	}()

	var gen uint32
	for try := 0; ; try++ {
		if e.conn == nil {
			hh, err := handle()
			if err == nil {
				e.conn, err = hh.dial()
			}
			if err != nil {
				if isPerm(err) {
					return unreadable(), nil
				}
				return nil, err
			}
		}
		gen, err = getGen(e.conn)
		if err == nil {
			break
		}
		e.conn.Close()
		e.conn = nil
		if isPerm(err) {
			return unreadable(), nil
		}
		if try == 1 {
			return nil, err
		}
	}

	if e.rs != nil && e.rs.gen == gen {
		fresh := true
		if e.rs.volatile {
			max := c.VolatileMaxAge
			if max == 0 {
				max = 30 * time.Second
			}
			fresh = now.Sub(e.at) < max
		}
		if fresh {
			if e.legac || legacyPresent(pid) {
				hh, err := handle()
				if err != nil {
					return nil, err
				}
				l4, l6, err := hh.legacy()
				if err != nil {
					return nil, err
				}
				fresh = l4 == e.rs.legacy4 && l6 == e.rs.legacy6
			}
		}
		if fresh {
			return e.rs, nil
		}
	}
	hh, err := handle()
	if err != nil {
		return nil, err
	}
	rs, err := readWith(e.conn, gen, hh)
	if err != nil {
		return nil, err
	}
	c.reads++
	e.rs, e.at = rs, now
	e.legac = rs.legacy4 || rs.legacy6 || legacyPresent(pid)
	return rs, nil
}

func (c *Cache) openNS(pid int) (netns, error) {
	if c.open != nil {
		return c.open(pid)
	}
	h, err := openNS(pid)
	if err != nil {
		return nil, err // not a nil *nsHandle in a non-nil netns
	}
	return h, nil
}

// legacyPresent says whether the namespace of the process has legacy iptables tables, from
// /proc/PID/net without entering it: what a poll with an unchanged generation can afford.
func legacyPresent(pid int) bool {
	p := &nsHandle{pid: pid}
	return len(p.legacyNames(false)) > 0 || len(p.legacyNames(true)) > 0
}

// sweep lets go of namespaces not asked about for a while.
func (c *Cache) sweep(now time.Time) {
	for ino, e := range c.entries {
		if now.Sub(e.used) > idleConn {
			if e.conn != nil {
				e.conn.Close()
			}
			delete(c.entries, ino)
		}
	}
}

// Forget drops a namespace's ruleset and closes its socket: call it when the namespace is gone.
func (c *Cache) Forget(nsInode uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[nsInode]; e != nil {
		if e.conn != nil {
			e.conn.Close()
		}
		delete(c.entries, nsInode)
	}
}

// Close closes every socket the cache holds. The cache stays usable.
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ino, e := range c.entries {
		if e.conn != nil {
			e.conn.Close()
		}
		delete(c.entries, ino)
	}
}

func nsInodeOf(pid int) (uint64, error) {
	path := "/proc/self/ns/net"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/ns/net", pid)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}
