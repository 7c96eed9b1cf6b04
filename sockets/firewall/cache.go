//go:build linux

package firewall

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
)

// Cache keeps each network namespace's ruleset and reads it again only when its generation id
// changes (nftables bumps it on every committed change: NFT_MSG_GETGEN), so an unchanged firewall
// costs one small netlink request per poll. It keeps one netlink socket open per namespace for that
// (opening one in another namespace means entering it), at most MaxConns of them, and those of the
// namespaces being read at that moment: past that the least recently asked about is closed. A namespace not asked about for a minute is let go, and
// Forget lets one go at once (the caller knows when a namespace is gone).
//
// A read is bounded by Limits (rules, elements, time): a ruleset past them is remembered, for its
// generation, as one whose verdicts are Unknown with the reason. Namespaces are read independently:
// a slow read in one never waits for another's, nor makes another wait.
//
// Legacy iptables tables, which have no generation, are looked at again on every call in a
// namespace that has any. A ruleset with sets whose contents change without a generation change
// (timeouts, updates from the packet path) is read again once it is older than VolatileMaxAge.
// The zero Cache is ready to use and safe for concurrent use.
type Cache struct {
	// VolatileMaxAge bounds the age of a ruleset with volatile sets; 0 means 30 seconds.
	VolatileMaxAge time.Duration
	// Limits bounds each read.
	Limits Limits
	// MaxConns bounds the netlink sockets kept open; 0 means DefaultMaxConns.
	MaxConns int

	// open reaches a namespace through a process; nil is the kernel (openNS). The tests replay
	// recorded conversations through it.
	open func(pid int) (netns, error)

	mu      sync.Mutex // guards entries and each entry's used; never held while reading
	entries map[uint64]*cacheEntry
	conns   atomic.Int32 // netlink sockets open
	reads   atomic.Int32 // full reads, for tests
}

// DefaultMaxConns is how many namespaces' netlink sockets a Cache keeps open by default.
const DefaultMaxConns = 64

type cacheEntry struct {
	used time.Time // guarded by Cache.mu

	mu    sync.Mutex  // held while the namespace is asked or read
	gone  atomic.Bool // forgotten while busy: whoever holds mu closes conn on the way out
	rs    *Ruleset
	at    time.Time // when rs was read
	conn  *netlink.Conn
	legac bool // the namespace had legacy tables at the last look
}

const idleConn = time.Minute

// Ruleset is the ruleset of the network namespace nsInode, reached through process pid (0: the
// caller's own namespace). It fails when the process is gone or no longer in that namespace (pass
// nsInode 0 to skip that check). Like Read, a ruleset the caller may not read is a Ruleset whose
// verdicts are Unknown, not an error; so is one past the Limits.
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
	now := time.Now()
	c.mu.Lock()
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
	c.mu.Unlock()

	e.mu.Lock()
	defer func() {
		if e.gone.Load() {
			c.closeConn(e)
		}
		e.mu.Unlock()
	}()
	return c.ask(e, pid, ino, now)
}

// ask answers for one namespace, with e.mu held.
// generation asks the namespace for its ruleset's generation id over the
// entry's netlink socket, dialling it first where it has none, and once
// again on a socket that failed. denied: the namespace refuses us (not
// root): its ruleset reads as unreadable.
func (c *Cache) generation(e *cacheEntry, handle func() (netns, error)) (gen uint32, denied bool, err error) {
	for try := 0; ; try++ {
		if e.conn == nil {
			c.makeRoom(e)
			hh, err := handle()
			if err == nil {
				e.conn, err = hh.dial()
			}
			if err != nil {
				e.conn = nil
				return 0, isPerm(err), err
			}
			c.conns.Add(1)
		}
		gen, err = getGen(e.conn)
		if err == nil {
			return gen, false, nil
		}
		c.closeConn(e)
		if isPerm(err) {
			return 0, true, err
		}
		if try == 1 {
			return 0, false, err
		}
	}
}

// stillFresh says whether the entry's ruleset, of the current generation,
// can be handed out again: a ruleset with volatile sets only for
// VolatileMaxAge, and only while the legacy iptables tables beside it are
// as they were.
func (c *Cache) stillFresh(e *cacheEntry, pid int, now time.Time, handle func() (netns, error)) (bool, error) {
	if e.rs.volatile {
		max := c.VolatileMaxAge
		if max == 0 {
			max = 30 * time.Second
		}
		if now.Sub(e.at) >= max {
			return false, nil
		}
	}
	if !e.legac && !legacyPresent(pid) {
		return true, nil
	}
	hh, err := handle()
	if err != nil {
		return false, err
	}
	l4, l6, err := hh.legacy()
	if err != nil {
		return false, err
	}
	return l4 == e.rs.legacy4 && l6 == e.rs.legacy6, nil
}

func (c *Cache) ask(e *cacheEntry, pid int, ino uint64, now time.Time) (*Ruleset, error) {
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

	gen, denied, err := c.generation(e, handle)
	if denied || err != nil {
		if denied {
			return unreadable(), nil
		}
		return nil, err
	}
	if e.rs != nil && e.rs.gen == gen {
		fresh, err := c.stillFresh(e, pid, now, handle)
		if err != nil {
			return nil, err
		}
		if fresh {
			return e.rs, nil
		}
	}
	hh, err := handle()
	if err != nil {
		return nil, err
	}
	lim := c.Limits.withDefaults()
	// a kernel socket takes the deadline; a recorded conversation (the tests) has none to take
	_ = e.conn.SetDeadline(time.Now().Add(lim.ReadTimeout))
	rs, err := readWith(e.conn, gen, hh, lim)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// the socket may still hold the rest of the dump: start again on a new one next time,
		// and read this generation no more
		c.closeConn(e)
		rs, err = tooSlow(gen, lim.ReadTimeout), nil
	} else if e.conn != nil {
		_ = e.conn.SetDeadline(time.Time{})
	}
	if err != nil {
		return nil, err
	}
	if rs.unreadable != "" && rs.gen != gen {
		rs.gen = gen // a refusal stands for this generation too
	}
	c.reads.Add(1)
	e.rs, e.at = rs, now
	e.legac = rs.legacy4 || rs.legacy6 || legacyPresent(pid)
	return rs, nil
}

// closeConn closes an entry's socket, with e.mu held.
func (c *Cache) closeConn(e *cacheEntry) {
	if e.conn != nil {
		e.conn.Close()
		e.conn = nil
		c.conns.Add(-1)
	}
}

// makeRoom closes the sockets of the least recently asked namespaces, while as many are open as
// MaxConns allows (except self's, which is about to open one). A namespace being read keeps its own.
func (c *Cache) makeRoom(self *cacheEntry) {
	max := c.MaxConns
	if max <= 0 {
		max = DefaultMaxConns
	}
	if int(c.conns.Load()) < max {
		return
	}
	c.mu.Lock()
	byAge := make([]*cacheEntry, 0, len(c.entries))
	for _, e := range c.entries {
		if e != self {
			byAge = append(byAge, e)
		}
	}
	c.mu.Unlock()
	sort.Slice(byAge, func(i, j int) bool { return byAge[i].used.Before(byAge[j].used) })
	for _, e := range byAge {
		if int(c.conns.Load()) < max {
			return
		}
		if e.mu.TryLock() {
			c.closeConn(e)
			e.mu.Unlock()
		}
	}
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

// sweep lets go of namespaces not asked about for a while, with c.mu held.
func (c *Cache) sweep(now time.Time) {
	for ino, e := range c.entries {
		if now.Sub(e.used) > idleConn {
			c.drop(ino, e)
		}
	}
}

// drop forgets an entry, with c.mu held: its socket is closed now, or by the read that holds it.
func (c *Cache) drop(ino uint64, e *cacheEntry) {
	delete(c.entries, ino)
	if e.mu.TryLock() {
		c.closeConn(e)
		e.mu.Unlock()
		return
	}
	e.gone.Store(true) // the read that holds e.mu closes it on its way out (Ruleset)
}

// Forget drops a namespace's ruleset and closes its socket: call it when the namespace is gone.
func (c *Cache) Forget(nsInode uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[nsInode]; e != nil {
		c.drop(nsInode, e)
	}
}

// Known is the namespaces the cache holds, for a caller that forgets the ones gone.
func (c *Cache) Known() []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]uint64, 0, len(c.entries))
	for ino := range c.entries {
		out = append(out, ino)
	}
	return out
}

// Conns is how many netlink sockets the cache holds open.
func (c *Cache) Conns() int { return int(c.conns.Load()) }

// Close closes every socket the cache holds. The cache stays usable.
func (c *Cache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for ino, e := range c.entries {
		c.drop(ino, e)
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
