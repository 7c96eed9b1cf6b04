package assess

import (
	"fmt"
	"net/netip"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
	"github.com/portwatch/portwatch/sockets/reach"
)

// Context is what a snapshot is judged against besides portwatch's own
// knowledge: the baseline of expected listeners, when there is one.
type Context struct {
	Baseline *baseline.Baseline
	// Firewall says what a new connection from outside meets at a
	// listener, from its namespace's ruleset; nil, or false, where it is
	// not known (no ruleset read).
	Firewall func(s *sockets.Socket) (reach.Verdict, bool)
	// Health is each socket's health state, in the snapshot's order, as
	// the traffic tracker judged it over the last polls; nil where none is
	// known (one snapshot alone says nothing of it).
	Health []sockets.Health
}

// Verdict is everything portwatch says about one socket: the socket as it
// was read, its service, risk and findings. It is never changed once made,
// so outputs and polls may share it.
type Verdict struct {
	// Socket is the socket as it was read, without its counters (Traffic
	// is nil): they are the poll's flows'.
	Socket sockets.Socket
	// Outcome is what was said of the socket (v.Service, v.Findings,
	// v.Risk, ...): shared by the verdicts that say the same, read only.
	// The 20,000 connections of one server usually do: a verdict is then
	// its socket and a pointer (208 bytes, not 288).
	*Outcome
}

// Outcome is what judging a socket said of it, besides the socket.
type Outcome struct {
	Service  *ServiceInfo // shared by every socket of the same service: read only
	Findings []Finding    // worst first
	Conns    int32        // a listener's established inbound connections
	Scanned  int32        // an inbound connection from an address that reached this many of our ports: a scan
	Risk     Risk
	Flooded  bool // an inbound connection from an address that floods its port
	// Health is the connection's health state the findings were judged
	// from (Context.Health): a verdict changes when the state does, never
	// with the counters.
	Health sockets.Health
	// Baseline is a listener's standing against the baseline (and the
	// entry that decided it); NotCompared without a baseline. A MISSING
	// verdict stands for a baseline entry that no listener answers: its
	// Socket is made from the entry, with no inode and no owner.
	Baseline baseline.Judgement
	// fw is a listener's verdict from its namespace's firewall (Firewall),
	// nil where none was read: behind a pointer, as most sockets are
	// connections and have none, and the verdict is 208 bytes that 20,000
	// connections would each carry for nothing.
	fw *reach.Verdict
	// Role is what the socket is for: a listener, a daemon's client socket
	// (an unconnected UDP socket on an ephemeral port), or a connection.
	Role Role
	// Published is, for a published port's row (state PUBLISHED), the DNAT
	// it stands for; nil for every socket.
	Published *sockets.Published
}

// newVerdict is a verdict of s with an outcome of its own, both in one
// allocation (what a one-shot assessment, and a new outcome, make).
func newVerdict(s *sockets.Socket) *Verdict {
	vo := &struct {
		v Verdict
		o Outcome
	}{v: Verdict{Socket: *s}}
	vo.v.Outcome = &vo.o
	return &vo.v
}

// Firewall is a listener's verdict from its namespace's firewall (open,
// restricted, filtered, closed, unknown); its Kind is "" where none was
// read, and for a loopback listener, which no outside packet reaches.
func (v *Verdict) Firewall() reach.Verdict {
	if v.fw == nil {
		return reach.Verdict{}
	}
	return *v.fw
}

// FirewallKind is Firewall().Kind, without the copy: what a loop over every
// verdict reads.
func (v *Verdict) FirewallKind() reach.Kind {
	if v.fw == nil {
		return ""
	}
	return v.fw.Kind
}

// Reachable reports whether a listener can be reached from outside this
// machine as far as portwatch can tell: not on loopback, and not filtered
// or closed by the firewall.
func (v *Verdict) Reachable() bool {
	s := &v.Socket
	if !s.IsListening() || v.Role == RoleClientSocket || s.Exposure() == sockets.ExposureLoopback || v.Baseline.Status == baseline.Missing {
		return false
	}
	return v.FirewallKind() != reach.Filtered && v.FirewallKind() != reach.Closed
}

// StateText explains the socket's state for learners.
func (v *Verdict) StateText() string { return StateHelp(v.Socket.Proto, v.Socket.State) }

// Assessment is a snapshot judged: a verdict per socket, in the snapshot's
// order, and what is said of the snapshot as a whole.
type Assessment struct {
	Verdicts []*Verdict
	// Missing are the baseline's listeners that nothing answers, in the
	// file's order: verdicts without a real socket.
	Missing []*Verdict
	// Published are the ports the namespaces' rules publish (DNAT), each a
	// verdict of its own whether or not a socket backs it (publishedrows.go).
	Published []*Verdict
	Baseline  *baseline.Baseline // what it was compared with, or nil
	// Surface is the attack surface: listeners reachable from outside as
	// far as portwatch can tell (not loopback, not filtered or closed by
	// the firewall), and how many of them are HIGH.
	Surface struct{ Reachable, High int }
	// FirewallNote says why firewall verdicts are missing or unknown for
	// every listener ("not root: ..."), or "".
	FirewallNote string
	// Firewalled: at least one listener carries a firewall verdict.
	Firewalled bool
	// Scans are the scans the namespaces' TCP counters show now or showed
	// within ScanHold (netscan.go); only an Assessor that remembers sees
	// them.
	Scans []NetScan
	// Profile is the machine's roles as its listeners show them, and what
	// stands out of them (profile.go).
	Profile      Profile
	perPID       map[int32]int
	hidden       int
	netnsSkipped int
}

// SocketsOf counts the sockets a process holds.
func (a *Assessment) SocketsOf(pid int32) int { return a.perPID[pid] }

// HiddenReason says why owners are hidden, or "" when none is.
func (a *Assessment) HiddenReason() string {
	if a.hidden == 0 {
		return ""
	}
	return "not root: other users' processes cannot be inspected; run as root to see every owner"
}

// NetnsReason says why namespaces were skipped, or "" when none was.
func (a *Assessment) NetnsReason() string {
	if a.netnsSkipped == 0 {
		return ""
	}
	return fmt.Sprintf("not root: the network namespace of %d other users' processes could not be read, so sockets in other namespaces (containers) may be missing", a.netnsSkipped)
}

// Assess judges one snapshot on its own: what --once and --json print.
func Assess(snap *sockets.Snapshot, kb *Knowledge) *Assessment {
	return AssessWith(snap, kb, Context{})
}

// AssessWith judges one snapshot against a context (a baseline).
func AssessWith(snap *sockets.Snapshot, kb *Knowledge, ctx Context) *Assessment {
	return (&Assessor{kb: kb}).AssessWith(snap, ctx)
}

// Assessor judges snapshot after snapshot, the monitor's way: it remembers
// the last poll's verdicts, so a connection that has not changed is not
// judged again (at 20,000 sockets, judging is most of a poll's work after
// the kernel's). It serves one poll at a time.
type Assessor struct {
	kb     *Knowledge
	counts counterMemory          // each namespace's TCP counters, over CounterWindow
	memory map[uint64]*remembered // connections by inode: a cheaper key than SocketKey
	live   *liveCounts            // the counts judging needs, kept between polls (remember.go)
	// order is the last poll's remembered connections in its order, where
	// each is looked for first; spare is the array of the poll before,
	// refilled by the next.
	order, spare []*remembered
	gen          uint32                  // polls, wrapping after 136 years of one a second
	shared       map[uint64][]Finding    // findings shared by verdicts that say the same, by their hash (intern)
	outcomes     map[outcomeKey]*Outcome // outcomes shared by verdicts that say the same (intern.go)
	texts        *texts                  // sentences many sockets share (texts.go)
	// listeners are the last poll's listener verdicts by inode, and
	// nextListeners this poll's, filled as it goes (listenerVerdict).
	listeners, nextListeners map[uint64]listenerMemo
	// spareVerdicts is a verdicts array handed back by Recycle, refilled by the
	// next AssessWith instead of another being made (a pointer a socket:
	// 160 KB a poll at 20,000 sockets).
	spareVerdicts []*Verdict
}

// NewAssessor returns an Assessor that remembers verdicts between polls.
func NewAssessor(kb *Knowledge) *Assessor {
	return &Assessor{kb: kb, memory: map[uint64]*remembered{}, counts: counterMemory{}}
}

// Assess judges every socket of a snapshot, in order. The verdicts copy the
// sockets: the snapshot's array may be reused afterwards.
func (as *Assessor) Assess(snap *sockets.Snapshot) *Assessment {
	return as.AssessWith(snap, Context{})
}

// AssessWith is Assess against a context.
func (as *Assessor) AssessWith(snap *sockets.Snapshot, ctx Context) *Assessment {
	a := &Assessment{Verdicts: as.verdictsArray(len(snap.Sockets)),
		hidden: snap.Hidden, netnsSkipped: snap.NetnsSkipped, Baseline: ctx.Baseline}
	if as.counts != nil {
		a.Scans = as.counts.observe(snap.TCPStats, snap.Taken)
	}
	health := func(i int) sockets.Health {
		if i < len(ctx.Health) {
			return ctx.Health[i]
		}
		return 0
	}
	var c *counts
	if as.memory != nil {
		c = as.assessRemembering(snap, ctx, a, health)
	} else { // judged once: everything counted from this snapshot
		c = countSnapshot(snap)
		c.baseline, c.firewall, c.texts = ctx.Baseline, ctx.Firewall, as.sentences()
		c.scanners = scanMemory{}.observe(snap, snap.Taken)
		a.perPID = c.perPID
		for i := range snap.Sockets {
			a.Verdicts[i] = as.judge(&snap.Sockets[i], c, health(i))
		}
	}
	a.measureSurface(snap.Sockets)
	as.addMissing(a, snap, c)
	a.Published = as.publishedRows(snap.Published)
	return a
}

// sentences is the assessor's texts, made at its first use.
func (as *Assessor) sentences() *texts {
	if as.texts == nil {
		as.texts = &texts{}
	}
	return as.texts
}

// Recycle hands back an assessment nobody reads any more: the next
// AssessWith fills its verdicts array again. The verdicts themselves are
// not touched (rows and events may still hold them); a.Verdicts is nil
// afterwards. Only the array of an assessment that no goroutine can still
// read may be handed back (poll.Poller hands back the one of three polls
// ago, the monitor holding at most the last two).
func (as *Assessor) Recycle(a *Assessment) {
	if a == nil || a.Verdicts == nil {
		return
	}
	if cap(a.Verdicts) > cap(as.spareVerdicts) {
		as.spareVerdicts = a.Verdicts
	}
	a.Verdicts = nil
}

// verdictsArray is an array of n verdicts, the spare one when it is big
// enough; every element is written by AssessWith.
func (as *Assessor) verdictsArray(n int) []*Verdict {
	if cap(as.spareVerdicts) < n {
		return make([]*Verdict, n)
	}
	vs := as.spareVerdicts[:n]
	as.spareVerdicts = nil
	// What is past n would keep verdicts alive: let them go.
	tail := vs[n:cap(vs)]
	for i := range tail { // the builtin clear is shadowed in this package
		tail[i] = nil
	}
	return vs
}

func (as *Assessor) judge(s *sockets.Socket, c *counts, h sockets.Health) *Verdict {
	info := as.kb.sharedForSocket(s)
	o := Outcome{Service: info, Flooded: c.flooded(s), Scanned: int32(c.scanned(s)), Health: h, Role: as.kb.roleOf(s)}
	if c.baseline != nil && s.IsListening() {
		o.Baseline = c.baseline.Check(s)
	}
	var fw reach.Verdict
	if c.firewall != nil && s.IsListening() && s.Exposure() != sockets.ExposureLoopback {
		if fv, ok := c.firewall(s); ok {
			fw, o.fw = fv, &fv
		}
	}
	o.Findings = judgeFindings(s, info, fw, c, o.Role)
	o.Findings = baselineFindings(s, o.Baseline, c.baseline, o.Findings)
	o.Findings = healthFindings(s, h, o.Findings)
	addRemedies(s, info, fw, o.Findings, c.texts)
	o.Findings = as.intern(o.Findings)
	o.Risk = worstRisk(s, info, fw, o.Findings)
	if o.Role == RoleClientSocket {
		o.Risk = RiskInfo // the port's own risk is a service's; only the findings count
		if len(o.Findings) > 0 {
			o.Risk = o.Findings[0].Severity
		}
	}
	if s.IsListening() {
		o.Conns = int32(c.conns[portOf(s)])
	}
	return as.verdict(s, &o)
}

// verdict is s's verdict with outcome o: the counters are left out of the
// socket's copy (they change poll after poll, a verdict does not: a kept
// verdict would show its first counters, and hold them, 64 bytes a
// connection; they are read from the poll's flows, traffic.Flow.Counters).
func (as *Assessor) verdict(s *sockets.Socket, o *Outcome) *Verdict {
	var v *Verdict
	if shared, k, ok := as.sharedOutcome(o); shared != nil {
		v = &Verdict{Socket: *s, Outcome: shared}
	} else {
		v = newVerdict(s)
		*v.Outcome = *o
		if ok {
			as.keepOutcome(k, v.Outcome)
		}
	}
	v.Socket.Traffic = nil
	return v
}

// measureSurface counts the reachable listeners and says why firewall
// verdicts are unknown when one reason covers them all. Only a listener
// can be reachable or carry a firewall verdict: the sockets, in the
// verdicts' order, say which they are, so the 20,000 verdicts of the
// connections, each its own allocation, are not read (a cache miss each).
func (a *Assessment) measureSurface(socks []sockets.Socket) {
	reasons, unknown, judged := map[string]bool{}, 0, 0
	var listeners []*Verdict
	for i, v := range a.Verdicts {
		if !socks[i].IsListening() {
			continue
		}
		listeners = append(listeners, v)
		if v.Reachable() {
			a.Surface.Reachable++
			if v.Risk == RiskHigh {
				a.Surface.High++
			}
		}
		if v.fw == nil {
			continue
		}
		if v.fw.Kind != "" {
			judged++
		}
		if v.fw.Kind == reach.Unknown && (v.fw.Reason == reach.ReasonNotRoot || v.fw.Reason == reach.ReasonLegacy) {
			unknown++
			reasons[v.fw.Reason] = true
		}
	}
	a.Firewalled = judged > 0
	a.Profile = profileOf(listeners)
	if unknown > 0 && unknown == judged && len(reasons) == 1 {
		for r := range reasons {
			a.FirewallNote = "firewall not evaluated: " + r
		}
	}
}

// addMissing makes a verdict of each baseline entry no listener answers.
func (as *Assessor) addMissing(a *Assessment, snap *sockets.Snapshot, c *counts) {
	if c.baseline == nil {
		return
	}
	var listeners []*sockets.Socket
	for i := range snap.Sockets {
		if snap.Sockets[i].IsListening() {
			listeners = append(listeners, &snap.Sockets[i])
		}
	}
	changed := map[*baseline.Entry]bool{} // a CHANGED row already stands for its entry
	for _, v := range a.Verdicts {
		if v.Baseline.Status == baseline.Changed {
			changed[v.Baseline.Entry] = true
		}
	}
	for _, e := range c.baseline.Missing(listeners) {
		if changed[e] {
			continue
		}
		s := sockets.Socket{Proto: e.Proto, Family: 4, LPort: e.Low, State: sockets.StateListen, Netns: e.Netns,
			OwnerStatus: sockets.OwnerNone, Local: netip.IPv4Unspecified(), Remote: netip.IPv4Unspecified()}
		switch {
		case e.Addr.IsValid():
			s.Local = e.Addr
		case e.Address == baseline.Loopback:
			s.Local = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		if s.Local.Is6() {
			s.Family, s.Remote = 6, netip.IPv6Unspecified()
		}
		info := as.kb.Lookup(e.Proto, e.Low)
		info.Source = ByPort
		v := newVerdict(&s)
		v.Service, v.Baseline = &info, baseline.Judgement{Status: baseline.Missing, Entry: e}
		v.Findings = baselineFindings(&s, v.Baseline, c.baseline, nil)
		v.Risk = v.Findings[0].Severity
		a.Missing = append(a.Missing, v)
	}
}

// sameJudgement: a connection would be judged, and read, the same. Owners
// are compared by pointer: collection shares them between polls while the
// process is unchanged.
func sameJudgement(a, b *sockets.Socket) bool {
	sameEndpoints := a.Local == b.Local && a.Remote == b.Remote && a.LPort == b.LPort && a.RPort == b.RPort &&
		a.Proto == b.Proto && a.Family == b.Family && a.NetnsInode == b.NetnsInode && a.Netns == b.Netns
	sameOwners := a.OwnerStatus == b.OwnerStatus && a.UID == b.UID && len(a.Owners) == len(b.Owners) &&
		a.Process() == b.Process() && lastOwner(a) == lastOwner(b)
	return sameEndpoints && sameOwners && a.State == b.State && a.Direction == b.Direction
}

func lastOwner(s *sockets.Socket) *sockets.Process {
	if len(s.Owners) == 0 {
		return nil
	}
	return s.Owners[len(s.Owners)-1]
}

// ReadsTheSame reports whether two verdicts of one socket would read and
// sort the same on every output: the monitor redraws nothing for a socket
// whose new verdict reads the same as the old.
func ReadsTheSame(a, b *Verdict) bool {
	if a == b {
		return true
	}
	return a.Service == b.Service && a.Risk == b.Risk && a.Conns == b.Conns && a.Flooded == b.Flooded && a.Scanned == b.Scanned && a.Baseline == b.Baseline &&
		a.Health == b.Health && a.Role == b.Role &&
		a.FirewallKind() == b.FirewallKind() && a.firewallRule() == b.firewallRule() &&
		len(a.Findings) == len(b.Findings) && a.Socket.DualStack == b.Socket.DualStack &&
		a.Socket.Inode == b.Socket.Inode && sameJudgement(&a.Socket, &b.Socket)
}

func (v *Verdict) firewallRule() string {
	if v.fw == nil {
		return ""
	}
	return v.fw.Rule
}

// FirewallOf is Context.Firewall for rulesets read by namespace (by netns
// inode, as Snapshot.Firewalls holds them).
func FirewallOf(rulesets map[uint64]sockets.Firewall) func(*sockets.Socket) (reach.Verdict, bool) {
	if len(rulesets) == 0 {
		return nil
	}
	return func(s *sockets.Socket) (reach.Verdict, bool) {
		rs := rulesets[s.NetnsInode]
		if rs == nil {
			return reach.Verdict{}, false
		}
		addr := s.Local
		if s.DualStack {
			addr = netip.Addr{} // both families
		}
		v := rs.Evaluate(s.Proto.String(), addr, s.LPort)
		// An IPv6 wildcard listener set IPV6_V6ONLY: IPv4 cannot reach it.
		if s.Local.Is6() && s.Local.IsUnspecified() && !s.DualStack && len(v.ByFamily) == 2 {
			v = v.ByFamily[1]
		}
		return v, true
	}
}
