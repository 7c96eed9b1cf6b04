package assess

import "time"

// scanLive is the scan memory of an Assessor that remembers: which of our
// ports each remote address reached within ScanWindow, kept from the
// connections that come and go rather than from every socket of every
// poll. A port counts as reached while a connection to it lives, and for
// ScanWindow after the last one went (or after a transient socket such as
// a half-open connection was last seen).
type scanLive struct {
	remotes  map[remoteKey]map[uint16]*portSeen
	queue    []queuedPort      // ports with no live connection, oldest first: the expiry order
	scanners map[remoteKey]int // remote addresses at ScanThreshold ports or more
}

// portSeen is one remote address's use of one of our ports.
type portSeen struct {
	live   int32     // connections to it now
	last   time.Time // when the last one went, or a transient socket was seen
	queued bool      // in the expiry queue
}

type queuedPort struct {
	k    remoteKey
	port uint16
}

func (sl *scanLive) seen(k remoteKey, port uint16) *portSeen {
	ports := sl.remotes[k]
	if ports == nil {
		ports = map[uint16]*portSeen{}
		sl.remotes[k] = ports
	}
	ps := ports[port]
	if ps == nil {
		ps = &portSeen{}
		ports[port] = ps
		sl.judge(k, ports)
	}
	return ps
}

func (sl *scanLive) connect(k remoteKey, port uint16, at time.Time) {
	ps := sl.seen(k, port)
	ps.live++
	ps.last = at
}

func (sl *scanLive) disconnect(k remoteKey, port uint16, at time.Time) {
	ps := sl.remotes[k][port]
	if ps == nil {
		return
	}
	ps.live--
	ps.last = at
	sl.enqueue(k, port, ps)
}

// touch records a socket judged afresh each poll (a half-open connection).
func (sl *scanLive) touch(k remoteKey, port uint16, at time.Time) {
	ps := sl.seen(k, port)
	ps.last = at
	sl.enqueue(k, port, ps)
}

func (sl *scanLive) enqueue(k remoteKey, port uint16, ps *portSeen) {
	if ps.live <= 0 && !ps.queued {
		ps.queued = true
		sl.queue = append(sl.queue, queuedPort{k, port})
	}
}

// expire forgets the ports no connection holds that were last used more
// than ScanWindow ago. A port used again meanwhile goes to the back.
func (sl *scanLive) expire(at time.Time) {
	n := 0
	for n < len(sl.queue) {
		q := sl.queue[n]
		ps := sl.remotes[q.k][q.port]
		if ps != nil && ps.live <= 0 && at.Sub(ps.last) <= ScanWindow {
			break // the oldest still counts: so do the rest
		}
		n++
		if ps == nil {
			continue
		}
		ps.queued = false
		if ps.live > 0 {
			continue // connected again: expired when it goes
		}
		ports := sl.remotes[q.k]
		delete(ports, q.port)
		if len(ports) == 0 {
			delete(sl.remotes, q.k)
			delete(sl.scanners, q.k)
		} else {
			sl.judge(q.k, ports)
		}
	}
	if n > 0 {
		sl.queue = append(sl.queue[:0], sl.queue[n:]...)
	}
}

// judge keeps scanners true for one remote address.
func (sl *scanLive) judge(k remoteKey, ports map[uint16]*portSeen) {
	if len(ports) >= ScanThreshold {
		sl.scanners[k] = len(ports)
	} else {
		delete(sl.scanners, k)
	}
}
