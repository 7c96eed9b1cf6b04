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

// findingKey names a connection finding already reported: by socket, or by
// remote address for a scan or a flood. A struct, not a string: it is
// looked up for every connection with a finding, every poll.
type findingKey struct {
	socket sockets.SocketKey
	netns  uint64
	remote netip.Addr
	code   string
}

// seen is what the tracker remembers of a listener.
type seen struct {
	owners string // the owners' programs and users: workers coming and going change nothing
	codes  []string
	status baseline.Status
}

// Tracker compares each assessment with the last. It is used by one poll
// at a time.
type Tracker struct {
	listeners map[listenerKey]seen
	missing   map[string]bool     // baseline entries reported missing
	conns     map[findingKey]bool // connection findings already reported
	// prev is the last poll's verdicts in order: the kernel lists sockets
	// in the same order poll after poll, and the assessor hands back the
	// very same verdict for an unchanged connection, whose findings were
	// looked at when it appeared. Only the others are looked at again, and
	// every rebuildEvery polls all of them, to forget what has gone.
	prev    []*assess.Verdict
	polls   int
	started bool
}

// NewTracker returns a tracker that has seen nothing yet.
func NewTracker() *Tracker {
	return &Tracker{listeners: map[listenerKey]seen{}, missing: map[string]bool{}, conns: map[findingKey]bool{}}
}

// Observe returns what happened since the last assessment. The first one
// is the starting point: only what the baseline says of it (unexpected,
// changed and missing listeners) is reported then, not every listener and
// finding of the machine.
func (t *Tracker) Observe(a *assess.Assessment, at time.Time) []Event {
	first := !t.started
	t.started = true
	var out []Event
	now := map[listenerKey]seen{}
	t.polls++
	rebuild := first || t.polls%rebuildEvery == 0
	conns := t.conns
	if rebuild {
		conns = map[findingKey]bool{}
	}
	for i, v := range a.Verdicts {
		s := &v.Socket
		if !s.IsListening() {
			if rebuild || i >= len(t.prev) || t.prev[i] != v {
				out = t.connectionFindings(v, at, first, conns, out)
			}
			continue
		}
		k := listenerKey{s.Netns, s.Proto, s.Local, s.LPort}
		cur := seen{owners: ownersOf(s), codes: codesOf(v.Findings), status: v.Baseline.Status}
		if _, twice := now[k]; twice { // SO_REUSEPORT: one place, several sockets
			continue
		}
		now[k] = cur
		prev, known := t.listeners[k]
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
	t.listeners, t.conns = now, conns
	t.prev = append(t.prev[:0], a.Verdicts...)
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
func (t *Tracker) connectionFindings(v *assess.Verdict, at time.Time, first bool, conns map[findingKey]bool, out []Event) []Event {
	for _, f := range v.Findings {
		if !reportable(f) {
			continue
		}
		// A scan or a flood is one event per remote address, not one per
		// connection it opened.
		id := findingKey{socket: v.Socket.Key(), code: f.Code}
		if f.Code == assess.CodePortScan || f.Code == assess.CodeFlood {
			id = findingKey{netns: v.Socket.NetnsInode, remote: v.Socket.Remote, code: f.Code}
		}
		if conns[id] {
			continue
		}
		known := t.conns[id] // the last rebuild's, or this one's while no rebuild
		conns[id] = true
		if !first && !known {
			out = append(out, event(v, at, Finding, []string{f.Code}, f.Text))
		}
	}
	return out
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
