//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/portwatch/portwatch/sockets/reach"
	"golang.org/x/sys/unix"
)

// The evaluator runs the ruleset on a packet it partly knows: the first packet of a new connection
// (conntrack state new) from outside (never on lo), to the listener's address and port, with the
// protocol fixed. The source address stays symbolic: the evaluator follows sets of source addresses
// through the rules, so an accept that depends on the source splits them. Anything else it cannot
// fix (a mark, a fib lookup, a socket match, an input interface other than lo) is a condition it
// cannot decide: it then follows both ways, and only when the outcomes differ is the verdict
// Unknown, naming that rule.
//
// This file holds Evaluate and the walk: which base chains a packet from outside crosses and in
// what order, and how the pieces of the source space go through their chains (jumps, gotos,
// returns, the policy at the end). One rule is run in rule.go, on what loads.go puts in the
// registers; conditions.go, sets.go and xtables.go decide the matches; resolve.go makes the verdict.

type vkind int

const (
	vNone vkind = iota // no verdict: the next rule
	vAccept
	vDrop
	vReject // rejected with a TCP reset or an ICMP port unreachable: closed
	vRefuse // rejected with another ICMP unreachable (admin-prohibited, host-unreachable...): filtered
	vJump
	vGoto
	vReturn
	vEffect // something the evaluator does not model happened: unknown
)

// decider is what decides or what is assumed: a rule, a chain's policy, a device-bound chain.
type decider interface{ String() string }

type policyOf struct{ c *chain }

func (p policyOf) String() string {
	word := "drop"
	if p.c.policy == nfAccept {
		word = "accept"
	}
	return p.c.where() + ": policy " + word
}

type traversal struct{ c *chain }

func (t traversal) String() string {
	if t.c.table.family == famBridge {
		return t.c.where() + " (only for packets that come through a bridge)"
	}
	return t.c.where() + " (only for packets from device " + strings.Join(t.c.devs, ", ") + ")"
}

// piece is a set of sources and where the evaluation took them.
type piece struct {
	set        addrSet
	out        vkind
	by         decider // the deciding rule or policy
	acceptBy   decider // the last accepting rule (or policy, if no rule accepted)
	acceptPol  bool
	assumed    []decider // conditions the evaluator could not decide, taken one way
	notes      []string
	effectWhat string         // for vEffect: what was not modelled
	dnatTo     netip.AddrPort // for vEffect by a DNAT: where it sends the packet
	marked     bool           // a rule set the packet's or the connection's mark to what the evaluator does not know
	mark       uint32         // else the packet's mark (0 until a rule sets one it knows), the connection's 0
	recent     string         // the recent lists this packet was added to (--set), each name after a NUL
}

// markedNow is the piece after a rule set a mark.
func (p piece) markedNow() piece {
	q := p
	q.marked = true
	return q
}

// markedTo is the piece after a rule set the packet's mark to a value the evaluator knows.
func (p piece) markedTo(v uint32) piece {
	q := p
	q.mark = v
	return q
}

// with is the piece for other sources. Pieces share their assumed and notes slices: whoever adds
// to them copies first.
func (p piece) with(set addrSet) piece {
	q := p
	q.set = set
	return q
}

func (p *piece) note(n string) {
	for _, x := range p.notes {
		if x == n {
			return
		}
	}
	p.notes = append(append(make([]string, 0, len(p.notes)+1), p.notes...), n)
}

func (p *piece) assume(d decider) {
	p.assumed = append(append(make([]decider, 0, len(p.assumed)+1), p.assumed...), d)
}

// hookCtx is where the chain being run hangs.
type hookCtx struct {
	family uint8
	hook   uint32
	prio   int32
	device bool // ingress or bridge: before the IP stack and conntrack
}

// conntrackKnown: the packet has its conntrack entry here (not on a device hook; in input, or in
// prerouting after conntrack's priority, -200).
func (c hookCtx) conntrackKnown() bool {
	return !c.device && (c.hook == hookInput || c.prio > -200)
}

// beforeConntrack: a prerouting chain that runs before conntrack, where a packet has no entry yet.
func (c hookCtx) beforeConntrack() bool {
	return !c.device && c.hook == hookPrerouting && c.prio < -200
}

type evaluator struct {
	rs    *Ruleset
	v6    bool
	proto uint8
	port  uint16
	daddr netip.Addr // invalid for a wildcard listener
	// forward: the packet is a published port's, after its DNAT, on the forward path out of oif
	forward bool
	oif     string
	// start is the mark the packet comes with (the forward path's: what the way to its DNAT set)
	start piece
	// pastDNAT: a DNAT changes nothing (the input path's verdict for a published port, as its
	// rules would treat it without the DNAT)
	pastDNAT bool
	// routed: the packet is addressed to a namespace behind this one (routed.go), not to this
	// namespace's own address: its destination is not local
	routed bool
	steps  int
	over   bool
}

// spend takes n steps from the evaluation's budget (maxSteps per family of one Evaluate call: a rule
// run, an element of a set looked at), and says whether any were left. The budget is the one place
// evaluation is bounded, whatever the ruleset: past it the verdict is Unknown.
func (ev *evaluator) spend(n int) bool {
	ev.steps += n
	if ev.steps > maxSteps {
		ev.over = true
	}
	return !ev.over
}

const (
	maxSteps = 200000
	nfAccept = 1 // NF_ACCEPT
)

type evalKey struct {
	proto string
	addr  netip.Addr
	port  uint16
}

// Evaluate is the verdict for a new connection from a non-local address to a listener: proto "tcp"
// or "udp", the listener's address (unspecified for a wildcard listener), its port. An IPv4 address
// (or 0.0.0.0) is evaluated for IPv4, an IPv6 address for IPv6; "::" (or the zero netip.Addr) is
// taken as dual-stack (Linux's default, net.ipv6.bindv6only=0) and evaluated for both, and when the
// two differ the verdict is the more exposed one, with both in ByFamily. A loopback listener is
// Filtered (outside traffic cannot reach it), with a note. Verdicts are remembered per ruleset.
func (r *Ruleset) Evaluate(proto string, listen netip.Addr, port uint16) Verdict {
	if r.unreadable != "" {
		return Verdict{Kind: Unknown, Reason: r.unreadable}
	}
	listen = listen.Unmap()
	key := evalKey{proto, listen, port}
	r.mu.Lock()
	if v, ok := r.memo[key]; ok {
		r.mu.Unlock()
		return v
	}
	r.mu.Unlock()
	v := r.evaluate(proto, listen, port)
	r.mu.Lock()
	if r.memo == nil {
		r.memo = map[evalKey]Verdict{}
	}
	r.memo[key] = v
	r.mu.Unlock()
	return v
}

func (r *Ruleset) evaluate(proto string, listen netip.Addr, port uint16) Verdict {
	var p uint8
	switch proto {
	case "tcp":
		p = unix.IPPROTO_TCP
	case "udp":
		p = unix.IPPROTO_UDP
	default:
		return Verdict{Kind: Unknown, Reason: "protocol " + proto + " not evaluated"}
	}
	if listen.IsLoopback() {
		return Verdict{Kind: Filtered, Note: "loopback address: outside traffic cannot reach it"}
	}
	family := func(v6 bool) Verdict {
		if listen.IsValid() && !listen.IsUnspecified() {
			return r.runAt(v6, p, port, listen)
		}
		return r.wildcard(v6, p, port)
	}
	switch {
	case listen.Is4():
		return family(false)
	case listen.Is6() && !listen.IsUnspecified():
		return family(true)
	}
	return combine(family(false), family(true))
}

// runAt evaluates one family for a destination address (invalid: any, symbolically).
func (r *Ruleset) runAt(v6 bool, p uint8, port uint16, daddr netip.Addr) Verdict {
	ev := &evaluator{rs: r, v6: v6, proto: p, port: port, daddr: daddr}
	return ev.run()
}

// wildcard evaluates a wildcard listener for one family: for every destination at once, and
// when that cannot be decided (a rule matches destinations), for each of the namespace's
// addresses of the family (SetLocal), a packet to an address that is not the machine's never
// arriving.
func (r *Ruleset) wildcard(v6 bool, p uint8, port uint16) Verdict {
	v := r.runAt(v6, p, port, netip.Addr{})
	if v.Kind != Unknown {
		return v
	}
	locals := r.localsOf(v6)
	if len(locals) == 0 {
		return v
	}
	per := make([]reach.AddrVerdict, 0, len(locals))
	for _, a := range locals {
		per = append(per, reach.AddrVerdict{Addr: a, Verdict: r.runAt(v6, p, port, a)})
	}
	return byAddress(per)
}

func (ev *evaluator) appliesTo(c *chain) bool {
	if ev.forward {
		return ev.forwardChain(c)
	}
	switch c.table.family {
	case famINET:
		return c.hook == hookPrerouting || c.hook == hookInput || c.hook == hookIngress
	case famIPv4:
		return !ev.v6 && (c.hook == hookPrerouting || c.hook == hookInput)
	case famIPv6:
		return ev.v6 && (c.hook == hookPrerouting || c.hook == hookInput)
	case famNetdev:
		return c.hook == unix.NF_NETDEV_INGRESS
	case famBridge:
		return c.hook == 0 || c.hook == 1 // NF_BR_PRE_ROUTING, NF_BR_LOCAL_IN
	}
	return false
}

// stage orders the hooks a packet crosses: ingress, bridge, prerouting, input.
func stage(c *chain) int {
	switch {
	case c.table.family == famNetdev || (c.table.family == famINET && c.hook == hookIngress):
		return 0
	case c.table.family == famBridge:
		return 1
	case c.hook == hookPrerouting:
		return 2
	}
	return 3
}

func (ev *evaluator) run() Verdict {
	rs := ev.rs
	if (ev.v6 && rs.legacy6) || (!ev.v6 && rs.legacy4) {
		return Verdict{Kind: Unknown, Reason: ReasonLegacy}
	}
	chains := ev.inputPath()
	if len(chains) == 0 {
		note := "no firewall"
		if len(rs.tables) > 0 {
			note = "no firewall on the input path (no base chain on the ingress, prerouting or input hook)"
		}
		return Verdict{Kind: Open, Note: note}
	}
	universe := outsideSources(ev.v6)
	final := ev.walk(chains, universe)
	if ev.over {
		return Verdict{Kind: Unknown, Reason: fmt.Sprintf("%s (%d steps: %d rules)", ReasonBudget, maxSteps, rs.nRules)}
	}
	return ev.resolve(universe, final)
}

// walk takes the sources through the base chains in order: what one accepts goes on to the next.
func (ev *evaluator) walk(chains []*chain, universe addrSet) []piece {
	return ev.walkEach(chains, universe, nil)
}

// walkEach is walk with enter called before each chain is crossed (nil: nothing to tell).
func (ev *evaluator) walkEach(chains []*chain, universe addrSet, enter func(*chain)) []piece {
	live := []piece{{set: universe, out: vAccept, marked: ev.start.marked, mark: ev.start.mark}}
	var final []piece
	for _, c := range chains {
		if enter != nil {
			enter(c)
		}
		var next []piece
		for _, p := range live {
			for _, q := range ev.cross(c, p) {
				if q.out == vAccept {
					next = append(next, q)
				} else {
					final = append(final, q)
				}
			}
		}
		live = dedupe(next)
	}
	return append(final, live...)
}

// inputPath is the base chains a packet from outside crosses, in the order it crosses them.
func (ev *evaluator) inputPath() []*chain {
	var chains []*chain
	for _, c := range ev.rs.base {
		if ev.appliesTo(c) {
			if stage(c) == 0 && onlyLoopback(c.devs) {
				continue // outside traffic never crosses a chain bound to lo
			}
			chains = append(chains, c)
		}
	}
	sort.SliceStable(chains, func(i, j int) bool { return stage(chains[i]) < stage(chains[j]) })
	return chains
}

// cross runs a base chain on a piece. Only some packets cross a device's or a bridge's chain:
// it is followed both ways, skipped and crossed.
func (ev *evaluator) cross(c *chain, p piece) []piece {
	if stage(c) > 1 {
		return ev.base(c, p)
	}
	skip := p.with(p.set)
	skip.assume(traversal{c})
	in := p.with(p.set)
	in.assume(traversal{c})
	return append([]piece{skip}, ev.base(c, in)...)
}

func onlyLoopback(devs []string) bool {
	if len(devs) == 0 {
		return false
	}
	for _, d := range devs {
		if d != "lo" {
			return false
		}
	}
	return true
}

// base runs a base chain and applies its policy to what falls through.
func (ev *evaluator) base(c *chain, p piece) []piece {
	ctx := hookCtx{family: c.table.family, hook: c.hook, prio: c.prio, device: stage(c) <= 1}
	var out []piece
	for _, q := range ev.chain(ctx, c, p, 0) {
		if q.out == vReturn {
			pol := policyOf{c}
			if c.policy == nfAccept {
				q.out = vAccept
				if c.kind != "nat" && (q.acceptBy == nil || q.acceptPol) {
					q.acceptBy, q.acceptPol = pol, true
				}
			} else {
				q.out, q.by = vDrop, pol
			}
		}
		out = append(out, q)
	}
	return out
}

// chain runs the rules of one chain; what falls off its end or returns comes back as vReturn.
func (ev *evaluator) chain(ctx hookCtx, c *chain, p piece, depth int) []piece {
	if depth > 16 {
		p.out, p.by, p.effectWhat = vEffect, policyOf{c}, "jumps nested deeper than the kernel allows"
		return []piece{p}
	}
	var out []piece
	live := []piece{p}
	for _, r := range c.rules {
		if len(live) == 0 {
			break
		}
		var next []piece
		for _, lp := range live {
			for _, q := range ev.rule(ctx, r, lp) {
				ev.settle(ctx, c, r, q, depth, &next, &out)
			}
		}
		live = dedupe(next)
	}
	for _, lp := range live {
		lp.out = vReturn
		out = append(out, lp)
	}
	return out
}

// settle places a piece after rule r of chain c: on to the next rule (next), or out of the chain
// with its verdict (out); a jump or goto runs the target chain first.
func (ev *evaluator) settle(ctx hookCtx, c *chain, r *rule, q piece, depth int, next, out *[]piece) {
	switch q.out {
	case vNone:
		*next = append(*next, q)
	case vAccept:
		q.by, q.acceptBy, q.acceptPol = r, r, false
		*out = append(*out, q)
	case vDrop, vReject, vRefuse, vEffect:
		q.by = r
		*out = append(*out, q)
	case vReturn:
		*out = append(*out, q)
	case vJump, vGoto:
		ev.jump(ctx, c, r, q, depth, next, out)
	}
}

// jump runs the chain a jump or goto names: what returns from a jump goes on to the next rule;
// everything else, and all that a goto's chain gives back, leaves this chain.
func (ev *evaluator) jump(ctx hookCtx, c *chain, r *rule, q piece, depth int, next, out *[]piece) {
	target := ev.rs.chains[setKey{c.table.family, c.table.name, q.effectWhat}]
	q.effectWhat = ""
	if target == nil {
		q.out, q.by, q.effectWhat = vEffect, r, "jump to a chain that was not read"
		*out = append(*out, q)
		return
	}
	isJump := q.out == vJump
	q.out = vNone
	for _, sq := range ev.chain(ctx, target, q, depth+1) {
		if sq.out == vReturn && isJump {
			sq.out = vNone
			*next = append(*next, sq)
		} else {
			*out = append(*out, sq)
		}
	}
}

// dedupe merges pieces that are the same but for their sources.
func dedupe(ps []piece) []piece {
	if len(ps) < 2 {
		return ps
	}
	out := ps[:0:0]
	for _, p := range ps {
		merged := false
		for i := range out {
			if samePath(&out[i], &p) {
				out[i].set = out[i].set.union(p.set)
				merged = true
				break
			}
		}
		if !merged {
			out = append(out, p)
		}
	}
	return out
}

func samePath(a, b *piece) bool {
	if a.out != b.out || a.by != b.by || a.acceptBy != b.acceptBy || a.acceptPol != b.acceptPol ||
		a.effectWhat != b.effectWhat || a.dnatTo != b.dnatTo || a.marked != b.marked || a.mark != b.mark || a.recent != b.recent || len(a.assumed) != len(b.assumed) || len(a.notes) != len(b.notes) {
		return false
	}
	for i := range a.assumed {
		if a.assumed[i] != b.assumed[i] {
			return false
		}
	}
	for i := range a.notes {
		if a.notes[i] != b.notes[i] {
			return false
		}
	}
	return true
}
