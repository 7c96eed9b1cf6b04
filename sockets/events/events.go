// Package events says what changed between two assessments of the
// machine: listeners that opened, closed or changed owner, findings that
// appeared, and listeners the baseline did not expect. The monitor shows
// them in its events pane, and `portwatch watch` writes them as JSON lines.
package events

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/baseline"
)

// Kind is what happened. The words are part of the JSON interface.
type Kind string

// The kinds of event.
const (
	Opened     Kind = "listener-opened"
	Closed     Kind = "listener-closed"
	NewOwner   Kind = "owner-changed"
	Finding    Kind = "finding"
	Unexpected Kind = "unexpected-listener"
	Changed    Kind = "changed-listener"
	Missing    Kind = "missing-listener"
)

// Event is one thing that happened, with the socket and process it
// happened to.
type Event struct {
	Time    time.Time   `json:"time"`
	Kind    Kind        `json:"kind"`
	Risk    assess.Risk `json:"risk"`
	Netns   string      `json:"netns"`
	Proto   string      `json:"proto"`
	Address string      `json:"address"`
	Port    uint16      `json:"port"`
	PID     int32       `json:"pid,omitempty"`
	Process string      `json:"process,omitempty"`
	Exe     string      `json:"exe,omitempty"`
	User    string      `json:"user,omitempty"`
	Codes   []string    `json:"codes"`
	Text    string      `json:"text"`
}

// Where is the event's socket in a few words: "tcp 0.0.0.0:4444".
func (e *Event) Where() string {
	a, err := netip.ParseAddr(e.Address)
	if err != nil {
		return fmt.Sprintf("%s %s:%d", e.Proto, e.Address, e.Port)
	}
	w := e.Proto + " " + netip.AddrPortFrom(a, e.Port).String()
	if e.Netns != "" && e.Netns != sockets.HostNetns {
		w += " in " + e.Netns
	}
	return w
}

// listenerKey is a listener's place: a restarted server is the same
// listener with a new socket.
type listenerKey struct {
	netns string
	proto sockets.Proto
	addr  netip.Addr
	port  uint16
}

// rebuildEvery is how often (in polls) every connection's findings are
// looked at again, so that what has gone is forgotten.
const rebuildEvery = 30

// A connection finding already reported is named by the socket's inode
// (inodeCodes: the codes of one inode, as bits of their numbers in
// Tracker.codes; inodeFinding for a code numbered past them), or by remote
// address and namespace for a scan or a flood (remoteFinding), or by the
// socket's whole key only for a socket without an inode (a TIME_WAIT
// remnant, a half-open connection: keyedFinding). They are kept for every
// connection with a finding (20,000 of them on a loaded server), so they
// hold no pointer for the collector to follow, and the commonest, a
// connection's, is one entry of 32 bytes whatever its number of codes.
type inodeCodes struct {
	codes uint64 // every code reported
	fresh uint64 // the codes marked since epoch began: in a rebuild, what is still said
	epoch uint8
}

// inodeBits is how many codes an inodeCodes holds.
const inodeBits = 64

type inodeFinding struct {
	inode uint64
	code  uint16
}

type remoteFinding struct {
	netns  uint64
	remote [16]byte // the address as its 16 bytes
	code   uint16
}

// keyedFinding is a finding of a socket without an inode, by its key.
type keyedFinding struct {
	socket sockets.SocketKey
	code   uint16
}

// findings are the connection findings already reported, each with the
// epoch of the last rebuild that saw it. The sets are kept, poll after
// poll: a rebuild (every rebuildEvery polls) moves the epoch on, marks what
// is still said, and then forgets what it did not mark, so no set is made
// again (at 20,000 connections, a set of half a megabyte every 30 polls).
type findings struct {
	byInode  map[uint64]inodeCodes
	byCode   map[inodeFinding]uint8 // a code numbered inodeBits or more
	byRemote map[remoteFinding]uint8
	keyed    map[keyedFinding]uint8
	epoch    uint8
	peak     int // the most findings held since the sets were made
}

func newFindings() findings {
	return findings{byInode: map[uint64]inodeCodes{}, byCode: map[inodeFinding]uint8{}, byRemote: map[remoteFinding]uint8{}, keyed: map[keyedFinding]uint8{}}
}

// markInode is mark for a connection's code, in its inode's bits.
func (fs *findings) markInode(inode uint64, code uint16) (already, known bool) {
	if code >= inodeBits {
		return mark(fs.byCode, inodeFinding{inode: inode, code: code}, fs.epoch)
	}
	e := fs.byInode[inode]
	if e.epoch != fs.epoch { // first met since the rebuild began
		e.fresh, e.epoch = 0, fs.epoch
	}
	bit := uint64(1) << code
	already, known = e.fresh&bit != 0, e.codes&bit != 0
	e.codes |= bit
	e.fresh |= bit
	fs.byInode[inode] = e
	return already, known
}

// mark notes k in m, and says whether this poll (or, in a rebuild, this
// rebuild) has marked it already, and whether it was known before.
func mark[K comparable](m map[K]uint8, k K, epoch uint8) (already, known bool) {
	e, known := m[k]
	m[k] = epoch
	return known && e == epoch, known
}

// rebuilt forgets what the rebuild just done did not mark. Sets that
// shrank to a quarter of their peak are made again at their size: a map
// keeps its table whatever it holds.
func (fs *findings) rebuilt() {
	for inode, e := range fs.byInode {
		if e.epoch != fs.epoch {
			delete(fs.byInode, inode)
		} else if e.codes != e.fresh {
			e.codes = e.fresh // forget the codes no longer said
			fs.byInode[inode] = e
		}
	}
	sweep(fs.byCode, fs.epoch)
	sweep(fs.byRemote, fs.epoch)
	sweep(fs.keyed, fs.epoch)
	n := len(fs.byInode) + len(fs.byCode) + len(fs.byRemote) + len(fs.keyed)
	fs.peak = max(fs.peak, n)
	if n < fs.peak/4 {
		fs.byInode, fs.byCode, fs.byRemote, fs.keyed = resized(fs.byInode), resized(fs.byCode), resized(fs.byRemote), resized(fs.keyed)
		fs.peak = n
	}
}

func sweep[K comparable](m map[K]uint8, epoch uint8) {
	for k, e := range m {
		if e != epoch {
			delete(m, k)
		}
	}
}

func resized[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, e := range m {
		out[k] = e
	}
	return out
}

// seen is what the tracker remembers of a listener.
type seen struct {
	v      *assess.Verdict // what it was read from
	owners string          // the owners' programs and users: workers coming and going change nothing
	codes  []string
	status baseline.Status
}

// Tracker compares each assessment with the last. It is used by one poll
// at a time.
type Tracker struct {
	listeners map[listenerKey]seen
	spareL    map[listenerKey]seen // the poll before's, refilled by the next poll
	missing   map[string]bool      // baseline entries reported missing
	conns     findings             // connection findings already reported
	// codes numbers the finding codes (a few dozen constants), so that a
	// findingKey needs no string.
	codes map[string]uint16
	// prev is the last poll's verdicts in order: the kernel lists sockets
	// in the same order poll after poll, and the assessor hands back the
	// very same verdict for an unchanged connection, whose findings were
	// looked at when it appeared. Only the others are looked at again, and
	// every rebuildEvery polls all of them, to forget what has gone. It is
	// the last assessment's own array, read only: a poller refills an
	// assessment's array three polls later (sockets/poll), long after the
	// next Observe replaced it here.
	prev []*assess.Verdict
	// listening marks which of prev are listeners, a bit each, and spareBits
	// is the poll before's, refilled: an unchanged connection's verdict
	// (the same pointer as the last poll's) is then passed by without
	// being read, 20,000 cache misses a poll at 20,000 connections.
	listening, spareBits []uint64
	polls                int
	started              bool
}

// NewTracker returns a tracker that has seen nothing yet.
func NewTracker() *Tracker {
	return &Tracker{listeners: map[listenerKey]seen{}, spareL: map[listenerKey]seen{}, missing: map[string]bool{},
		conns: newFindings(), codes: map[string]uint16{}}
}

// Observe returns what happened since the last assessment. The first one
// is the starting point: only what the baseline says of it (unexpected,
// changed and missing listeners) is reported then, not every listener and
// finding of the machine.
func (t *Tracker) Observe(a *assess.Assessment, at time.Time) []Event {
	first := !t.started
	t.started = true
	var out []Event
	// The listeners' maps are reused, poll after poll, and so are the
	// findings' sets: a quiet poll makes none.
	now := t.spareL
	clear(now)
	t.polls++
	rebuild := first || t.polls%rebuildEvery == 0
	if rebuild {
		t.conns.epoch++
	}
	bits := t.spareBits
	if words := (len(a.Verdicts) + 63) / 64; cap(bits) < words {
		bits = make([]uint64, words)
	} else {
		bits = bits[:words]
		clear(bits)
	}
	for i, v := range a.Verdicts {
		same := i < len(t.prev) && t.prev[i] == v
		if same && !rebuild && t.listening[i/64]&(1<<(i%64)) == 0 {
			continue // an unchanged connection: looked at when it changed
		}
		s := &v.Socket
		if !s.IsListening() {
			if rebuild || !same {
				out = t.connectionFindings(v, at, first, out)
			}
			continue
		}
		bits[i/64] |= 1 << (i % 64)
		k := listenerKey{s.Netns, s.Proto, s.Local, s.LPort}
		if _, twice := now[k]; twice { // SO_REUSEPORT: one place, several sockets
			continue
		}
		prev, known := t.listeners[k]
		// Read from the very same verdict as in the last poll (the
		// assessor keeps an unchanged listener's), it reads the same.
		cur := prev
		if !known || prev.v != v {
			cur = seen{v: v, owners: ownersOf(s), codes: codesOf(v.Findings), status: v.Baseline.Status}
		}
		now[k] = cur
		switch {
		case first:
		case !known:
			out = append(out, event(v, at, Opened, codesOf(v.Findings), "opened: "+describe(v)))
		case prev.owners != cur.owners && cur.owners != "" && prev.owners != "":
			out = append(out, event(v, at, NewOwner, nil, fmt.Sprintf("now held by %s (was %s)", cur.owners, prev.owners)))
		}
		if cur.status != prev.status || first {
			switch cur.status {
			case baseline.Unexpected:
				out = append(out, event(v, at, Unexpected, []string{assess.CodeUnexpected}, "not in the baseline: "+describe(v)))
			case baseline.Changed:
				out = append(out, event(v, at, Changed, []string{assess.CodeChanged}, "another program or user than the baseline's: "+describe(v)))
			}
		}
		if !first && known {
			for _, f := range v.Findings {
				if !slices.Contains(prev.codes, f.Code) && f.Severity > assess.RiskInfo && f.Code != assess.CodeUnexpected && f.Code != assess.CodeChanged {
					out = append(out, event(v, at, Finding, []string{f.Code}, f.Text))
				}
			}
		}
	}
	if !first {
		for k := range t.listeners {
			if _, ok := now[k]; !ok {
				out = append(out, Event{Time: at, Kind: Closed, Risk: assess.RiskInfo, Netns: k.netns, Proto: k.proto.String(),
					Address: k.addr.String(), Port: k.port, Codes: []string{}, Text: "closed"})
			}
		}
	}
	t.listeners, t.spareL = now, t.listeners
	if rebuild {
		t.conns.rebuilt()
	}
	t.prev = a.Verdicts // read, never written: no copy (20,000 pointers a poll)
	t.listening, t.spareBits = bits, t.listening
	missing := map[string]bool{}
	for _, v := range a.Missing {
		e := v.Baseline.Entry
		id := e.String()
		missing[id] = true
		if !t.missing[id] {
			out = append(out, event(v, at, Missing, []string{assess.CodeMissing}, fmt.Sprintf("the baseline expects %s here (%s line %d); nothing listens", e.Program, a.Baseline.Path, e.Line)))
		}
	}
	t.missing = missing
	slices.SortStableFunc(out, func(x, y Event) int { return strings.Compare(string(x.Kind), string(y.Kind)) })
	return out
}

// connectionFindings reports a connection's reportable findings the first
// time each is seen (a flood once per address).
func (t *Tracker) connectionFindings(v *assess.Verdict, at time.Time, first bool, out []Event) []Event {
	s := &v.Socket
	fs := &t.conns
	for _, f := range v.Findings {
		if !reportable(f) {
			continue
		}
		code := t.codeOf(f.Code)
		var seenNow, known bool
		switch {
		case f.Code == assess.CodePortScan || f.Code == assess.CodeFlood:
			// A scan or a flood is one event per remote address, not one
			// per connection it opened.
			seenNow, known = mark(fs.byRemote, remoteFinding{netns: s.NetnsInode, remote: s.Remote.As16(), code: code}, fs.epoch)
		case s.Inode != 0:
			seenNow, known = fs.markInode(s.Inode, code)
		default:
			seenNow, known = mark(fs.keyed, keyedFinding{socket: s.Key(), code: code}, fs.epoch)
		}
		if !seenNow && !first && !known {
			out = append(out, event(v, at, Finding, []string{f.Code}, f.Text))
		}
	}
	return out
}

// codeOf is a finding code's number, given the first time it is met. The
// codes are assess's constants, a few dozen: the map stays that small.
func (t *Tracker) codeOf(code string) uint16 {
	n, ok := t.codes[code]
	if !ok {
		n = uint16(len(t.codes))
		t.codes[code] = n
	}
	return n
}

// reportable: a connection's finding worth an event. MEDIUM or worse,
// but not cleartext, which every connection of such a service carries by
// nature; and a connection's health (retransmits climbing, a send queue
// stuck) whatever its severity: a stalled connection is what an operator
// wants to hear of, and it is rare.
func reportable(f assess.Finding) bool {
	switch f.Code {
	case assess.CodeRetransmits, assess.CodeSendQueueStuck:
		return true
	case assess.CodeCleartext:
		return false
	}
	return f.Severity >= assess.RiskMedium
}

func event(v *assess.Verdict, at time.Time, kind Kind, codes []string, text string) Event {
	s := &v.Socket
	e := Event{Time: at, Kind: kind, Risk: v.Risk, Netns: s.Netns, Proto: s.Proto.String(), Address: s.Local.String(),
		Port: s.LPort, Codes: codes, Text: text, User: s.OwnerUser()}
	if e.Codes == nil {
		e.Codes = []string{}
	}
	if be := v.Baseline.Entry; s.Proto == 0 && be != nil { // a MISSING line whose protocol is *
		e.Proto = be.ProtoWord()
	}
	if p := s.Process(); p != nil {
		e.PID, e.Process, e.Exe = p.PID, p.Name, p.Exe
	}
	return e
}

// describe is a listener in a few words: "redis (by port 6379) held by
// redis-server (pid 940) as redis".
func describe(v *assess.Verdict) string {
	s := &v.Socket
	who := "no visible process"
	if p := s.Process(); p != nil {
		who = fmt.Sprintf("%s (pid %d) as %s", p.Name, p.PID, p.User)
	}
	return fmt.Sprintf("%s (%s) held by %s", v.Service.Name, v.Service.How(), who)
}

// ownersOf names the programs and users holding a listener, each once, in
// order: a pre-fork server recycling its workers is the same owner.
func ownersOf(s *sockets.Socket) string {
	var parts []string
	for _, p := range s.Owners {
		prog := p.Exe
		if prog == "" {
			prog = p.Name
		}
		if w := prog + " as " + p.User; !slices.Contains(parts, w) {
			parts = append(parts, w)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func codesOf(fs []assess.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}
