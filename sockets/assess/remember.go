package assess

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
)

// An Assessor that remembers judges only what changed. A quiet poll of
// 20,000 connections finds each one where the last poll listed it, sees
// that it reads the same, and hands back the same *Verdict; the counts a
// judgement needs (connections per port and per remote address, sockets
// per process, the ports each remote address reached) are kept between
// polls and changed by the connections that came, went or changed, never
// counted again from the whole snapshot. A quiet poll allocates nothing
// that grows with the sockets (TestQuietPollAllocationsDoNotGrow).

// remembered is a connection's verdict. What it adds to the counts is
// its verdict's socket's share (shareOf(&v.Socket)), taken out as it was
// put in: the share is never kept beside it, as that would be another 72
// bytes, and pointers, for each of 20,000 connections.
type remembered struct {
	v     *Verdict
	inode uint64
	seen  uint32 // the poll that last listed it (Assessor.gen): 24 bytes in all, not 32
	// stale: the socket changed since v was made; it is judged again.
	stale bool
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
	// floodEpoch moves whenever an address at FloodThreshold or more
	// gains or loses a connection: a listener's flood findings name those
	// addresses and counts, so its verdict is made again then.
	floodEpoch uint64
	pidsDirty  bool
	pidsView   map[int32]int // the last frozen copy of perPID, handed to assessments
	scan       scanLive
}

func newLiveCounts() *liveCounts {
	return &liveCounts{conns: map[portKey]int{}, perRemote: map[portKey]map[netip.Addr]int{}, perPID: map[int32]int{},
		pidsView: map[int32]int{}, scan: newScanLive()}
}

// apply adds a connection's share (sign +1) or takes it out (-1).
func (lc *liveCounts) apply(sh *share, sign int, at time.Time) {
	lc.applyOwners(sh.owners, sign)
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
	if before >= FloodThreshold || after >= FloodThreshold {
		lc.floodEpoch++
	}
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

// applyOwners counts a socket for each of its owners (sign +1) or takes
// it out (-1).
func (lc *liveCounts) applyOwners(owners []*sockets.Process, sign int) {
	for _, p := range owners {
		lc.perPID[p.PID] += sign
		if lc.perPID[p.PID] == 0 {
			delete(lc.perPID, p.PID)
		}
		lc.pidsDirty = true
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
	// order is this poll's remembered connections, in its order: the
	// sockets judged afresh are told apart again below by the same test.
	order := as.spare[:0]
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
			r = &remembered{inode: s.Inode, stale: true}
			as.memory[s.Inode] = r
			sh := shareOf(s)
			lc.apply(&sh, +1, at)
		case r.v != nil && !r.stale && !sameJudgement(&r.v.Socket, s):
			// Out with the share of the socket its verdict was made of,
			// in with this one's: the verdict is made again below.
			old, sh := shareOf(&r.v.Socket), shareOf(s)
			lc.apply(&old, -1, at)
			lc.apply(&sh, +1, at)
			r.stale = true
		}
		if r.seen != as.gen {
			r.seen = as.gen
			listed++
		}
		order = append(order, r)
	}
	if listed < len(as.memory) { // forget the connections that are gone
		for k, r := range as.memory {
			if r.seen != as.gen {
				sh := shareOf(&r.v.Socket)
				lc.apply(&sh, -1, at)
				delete(as.memory, k)
			}
		}
	}
	lc.scan.expire(at)

	c := &counts{conns: lc.conns, perRemote: lc.perRemote, floods: lc.floods, baseline: ctx.Baseline,
		firewall: ctx.Firewall, scanners: lc.scan.scanners, texts: as.sentences()}
	a.perPID = lc.pids()
	if transient != nil {
		a.perPID = maps.Clone(a.perPID)
		for pid, n := range transient {
			a.perPID[pid] += n
		}
	}
	k := 0
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		h := health(i)
		if s.IsListening() || s.Inode == 0 {
			a.Verdicts[i] = as.listenerVerdict(s, c, h)
			continue
		}
		r := order[k]
		k++
		switch {
		case r.stale:
			r.v, r.stale = as.judge(s, c, h), false
		case r.v.Flooded != c.flooded(s) || r.v.Scanned != int32(c.scanned(s)) || r.v.Health != h:
			// The same socket as far as sameJudgement sees, judged again
			// for its address or its health; only the owners between its
			// first and last can differ, and the counts follow them.
			was := r.v.Socket.Owners
			r.v = as.judge(s, c, h)
			if !slices.Equal(was, s.Owners) {
				lc.applyOwners(was, -1)
				lc.applyOwners(s.Owners, +1)
			}
		}
		a.Verdicts[i] = r.v
	}
	// The order of this poll is the next poll's hint; the slices are
	// reused, so a quiet poll allocates none.
	// (The package's catalog names a constant clear: the builtin is out
	// of reach here.)
	for i := range as.order {
		as.order[i] = nil
	}
	as.spare, as.order = as.order, order
	for k := range as.listeners { // the builtin clear is shadowed here (above)
		delete(as.listeners, k)
	}
	as.listeners, as.nextListeners = as.nextListeners, as.listeners
	return c
}

// listenerMemo is a listener's last verdict and what it was judged
// against besides the socket.
type listenerMemo struct {
	v     *Verdict
	base  *baseline.Baseline
	flood uint64 // liveCounts.floodEpoch
}

// listenerVerdict judges a socket the remembering loop does not: a
// listener, or a socket without an inode (a TIME_WAIT remnant, a half-open
// connection). A listener whose socket, health, connection count,
// baseline, flooding addresses and firewall answer are all as they were
// in the last poll keeps its verdict, found by inode: its findings are
// not written again, a poll after another.
func (as *Assessor) listenerVerdict(s *sockets.Socket, c *counts, h sockets.Health) *Verdict {
	if !s.IsListening() || s.Inode == 0 {
		return as.judge(s, c, h)
	}
	if as.nextListeners == nil {
		as.listeners, as.nextListeners = map[uint64]listenerMemo{}, map[uint64]listenerMemo{}
	}
	m, ok := as.listeners[s.Inode]
	if !ok || m.base != c.baseline || m.flood != as.live.floodEpoch || m.v.Health != h ||
		m.v.Conns != int32(c.conns[portOf(s)]) || !sameListener(&m.v.Socket, s) || !sameFirewall(m.v, s, c) {
		m = listenerMemo{v: as.judge(s, c, h), base: c.baseline, flood: as.live.floodEpoch}
	}
	as.nextListeners[s.Inode] = m
	return m.v
}

// sameListener: a listener would be judged, and read, the same. Beyond
// sameJudgement, every owner counts (a listener's findings name each of
// them) and so do the fields of its exposure.
func sameListener(a, b *sockets.Socket) bool {
	return sameJudgement(a, b) && a.Inode == b.Inode && slices.Equal(a.Owners, b.Owners) && a.User == b.User &&
		a.BoundIf == b.BoundIf && a.DualStack == b.DualStack && a.DualStackGuessed == b.DualStackGuessed &&
		a.Unreadable == b.Unreadable
}

// sameFirewall: the firewall answers for s what it answered when v was
// made (judge asks it under the same conditions).
func sameFirewall(v *Verdict, s *sockets.Socket, c *counts) bool {
	if c.firewall == nil || s.Exposure() == sockets.ExposureLoopback {
		return v.fw == nil
	}
	fv, ok := c.firewall(s)
	if !ok {
		return v.fw == nil
	}
	return v.fw != nil && v.fw.Equal(&fv)
}
