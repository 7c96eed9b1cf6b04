package assess

import (
	"maps"
	"net/netip"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// An Assessor that remembers judges only what changed. A quiet poll of
// 20,000 connections finds each one where the last poll listed it, sees
// that it reads the same, and hands back the same *Verdict; the counts a
// judgement needs (connections per port and per remote address, sockets
// per process, the ports each remote address reached) are kept between
// polls and changed by the connections that came, went or changed, never
// counted again from the whole snapshot. A quiet poll allocates nothing
// that grows with the sockets (TestQuietPollAllocationsDoNotGrow).

// remembered is a connection's verdict and what it adds to the counts.
type remembered struct {
	v     *Verdict
	inode uint64
	seen  uint64
	// stale: the socket changed since v was made; it is judged again.
	stale bool
	share share
}

// share is what one connection adds to the live counts, kept so that it
// is taken out exactly as it was put in.
type share struct {
	owners []*sockets.Process // read-only: collection shares them
	port   portKey
	remote netip.Addr
	conn   bool // an established inbound connection: counted per port and remote
	scan   bool // an inbound socket: counted in the scan memory
}

func shareOf(s *sockets.Socket) share {
	sh := share{owners: s.Owners}
	if s.Direction == sockets.Inbound && s.Remote.IsValid() && !s.Remote.IsUnspecified() {
		sh.port, sh.remote, sh.scan = portOf(s), s.Remote, true
		sh.conn = s.Kind() == sockets.KindEstablished
	}
	return sh
}

// liveCounts are the counts kept between polls.
type liveCounts struct {
	conns     map[portKey]int
	perRemote map[portKey]map[netip.Addr]int
	perPID    map[int32]int
	floods    int
	pidsDirty bool
	pidsView  map[int32]int // the last frozen copy of perPID, handed to assessments
	scan      scanLive
}

func newLiveCounts() *liveCounts {
	return &liveCounts{conns: map[portKey]int{}, perRemote: map[portKey]map[netip.Addr]int{}, perPID: map[int32]int{},
		pidsView: map[int32]int{}, scan: scanLive{remotes: map[remoteKey]map[uint16]*portSeen{}, scanners: map[remoteKey]int{}}}
}

// apply adds a connection's share (sign +1) or takes it out (-1).
func (lc *liveCounts) apply(sh *share, sign int, at time.Time) {
	for _, p := range sh.owners {
		lc.perPID[p.PID] += sign
		if lc.perPID[p.PID] == 0 {
			delete(lc.perPID, p.PID)
		}
		lc.pidsDirty = true
	}
	if sh.scan {
		k := remoteKey{sh.port.netns, sh.remote}
		if sign > 0 {
			lc.scan.connect(k, sh.port.port, at)
		} else {
			lc.scan.disconnect(k, sh.port.port, at)
		}
	}
	if !sh.conn {
		return
	}
	lc.conns[sh.port] += sign
	if lc.conns[sh.port] == 0 {
		delete(lc.conns, sh.port)
	}
	remotes := lc.perRemote[sh.port]
	if remotes == nil {
		remotes = map[netip.Addr]int{}
		lc.perRemote[sh.port] = remotes
	}
	before := remotes[sh.remote]
	after := before + sign
	switch {
	case before < FloodThreshold && after >= FloodThreshold:
		lc.floods++
	case before >= FloodThreshold && after < FloodThreshold:
		lc.floods--
	}
	if after == 0 {
		delete(remotes, sh.remote)
		if len(remotes) == 0 {
			delete(lc.perRemote, sh.port)
		}
	} else {
		remotes[sh.remote] = after
	}
}

// pids is an immutable view of the sockets per process of the remembered
// connections, copied only when they changed.
func (lc *liveCounts) pids() map[int32]int {
	if lc.pidsDirty {
		lc.pidsView = maps.Clone(lc.perPID)
		lc.pidsDirty = false
	}
	return lc.pidsView
}

// assessRemembering is AssessWith for an Assessor that remembers. It
// fills a's verdicts and returns the counts it judged with.
func (as *Assessor) assessRemembering(snap *sockets.Snapshot, ctx Context, a *Assessment, health func(int) sockets.Health) *counts {
	if as.live == nil {
		as.live = newLiveCounts()
	}
	if len(as.memory) == 0 { // the first poll: sized at once, not grown by doubling
		as.memory = make(map[uint64]*remembered, len(snap.Sockets))
	}
	lc, at := as.live, snap.Taken
	as.gen++
	listed := 0
	// The sockets judged afresh every poll (listeners, few; inode 0:
	// TIME_WAIT and half-open connections) count for this poll only.
	var transient map[int32]int
	rs := as.rows[:0]
	prev, j := as.order, 0
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.IsListening() || s.Inode == 0 {
			for _, p := range s.Owners {
				if transient == nil {
					transient = map[int32]int{}
				}
				transient[p.PID]++
			}
			if s.Direction == sockets.Inbound && s.Remote.IsValid() && !s.Remote.IsUnspecified() {
				lc.scan.touch(remoteKey{s.NetnsInode, s.Remote}, s.LPort, at)
			}
			rs = append(rs, nil)
			continue
		}
		// Where the last poll listed it first: the kernel's order holds.
		var r *remembered
		if j < len(prev) && prev[j].inode == s.Inode {
			r = prev[j]
			j++
		} else if r = as.memory[s.Inode]; r != nil {
			for k := j; k < len(prev) && k < j+8; k++ { // resynchronise after a socket came or went
				if prev[k] == r {
					j = k + 1
					break
				}
			}
		}
		switch {
		case r == nil:
			r = &remembered{inode: s.Inode, stale: true, share: shareOf(s)}
			as.memory[s.Inode] = r
			lc.apply(&r.share, +1, at)
		case r.v != nil && !sameJudgement(&r.v.Socket, s):
			lc.apply(&r.share, -1, at)
			r.share, r.stale = shareOf(s), true
			lc.apply(&r.share, +1, at)
		}
		if r.seen != as.gen {
			r.seen = as.gen
			listed++
		}
		rs = append(rs, r)
	}
	if listed < len(as.memory) { // forget the connections that are gone
		for k, r := range as.memory {
			if r.seen != as.gen {
				lc.apply(&r.share, -1, at)
				delete(as.memory, k)
			}
		}
	}
	lc.scan.expire(at)

	c := &counts{conns: lc.conns, perRemote: lc.perRemote, floods: lc.floods, baseline: ctx.Baseline,
		firewall: ctx.Firewall, scanners: lc.scan.scanners}
	a.perPID = lc.pids()
	if transient != nil {
		a.perPID = maps.Clone(a.perPID)
		for pid, n := range transient {
			a.perPID[pid] += n
		}
	}
	order := as.spare[:0]
	for i, r := range rs {
		s := &snap.Sockets[i]
		h := health(i)
		if r == nil {
			a.Verdicts[i] = as.judge(s, c, h)
			continue
		}
		if r.stale || r.v.Flooded != c.flooded(s) || r.v.Scanned != c.scanned(s) || r.v.Health != h {
			r.v, r.stale = as.judge(s, c, h), false
		}
		a.Verdicts[i] = r.v
		order = append(order, r)
	}
	// The order of this poll is the next poll's hint; the slices are
	// reused, so a quiet poll allocates none.
	// (The package's catalog names a constant clear: the builtin is out
	// of reach here.)
	for i := range as.order {
		as.order[i] = nil
	}
	as.spare, as.order = as.order, order
	for i := range rs {
		rs[i] = nil
	}
	as.rows = rs[:0]
	return c
}
