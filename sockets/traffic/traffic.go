// Package traffic turns the kernel's per-connection counters into rates,
// without capturing a packet: a Tracker, owned by the poll command as the
// assessor is, keeps each TCP connection's counters between polls (by
// socket inode), and says for each poll how fast each connection moved in
// and out over the real time between the two listings, with a minute of
// history for the connections that moved, a listener's sum over its
// connections, and what the counters say of a connection's health.
//
// Its output is immutable: a Flow is never changed once made, so the
// monitor's UI goroutine may read it while the next poll runs, and a
// connection that did not move keeps the very same *Flow, with nothing
// allocated for it.
package traffic

import (
	"net/netip"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// Flow is one socket's traffic as of one poll. It is never changed once
// made.
type Flow struct {
	// Counters are a connection's counters as the kernel gave them in the
	// last poll that asked for them; nil for a listener, whose flow sums
	// its connections, and for a connection not yet seen with counters.
	Counters *sockets.Traffic
	// In and Out are bytes per second received and sent (acknowledged by
	// the peer) over the time between the last two listings.
	In, Out float64
	// Measured is false until a connection has been listed twice with its
	// counters: a rate needs two listings, and only then do In and Out say
	// something.
	Measured bool
	// History is the last minute, a second a slot; nil when the socket has
	// not moved for a minute (or the bound on histories was reached when it
	// started moving).
	History *History
	// Health is what the counters said over the last polls.
	Health sockets.Health
	// Active counts, for a listener, its connections that moved in this
	// poll.
	Active int32
}

// Total is the bytes per second both ways.
func (f *Flow) Total() float64 { return f.In + f.Out }

// Poll is what the tracker says of one snapshot. Its arrays (Flows,
// Health) are the tracker's own, refilled by the second Observe after the
// one that gave them: a holder may read them while the next poll runs (the
// monitor's UI does), not beyond it. The Flows they point to are immutable
// and may be kept.
type Poll struct {
	// Flows has one entry per socket of the snapshot, in its order: a TCP
	// connection's traffic, a TCP listener's sum over its connections; nil
	// for the sockets without counters (UDP, TIME_WAIT, sockets read from
	// /proc/net). Flows is nil when the snapshot has no counters and none
	// were seen lately (a source that never has them).
	Flows []*Flow
	// Health has one entry per socket of the snapshot, in its order (the
	// assessor's Context.Health); nil when no connection has a health
	// flag.
	Health []sockets.Health
	// Moved sums, by program (the first owner's name, "(unknown)" when no
	// owner is known), the bytes its TCP connections moved since the last
	// poll with counters: all of a connection's bytes when it is first
	// seen. What grows watch's per-program byte counters; nil when nothing
	// moved (a quiet poll allocates nothing for it).
	Moved map[string]Bytes
}

// Bytes is what some connections sent (acknowledged by the peer) and
// received.
type Bytes struct{ Sent, Received uint64 }

// The tracker's defaults.
const (
	// MaxHistories bounds the minute-long histories kept at once (a
	// history is about a kilobyte): on a machine with more busy
	// connections than that, the ones that started moving last have
	// rates but no sparkline until others go quiet for a minute.
	MaxHistories = 2000
	// StuckAfter is how long data must wait in a send queue with nothing
	// acknowledged before the connection is called stuck.
	StuckAfter = 5 * time.Second
	// IdleRecheck is how often the counters are asked for while nothing
	// moves (Wants): they make the kernel's dump a third dearer, and an
	// idle machine needs them only to notice that something started.
	IdleRecheck = 3 * time.Second
)

// retransPolls and retransClimbing: the retransmit counter "keeps
// climbing" once it rose in retransClimbing of the last retransPolls
// polls, and stops once it rose in none of them: between the two, the
// state stays as it was, so it does not flicker.
const (
	retransPolls    = 5
	retransClimbing = 3
)

// lookAhead is how far past the likely place a socket is looked for in the
// last poll's order before its inode is looked up.
const lookAhead = 8

// Tracker keeps the counters of every connection between polls. It serves
// one poll at a time: the poll command owns it, as it owns the assessor.
type Tracker struct {
	// MaxHistories, StuckAfter and IdleRecheck default to the package's
	// constants; a test may set them before the first poll.
	MaxHistories int
	StuckAfter   time.Duration
	IdleRecheck  time.Duration

	conns     map[uint64]*conn // TCP connections and listeners, by inode
	order     []*conn          // the last poll's, in its order: most are found there without a look-up
	next      []*conn          // this poll's, the order of the next
	pos       int              // where in order the next socket is likely
	last      time.Time        // the last snapshot with counters: its Taken
	gen       uint32
	histories int // rings held, over every socket
	// bufs are the two polls' arrays handed out in turn (Poll): a quiet
	// poll allocates none, and the last poll's stay as they were while
	// this one is made.
	bufs [2]pollBuf
	turn int
	// Scratch of one poll, kept so that it is not allocated every poll:
	// the TCP listeners of the snapshot, their sums, a history being
	// compared with the last.
	listeners []int
	sums      sums
	hist      History
	// eager: the last poll with counters saw something move, a health
	// state or a connection not yet measured: the next poll wants them.
	eager bool
}

// pollBuf is one poll's output, refilled every other poll.
type pollBuf struct {
	poll   Poll
	flows  []*Flow
	health []sockets.Health
}

// startPoll hands out the other buffer, emptied, for this poll.
func (t *Tracker) startPoll() *Poll {
	t.turn ^= 1
	b := &t.bufs[t.turn]
	b.poll = Poll{}
	return &b.poll
}

// flowsFor gives the poll its array of flows, one per socket, all nil.
func (t *Tracker) flowsFor(p *Poll, n int) {
	b := &t.bufs[t.turn]
	clear(b.flows[:cap(b.flows)]) // also past n: no flow kept alive that is gone
	if cap(b.flows) < n {
		b.flows = make([]*Flow, n, n+n/8)
	}
	b.flows = b.flows[:n]
	p.Flows = b.flows
}

// setHealth records socket i's health in the poll, with its array of
// healths made (zeroed) the first time a poll needs one.
func (t *Tracker) setHealth(p *Poll, i int, h sockets.Health) {
	if p.Health == nil {
		b := &t.bufs[t.turn]
		n := len(p.Flows)
		if cap(b.health) < n {
			b.health = make([]sockets.Health, n, n+n/8)
		}
		b.health = b.health[:n]
		clear(b.health)
		p.Health = b.health
	}
	p.Health[i] = h
}

// conn is what the tracker remembers of one socket.
type conn struct {
	inode uint64
	// flow is the socket's last flow; its Counters are the connection's
	// last counters (nil for a listener, and for a connection first seen
	// without counters): kept once, not beside it as well.
	flow    *Flow
	ring    *ring // nil until the socket moves
	lport   uint16
	rport   uint16
	retrans uint8 // a bit per poll, newest lowest: the retransmit counter rose
	health  sockets.Health
	seen    uint32
	// progress is the last poll (Unix nanoseconds) that saw the send queue
	// empty or the peer acknowledge something.
	progress int64
}

// NewTracker returns a Tracker with the default bounds.
func NewTracker() *Tracker {
	return &Tracker{MaxHistories: MaxHistories, StuckAfter: StuckAfter, IdleRecheck: IdleRecheck, conns: map[uint64]*conn{}}
}

// Wants says whether the next snapshot should carry the counters: always
// while something moves (or has a health state, or was just seen and is
// not measured yet), and every IdleRecheck while nothing does. The source
// is told before the poll (collect.Live.WantCounters); a snapshot without
// them keeps every connection's last flow.
func (t *Tracker) Wants(now time.Time) bool {
	return t.last.IsZero() || t.eager || now.Sub(t.last) >= t.recheck()
}

func (t *Tracker) recheck() time.Duration {
	if t.IdleRecheck <= 0 {
		return IdleRecheck
	}
	return t.IdleRecheck
}

// lookup finds the socket's entry: where the last poll had it, else by
// inode (nil for a socket not seen before).
func (t *Tracker) lookup(inode uint64) *conn {
	for i := t.pos; i < min(t.pos+lookAhead, len(t.order)); i++ {
		if c := t.order[i]; c.inode == inode {
			t.pos = i + 1
			return c
		}
	}
	return t.conns[inode]
}

// keep notes that this poll lists c: it is remembered, in this poll's
// order.
func (t *Tracker) keep(c *conn) {
	if c.seen != t.gen {
		c.seen = t.gen
		t.next = append(t.next, c)
	}
}

// Observe takes one snapshot's counters and says how each connection moved
// since the last one. The snapshot is only read, and nothing of it is
// kept but the counters (immutable values). A snapshot without counters
// (the source left them out: Wants) keeps every socket's last flow, for a
// while; a source that never has them gives no flows.
func (t *Tracker) Observe(snap *sockets.Snapshot) *Poll {
	if t.conns == nil {
		t.conns = map[uint64]*conn{}
	}
	if t.MaxHistories == 0 {
		t.MaxHistories = MaxHistories
	}
	if t.StuckAfter == 0 {
		t.StuckAfter = StuckAfter
	}
	fresh := snap.Counters
	for i := 0; i < len(snap.Sockets) && !fresh; i++ {
		fresh = snap.Sockets[i].Traffic != nil
	}
	t.gen++
	t.pos = 0
	clear(t.next[:cap(t.next)])
	t.next = t.next[:0]
	p := t.startPoll()
	switch {
	case fresh:
		t.counted(snap, p)
	case len(t.conns) > 0 && snap.Taken.Sub(t.last) < 3*t.recheck():
		t.carried(snap, p)
	}
	if len(t.next) < len(t.conns) { // forget the sockets that are gone
		// Every socket remembered was listed by the last poll (order): it
		// is walked rather than the map, at a tenth of the cost a poll on
		// a machine where connections come and go. An inode this poll gave
		// a new entry keeps it.
		for _, c := range t.order {
			if c.seen != t.gen && t.conns[c.inode] == c {
				if c.ring != nil {
					t.histories--
				}
				delete(t.conns, c.inode)
			}
		}
	}
	t.order, t.next = t.next, t.order
	return p
}

// isListener: a TCP listener, whose flow sums its connections.
func isListener(s *sockets.Socket) bool {
	return s.Proto == sockets.TCP && s.State == sockets.StateListen && s.Inode != 0
}

// counted is a poll with counters.
func (t *Tracker) counted(snap *sockets.Snapshot, p *Poll) {
	t.flowsFor(p, len(snap.Sockets))
	taken := snap.Taken
	dt := taken.Sub(t.last).Seconds()
	if t.last.IsZero() {
		dt = 0
	}
	eager := false
	listeners := t.listeners[:0] // the TCP listeners, summed once every connection is read
	var sums *sums               // nil while no inbound connection moved
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.Traffic == nil || s.Inode == 0 {
			if isListener(s) {
				listeners = append(listeners, i)
			}
			continue
		}
		c := t.lookup(s.Inode)
		fresh := c == nil || c.flow.Counters == nil || c.lport != s.LPort || c.rport != s.RPort || shrank(c.flow.Counters, s.Traffic)
		if !isListener(s) && (fresh || dt > 0) { // dt 0: the counters are not stepped, nor counted
			p.addMoved(s, c, fresh)
		}
		if fresh {
			// New, or first seen without counters, or its inode now names
			// another socket (a listener's once, or its counters started
			// again): no rate until the next poll.
			if c != nil && c.ring != nil {
				t.histories--
			}
			c = &conn{inode: s.Inode, lport: s.LPort, rport: s.RPort, progress: taken.UnixNano()}
			c.flow = &Flow{Counters: s.Traffic}
			t.conns[s.Inode] = c
		} else if dt > 0 {
			t.step(c, s, taken, dt)
		}
		t.keep(c)
		f := c.flow
		p.Flows[i] = f
		if f.Health != 0 {
			t.setHealth(p, i, f.Health)
		}
		moved := f.Measured && (f.In > 0 || f.Out > 0)
		eager = eager || moved || f.Health != 0 || !f.Measured
		if moved && s.Direction == sockets.Inbound {
			if sums == nil {
				sums = t.sums.reset()
			}
			sums.add(s, f)
		}
	}
	for _, i := range listeners {
		p.Flows[i] = t.listener(&snap.Sockets[i], sums, taken, dt)
	}
	t.listeners = listeners
	if dt > 0 || t.last.IsZero() {
		t.last = taken
		t.eager = eager
	}
}

// addMoved adds what a connection moved since the last poll with counters
// (everything, when fresh) to its program's share.
func (p *Poll) addMoved(s *sockets.Socket, c *conn, fresh bool) {
	d := Bytes{s.Traffic.BytesSent, s.Traffic.BytesReceived}
	if !fresh {
		d.Sent -= c.flow.Counters.BytesSent
		d.Received -= c.flow.Counters.BytesReceived
	}
	if d == (Bytes{}) {
		return
	}
	name := "(unknown)"
	if owner := s.Process(); owner != nil {
		name = owner.Name
	}
	if p.Moved == nil {
		p.Moved = map[string]Bytes{}
	}
	sum := p.Moved[name]
	p.Moved[name] = Bytes{sum.Sent + d.Sent, sum.Received + d.Received}
}

// carried is a poll without counters: every socket keeps its last flow;
// a connection not seen before reads as not measured yet, and makes the
// next poll ask for counters.
func (t *Tracker) carried(snap *sockets.Snapshot, p *Poll) {
	t.flowsFor(p, len(snap.Sockets))
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.Proto != sockets.TCP || s.Inode == 0 {
			continue
		}
		c := t.lookup(s.Inode)
		switch {
		case c != nil && c.lport == s.LPort && (c.rport == s.RPort || isListener(s)):
		case isListener(s):
			continue // a new listener: summed from the next poll with counters
		default:
			if c != nil && c.ring != nil {
				t.histories--
			}
			c = &conn{inode: s.Inode, lport: s.LPort, rport: s.RPort, flow: &Flow{}}
			t.conns[s.Inode] = c
			t.eager = true
		}
		t.keep(c)
		p.Flows[i] = c.flow
		if h := c.flow.Health; h != 0 {
			t.setHealth(p, i, h)
		}
	}
}

// shrank reports whether a counter went down: the kernel never lowers
// them, so the inode names a new connection.
func shrank(old, now *sockets.Traffic) bool {
	return now.BytesSent < old.BytesSent || now.BytesReceived < old.BytesReceived
}

// step moves a known connection on by one poll, dt seconds after the last.
func (t *Tracker) step(c *conn, s *sockets.Socket, taken time.Time, dt float64) {
	old, now := c.flow.Counters, s.Traffic
	in := float64(now.BytesReceived-old.BytesReceived) / dt
	out := float64(now.BytesSent-old.BytesSent) / dt
	moved := in > 0 || out > 0
	// Retransmits: a bit per poll, whether the counter rose (uint32
	// arithmetic: a counter that wrapped still rose).
	c.retrans <<= 1
	if now.Retransmits-old.Retransmits != 0 {
		c.retrans |= 1
	}
	if now.SendQueue == 0 || now.BytesSent != old.BytesSent {
		c.progress = taken.UnixNano()
	}
	health := t.judge(c, s, taken)
	if moved && c.ring == nil && t.histories < t.MaxHistories {
		c.ring = &ring{}
		t.histories++
	}
	hist := c.flow.History
	if c.ring != nil {
		c.ring.add(taken.Add(-time.Duration(dt*float64(time.Second))), taken, in, out)
		hist = c.ring.history(taken, hist, &t.hist)
		if hist == nil { // a minute without a byte: the ring goes back to the pool
			c.ring = nil
			t.histories--
		}
	}
	f := c.flow
	if *old == *now { // the very counters of the last poll (collect shares them): keep that value
		now = old
	}
	if f.Counters == now && f.In == in && f.Out == out && f.Measured && f.History == hist && f.Health == health {
		return // not a byte, not a change: the same flow, nothing allocated
	}
	c.flow = &Flow{Counters: now, In: in, Out: out, Measured: true, History: hist, Health: health}
}

// judge is a connection's health state after this poll.
func (t *Tracker) judge(c *conn, s *sockets.Socket, taken time.Time) sockets.Health {
	h := c.health
	rose := 0
	for b := c.retrans & (1<<retransPolls - 1); b != 0; b &= b - 1 {
		rose++
	}
	switch {
	case rose >= retransClimbing:
		h |= sockets.HealthRetransmits
	case rose == 0:
		h &^= sockets.HealthRetransmits
	}
	tr := s.Traffic
	h &^= sockets.HealthSendStuck | sockets.HealthZeroWindow
	if tr.SendQueue > 0 && taken.UnixNano()-c.progress >= int64(t.StuckAfter) {
		h |= sockets.HealthSendStuck
		if (tr.WindowKnown && tr.SendWindow == 0) || s.Timer == sockets.TimerZeroWindow {
			h |= sockets.HealthZeroWindow
		}
	}
	c.health = h
	return h
}

// listener is a TCP listener's flow: the sum of its inbound connections'
// rates, with a history of the sum.
func (t *Tracker) listener(s *sockets.Socket, sm *sums, taken time.Time, dt float64) *Flow {
	c := t.lookup(s.Inode)
	if c == nil || c.lport != s.LPort || c.flow.Counters != nil {
		if c != nil && c.ring != nil {
			t.histories--
		}
		c = &conn{inode: s.Inode, lport: s.LPort, flow: &Flow{Measured: !t.last.IsZero()}}
		t.conns[s.Inode] = c
	}
	t.keep(c)
	in, out, active := sm.of(s)
	hist := c.flow.History
	if dt > 0 {
		if (in > 0 || out > 0) && c.ring == nil && t.histories < t.MaxHistories {
			c.ring = &ring{}
			t.histories++
		}
		if c.ring != nil {
			c.ring.add(taken.Add(-time.Duration(dt*float64(time.Second))), taken, in, out)
			hist = c.ring.history(taken, hist, &t.hist)
			if hist == nil {
				c.ring = nil
				t.histories--
			}
		}
	}
	f := c.flow
	measured := f.Measured || dt > 0
	if f.In == in && f.Out == out && f.Active == active && f.History == hist && f.Measured == measured {
		return f
	}
	c.flow = &Flow{In: in, Out: out, Active: active, History: hist, Measured: measured}
	return c.flow
}

// sums adds up the moving inbound connections of one poll by the local end
// a listener answers on: its namespace and port, and its address or every
// address.
type sums struct {
	byAddr map[endKey]total
	byPort map[endKey]total // the address left zero: every address
}

type endKey struct {
	netns uint64
	addr  netip.Addr
	port  uint16
}

type total struct {
	in, out float64
	n       int32
}

// reset empties the sums for a poll, keeping their maps.
func (sm *sums) reset() *sums {
	if sm.byAddr == nil {
		sm.byAddr, sm.byPort = map[endKey]total{}, map[endKey]total{}
	}
	clear(sm.byAddr)
	clear(sm.byPort)
	return sm
}

func (sm *sums) add(s *sockets.Socket, f *Flow) {
	addTo(sm.byAddr, endKey{s.NetnsInode, s.Local, s.LPort}, f)
	addTo(sm.byPort, endKey{s.NetnsInode, netip.Addr{}, s.LPort}, f)
}

func addTo(m map[endKey]total, k endKey, f *Flow) {
	t := m[k]
	t.in, t.out, t.n = t.in+f.In, t.out+f.Out, t.n+1
	m[k] = t
}

// of is the sum a listener answers for: on every address, all of its
// port's connections; on one address, those to that address.
func (sm *sums) of(l *sockets.Socket) (in, out float64, n int32) {
	if sm == nil {
		return 0, 0, 0
	}
	var t total
	if l.Local.IsUnspecified() {
		t = sm.byPort[endKey{l.NetnsInode, netip.Addr{}, l.LPort}]
	} else {
		t = sm.byAddr[endKey{l.NetnsInode, l.Local, l.LPort}]
	}
	return t.in, t.out, t.n
}
