package assess

import "time"

// scanLive is the scan memory of an Assessor that remembers: which of our
// ports each remote address reached within ScanWindow, kept from the
// connections that come and go rather than from every socket of every
// poll. A port counts as reached while a connection to it lives, and for
// ScanWindow after the last one went (or after a transient socket such as
// a half-open connection was last seen).
//
// It is one flat map of (address, port) to a value, and a count of ports
// per address: a web server's 20,000 clients each reach one port, and a
// map of ports per address, with a pointer per port, made the assessor
// hold 135 bytes more of each (issue 24).
type scanLive struct {
	ports    map[remotePort]portSeen
	reached  map[remoteKey]int32 // the ports in ports of each remote address
	queue    []remotePort        // ports with no live connection, oldest first: the expiry order
	scanners map[remoteKey]int   // remote addresses at ScanThreshold ports or more
	// base is the first poll's time: a port's last use is kept as the time
	// since (8 bytes, not a time.Time's 24), measured as time.Sub measures,
	// on the monotonic clock where the polls' times have it.
	base time.Time
}

// remotePort is one remote address's use of one of our ports.
type remotePort struct {
	k    remoteKey
	port uint16
}

// portSeen is what is known of a remotePort.
type portSeen struct {
	last   time.Duration // when the last connection went, or a transient socket was seen (since base)
	live   int32         // connections to it now
	queued bool          // in the expiry queue
}

// since is at as a portSeen keeps it.
func (sl *scanLive) since(at time.Time) time.Duration {
	if sl.base.IsZero() {
		sl.base = at
	}
	return at.Sub(sl.base)
}

func newScanLive() scanLive {
	return scanLive{ports: map[remotePort]portSeen{}, reached: map[remoteKey]int32{}, scanners: map[remoteKey]int{}}
}

// seen is rp's state, counted for its address if it is new.
func (sl *scanLive) seen(rp remotePort) portSeen {
	ps, ok := sl.ports[rp]
	if !ok {
		sl.reached[rp.k]++
		sl.judge(rp.k)
	}
	return ps
}

func (sl *scanLive) connect(k remoteKey, port uint16, at time.Time) {
	rp := remotePort{k, port}
	ps := sl.seen(rp)
	ps.live++
	ps.last = sl.since(at)
	sl.ports[rp] = ps
}

func (sl *scanLive) disconnect(k remoteKey, port uint16, at time.Time) {
	rp := remotePort{k, port}
	ps, ok := sl.ports[rp]
	if !ok {
		return
	}
	ps.live--
	ps.last = sl.since(at)
	sl.enqueue(rp, &ps)
	sl.ports[rp] = ps
}

// touch records a socket judged afresh each poll (a half-open connection).
func (sl *scanLive) touch(k remoteKey, port uint16, at time.Time) {
	rp := remotePort{k, port}
	ps := sl.seen(rp)
	ps.last = sl.since(at)
	sl.enqueue(rp, &ps)
	sl.ports[rp] = ps
}

func (sl *scanLive) enqueue(rp remotePort, ps *portSeen) {
	if ps.live <= 0 && !ps.queued {
		ps.queued = true
		sl.queue = append(sl.queue, rp)
	}
}

// expire forgets the ports no connection holds that were last used more
// than ScanWindow ago. A port used again meanwhile goes to the back.
func (sl *scanLive) expire(at time.Time) {
	now, n := sl.since(at), 0
	for n < len(sl.queue) {
		q := sl.queue[n]
		ps, ok := sl.ports[q]
		if ok && ps.live <= 0 && now-ps.last <= ScanWindow {
			break // the oldest still counts: so do the rest
		}
		n++
		if !ok {
			continue
		}
		if ps.live > 0 { // connected again: expired when it goes
			ps.queued = false
			sl.ports[q] = ps
			continue
		}
		delete(sl.ports, q)
		if sl.reached[q.k]--; sl.reached[q.k] <= 0 {
			delete(sl.reached, q.k)
		}
		sl.judge(q.k)
	}
	if n > 0 {
		sl.queue = append(sl.queue[:0], sl.queue[n:]...)
	}
}

// judge keeps scanners true for one remote address.
func (sl *scanLive) judge(k remoteKey) {
	if n := sl.reached[k]; n >= ScanThreshold {
		sl.scanners[k] = int(n)
	} else {
		delete(sl.scanners, k)
	}
}
