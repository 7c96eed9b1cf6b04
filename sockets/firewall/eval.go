//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// The evaluator runs the ruleset on a packet it partly knows: the first packet of a new connection
// (conntrack state new) from outside (never on lo), to the listener's address and port, with the
// protocol fixed. The source address stays symbolic: the evaluator follows sets of source addresses
// through the rules, so an accept that depends on the source splits them. Anything else it cannot
// fix (a mark, a fib lookup, a socket match, an input interface other than lo) is a condition it
// cannot decide: it then follows both ways, and only when the outcomes differ is the verdict
// Unknown, naming that rule.

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
	effectWhat string // for vEffect: what was not modelled
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

type evaluator struct {
	rs    *Ruleset
	v6    bool
	proto uint8
	port  uint16
	daddr netip.Addr // invalid for a wildcard listener
	steps int
	over  bool
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
		ev := &evaluator{rs: r, v6: v6, proto: p, port: port}
		if listen.IsValid() && !listen.IsUnspecified() {
			ev.daddr = listen
		}
		return ev.run()
	}
	switch {
	case listen.Is4():
		return family(false)
	case listen.Is6() && !listen.IsUnspecified():
		return family(true)
	}
	return combine(family(false), family(true))
}

func (ev *evaluator) appliesTo(c *chain) bool {
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
	var chains []*chain
	for _, c := range rs.base {
		if ev.appliesTo(c) {
			if stage(c) == 0 && onlyLoopback(c.devs) {
				continue // outside traffic never crosses a chain bound to lo
			}
			chains = append(chains, c)
		}
	}
	if len(chains) == 0 {
		note := "no firewall"
		if len(rs.tables) > 0 {
			note = "no firewall on the input path (no base chain on the ingress, prerouting or input hook)"
		}
		return Verdict{Kind: Open, Note: note}
	}
	sort.SliceStable(chains, func(i, j int) bool { return stage(chains[i]) < stage(chains[j]) })

	universe := outsideSources(ev.v6)
	live := []piece{{set: universe, out: vAccept}}
	var final []piece
	for _, c := range chains {
		var next []piece
		for _, p := range live {
			var res []piece
			if s := stage(c); s <= 1 {
				// Only some packets cross it: follow both.
				skip := p.with(p.set)
				skip.assume(traversal{c})
				res = append(res, skip)
				in := p.with(p.set)
				in.assume(traversal{c})
				res = append(res, ev.base(c, in)...)
			} else {
				res = ev.base(c, p)
			}
			for _, q := range res {
				if q.out == vAccept {
					next = append(next, q)
				} else {
					final = append(final, q)
				}
			}
		}
		live = dedupe(next)
	}
	final = append(final, live...)
	if ev.over {
		return Verdict{Kind: Unknown, Reason: fmt.Sprintf("ruleset too large to evaluate (%d rules)", rs.nRules)}
	}
	return ev.resolve(universe, final)
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
				if q.acceptBy == nil || q.acceptPol {
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
			for _, rr := range ev.rule(ctx, r, lp) {
				switch rr.out {
				case vNone:
					next = append(next, rr)
				case vAccept:
					rr.by, rr.acceptBy, rr.acceptPol = r, r, false
					out = append(out, rr)
				case vDrop, vReject, vRefuse, vEffect:
					rr.by = r
					out = append(out, rr)
				case vReturn:
					out = append(out, rr)
				case vJump, vGoto:
					target := ev.rs.chains[setKey{c.table.family, c.table.name, rr.effectWhat}]
					rr.effectWhat = ""
					if target == nil {
						rr.out, rr.by, rr.effectWhat = vEffect, r, "jump to a chain that was not read"
						out = append(out, rr)
						continue
					}
					jump := rr.out == vJump
					rr.out = vNone
					for _, sq := range ev.chain(ctx, target, rr, depth+1) {
						if sq.out == vReturn && jump {
							sq.out = vNone
							next = append(next, sq)
						} else {
							out = append(out, sq)
						}
					}
				}
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
		a.effectWhat != b.effectWhat || len(a.assumed) != len(b.assumed) || len(a.notes) != len(b.notes) {
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

// ---- one rule ----

type rstate struct {
	p       piece
	regs    regs
	assumed bool
}

// rule runs one rule on a piece: it comes back split into pieces, each with the rule's verdict
// (vNone when the rule does not match or has no verdict; vJump/vGoto carry the chain's name in
// effectWhat).
func (ev *evaluator) rule(ctx hookCtx, r *rule, p piece) []piece {
	var out []piece
	ev.steps++
	if ev.steps > maxSteps {
		ev.over = true
		p.out = vNone
		return []piece{p}
	}
	ev.exprs(ctx, r, 0, rstate{p: p}, &out)
	return out
}

func (ev *evaluator) exprs(ctx hookCtx, r *rule, i int, st rstate, out *[]piece) {
	finish := func(st rstate, v vkind, what string) {
		q := st.p
		q.out = v
		q.effectWhat = what
		// an undecided condition matters only where the rule does something: a rule that does not
		// match and one without a verdict both go on to the next rule
		if st.assumed && v != vNone {
			q.assume(r)
		}
		*out = append(*out, q)
	}
	// branch continues after a condition: matched sources go on, the others leave the rule.
	split := func(brs []branch, next func(st rstate)) {
		for _, b := range brs {
			if b.set.empty() {
				continue
			}
			sub := st
			sub.p = st.p.with(b.set)
			switch b.res {
			case bNoMatch:
				finish(sub, vNone, "")
			case bMatch:
				next(sub)
			case bUndecided:
				sub.assumed = true
				finish(sub, vNone, "")
				next(sub)
			}
		}
	}
	for ; i < len(r.nodes); i++ {
		n := r.nodes[i]
		switch e := n.e.(type) {
		case nil:
			finish(st, vEffect, "expression "+n.name)
			return
		case *expr.Meta:
			if e.SourceRegister {
				if e.Key == expr.MetaKeyMARK && ctx.hook == hookInput && !ctx.device {
					continue // a mark set after routing changes nothing the evaluator decides
				}
				finish(st, vEffect, "meta set")
				return
			}
			ev.metaLoad(&st.regs, e)
		case *expr.Ct:
			if e.SourceRegister {
				if e.Key == expr.CtKeyMARK && ctx.hook == hookInput && !ctx.device {
					continue
				}
				finish(st, vEffect, "ct set")
				return
			}
			ev.ctLoad(ctx, &st.regs, e)
		case *expr.Payload:
			if e.OperationType != expr.PayloadLoad {
				finish(st, vEffect, "payload set")
				return
			}
			ev.payloadLoad(&st.regs, e)
		case *expr.Immediate:
			st.regs.writeKnown(e.Register, e.Data)
		case *expr.Bitwise:
			bitwise(&st.regs, e)
		case *expr.Byteorder:
			byteorder(&st.regs, e)
		case *expr.Cmp:
			var kb, kk [64]byte
			if st.regs.known(e.Register, len(e.Data), &kb, &kk) {
				res, decided := knownCmp(e.Op, kb[:len(e.Data)], kk[:len(e.Data)], e.Data)
				switch {
				case !decided:
					split(all(st.p.set, bUndecided), func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
					return
				case !res:
					finish(st, vNone, "")
					return
				}
				continue // matched: on to the next expression
			}
			cs, ok := st.regs.read(e.Register, len(e.Data))
			brs := []branch{{set: st.p.set, res: bUndecided}}
			if ok {
				brs = ev.cmp(st.p.set, cs, e.Op, e.Data)
			}
			split(brs, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
			return
		case *expr.Range:
			cs, ok := st.regs.read(e.Register, len(e.FromData))
			brs := []branch{{set: st.p.set, res: bUndecided}}
			if ok {
				brs = ev.rangeCond(st.p.set, cs, e)
			}
			split(brs, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
			return
		case *expr.Lookup:
			ev.lookup(ctx, r, i, st, e, out, finish, split)
			return
		case *expr.Verdict:
			applyVerdict(st, e, finish)
			return
		case *expr.Reject:
			finish(st, ev.rejectKind(e), "")
			return
		case *expr.Counter, *expr.Log:
		case *expr.Limit:
			st.p = st.p.with(st.p.set)
			st.p.note("rate-limited: " + r.String())
		case *expr.Quota, *expr.Connlimit:
			split([]branch{{set: st.p.set, res: bUndecided}}, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
			return
		case *expr.Objref:
			switch e.Type {
			case 1: // NFT_OBJECT_COUNTER
			case 4: // NFT_OBJECT_LIMIT
				st.p = st.p.with(st.p.set)
				st.p.note("rate-limited: " + r.String())
			case 2: // NFT_OBJECT_QUOTA
				split([]branch{{set: st.p.set, res: bUndecided}}, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
				return
			default:
				finish(st, vEffect, "object reference")
				return
			}
		case *expr.Dynset:
			plain := true
			for _, x := range e.Exprs {
				switch x.(type) {
				case *expr.Counter:
				case *expr.Limit:
					st.p = st.p.with(st.p.set)
					st.p.note("rate-limited: " + r.String())
				default:
					plain = false
				}
			}
			if !plain {
				split([]branch{{set: st.p.set, res: bUndecided}}, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
				return
			}
		case *expr.Match:
			brs := ev.xtMatch(ctx, st.p, e)
			if brs == nil {
				continue // a match that always holds (a comment)
			}
			split(brs, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
			return
		case *expr.Target:
			switch e.Name {
			case "LOG", "NFLOG":
			case "REJECT":
				finish(st, ev.xtRejectKind(e), "")
				return
			default:
				finish(st, vEffect, "xt target "+e.Name)
				return
			}
		case *expr.Fib:
			st.regs.writeUnknown(e.Register, 0)
		case *expr.Socket:
			st.regs.writeUnknown(e.Register, 0)
		case *expr.Rt:
			st.regs.writeUnknown(e.Register, 0)
		case *expr.Numgen:
			st.regs.writeUnknown(e.Register, 0)
		case *expr.Hash:
			st.regs.writeUnknown(e.DestRegister, 0)
		case *expr.Exthdr:
			if e.SourceRegister != 0 {
				finish(st, vEffect, "exthdr set")
				return
			}
			st.regs.writeUnknown(e.DestRegister, int(e.Len))
		default:
			finish(st, vEffect, "expression "+n.name)
			return
		}
	}
	finish(st, vNone, "")
}

// rejectKind: a TCP reset or an ICMP port unreachable makes a connection fail as refused (closed);
// other ICMP unreachables make it fail as unreachable, which a scanner reports as filtered.
func (ev *evaluator) rejectKind(e *expr.Reject) vkind {
	switch e.Type {
	case unix.NFT_REJECT_TCP_RST:
		if ev.proto == unix.IPPROTO_TCP {
			return vReject
		}
		return vRefuse // not sent for UDP
	case unix.NFT_REJECT_ICMPX_UNREACH:
		if e.Code == unix.NFT_REJECT_ICMPX_PORT_UNREACH {
			return vReject
		}
	case unix.NFT_REJECT_ICMP_UNREACH:
		if (!ev.v6 && e.Code == 3) || (ev.v6 && e.Code == 4) { // ICMP_PORT_UNREACH, ICMPV6_PORT_UNREACH
			return vReject
		}
	}
	return vRefuse
}

// xtRejectKind reads the REJECT target's reject-with (ipt_reject_info, ip6t_reject_info).
func (ev *evaluator) xtRejectKind(e *expr.Target) vkind {
	info, ok := e.Info.(*xt.Unknown)
	if !ok || len(*info) < 4 {
		return vRefuse
	}
	with := binary.NativeEndian.Uint32((*info)[:4])
	if ev.v6 {
		if with == 4 || (with == 6 && ev.proto == unix.IPPROTO_TCP) { // IP6T_ICMP6_PORT_UNREACH, IP6T_TCP_RESET
			return vReject
		}
		return vRefuse
	}
	if with == 3 || (with == 7 && ev.proto == unix.IPPROTO_TCP) { // IPT_ICMP_PORT_UNREACHABLE, IPT_TCP_RESET
		return vReject
	}
	return vRefuse
}

func applyVerdict(st rstate, e *expr.Verdict, finish func(rstate, vkind, string)) {
	switch e.Kind {
	case expr.VerdictAccept:
		finish(st, vAccept, "")
	case expr.VerdictDrop:
		finish(st, vDrop, "")
	case expr.VerdictReturn:
		finish(st, vReturn, "")
	case expr.VerdictJump:
		finish(st, vJump, e.Chain)
	case expr.VerdictGoto:
		finish(st, vGoto, e.Chain)
	case expr.VerdictContinue, expr.VerdictBreak:
		finish(st, vNone, "")
	default:
		finish(st, vEffect, "verdict "+verdictWord(e.Kind))
	}
}

func verdictWord(k expr.VerdictKind) string {
	switch k {
	case expr.VerdictAccept:
		return "accept"
	case expr.VerdictDrop:
		return "drop"
	case expr.VerdictReturn:
		return "return"
	case expr.VerdictJump:
		return "jump"
	case expr.VerdictGoto:
		return "goto"
	case expr.VerdictContinue:
		return "continue"
	case expr.VerdictBreak:
		return "break"
	case expr.VerdictQueue:
		return "queue"
	case expr.VerdictStolen:
		return "stolen"
	}
	return fmt.Sprintf("%d", k)
}

// ---- loads ----

func (ev *evaluator) nfproto() uint8 {
	if ev.v6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

func (ev *evaluator) ethertype() []byte {
	if ev.v6 {
		return []byte{0x86, 0xdd}
	}
	return []byte{0x08, 0x00}
}

func (ev *evaluator) metaLoad(rg *regs, e *expr.Meta) {
	switch e.Key {
	case expr.MetaKeyL4PROTO:
		rg.writeKnown(e.Register, []byte{ev.proto})
	case expr.MetaKeyNFPROTO:
		rg.writeKnown(e.Register, []byte{ev.nfproto()})
	case expr.MetaKeyPROTOCOL:
		rg.writeKnown(e.Register, ev.ethertype())
	case expr.MetaKeyPKTTYPE:
		rg.writeKnown(e.Register, []byte{unix.PACKET_HOST})
	case expr.MetaKeyIIF:
		rg.writeSym(e.Register, &symVal{kind: symIif, n: 4})
	case expr.MetaKeyIIFNAME:
		rg.writeSym(e.Register, &symVal{kind: symIifname, n: unix.IFNAMSIZ})
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

func (ev *evaluator) ctLoad(ctx hookCtx, rg *regs, e *expr.Ct) {
	known := !ctx.device && (ctx.hook == hookInput || ctx.prio > -200)
	before := !ctx.device && ctx.hook == hookPrerouting && ctx.prio < -200
	u32 := func(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
	switch {
	case e.Key == expr.CtKeySTATE && known:
		rg.writeKnown(e.Register, u32(expr.CtStateBitNEW))
	case e.Key == expr.CtKeySTATE && before:
		// before conntrack (priority < -200) a packet has no entry: its state reads invalid
		rg.writeKnown(e.Register, u32(expr.CtStateBitINVALID))
	case e.Key == expr.CtKeyDIRECTION && known:
		rg.writeKnown(e.Register, []byte{0}) // IP_CT_DIR_ORIGINAL
	case e.Key == expr.CtKeySTATUS && known:
		// a new entry is not expected, has seen no reply, is not assured, not confirmed yet,
		// and (on a path with no nat statement) not natted; the other bits are unknown
		rg.writeBytes(e.Register, u32(0), u32(0x3f))
	case e.Key == expr.CtKeyPROTOCOL && known:
		rg.writeKnown(e.Register, []byte{ev.proto})
	case e.Key == unix.NFT_CT_L3PROTOCOL && known:
		rg.writeKnown(e.Register, []byte{ev.nfproto()})
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

func (ev *evaluator) payloadLoad(rg *regs, e *expr.Payload) {
	n := int(e.Len)
	off := int(e.Offset)
	var hdr, known []byte
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		saddrOff, daddrOff, alen := 12, 16, 4
		hdr, known = make([]byte, 20), make([]byte, 20)
		hdr[0], known[0] = 0x40, 0xf0 // version
		hdr[9], known[9] = ev.proto, 0xff
		if ev.v6 {
			saddrOff, daddrOff, alen = 8, 24, 16
			hdr, known = make([]byte, 40), make([]byte, 40)
			hdr[0], known[0] = 0x60, 0xf0
			hdr[6], known[6] = ev.proto, 0xff // next header (no extension headers)
		}
		if ev.daddr.IsValid() {
			copy(hdr[daddrOff:], ev.daddr.AsSlice())
			copy(known[daddrOff:daddrOff+alen], bytes.Repeat([]byte{0xff}, alen))
		}
		overlaps := func(a int) bool { return off < a+alen && off+n > a }
		switch {
		case off == saddrOff && n <= alen:
			rg.writeSym(e.DestRegister, &symVal{kind: symSaddr, n: n})
			return
		case overlaps(saddrOff):
			rg.writeUnknown(e.DestRegister, n)
			return
		case !ev.daddr.IsValid() && off == daddrOff && n <= alen:
			rg.writeSym(e.DestRegister, &symVal{kind: symDaddr, n: n})
			return
		case !ev.daddr.IsValid() && overlaps(daddrOff):
			rg.writeUnknown(e.DestRegister, n)
			return
		}
	case expr.PayloadBaseTransportHeader:
		hdr, known = make([]byte, 20), make([]byte, 20)
		binary.BigEndian.PutUint16(hdr[2:], ev.port)
		known[2], known[3] = 0xff, 0xff
	default:
		rg.writeUnknown(e.DestRegister, n)
		return
	}
	b, k := make([]byte, n), make([]byte, n)
	for i := 0; i < n; i++ {
		if off+i < len(hdr) {
			b[i], k[i] = hdr[off+i], known[off+i]
		}
	}
	rg.writeBytes(e.DestRegister, b, k)
}

func bitwise(rg *regs, e *expr.Bitwise) {
	n := int(e.Len)
	cs, ok := rg.read(e.SourceRegister, n)
	if !ok || len(e.Mask) < n || len(e.Xor) < n {
		rg.writeUnknown(e.DestRegister, n)
		return
	}
	if b, k, ok := bytesOf(cs); ok {
		ob, ok2 := make([]byte, n), make([]byte, n)
		for i := 0; i < n; i++ {
			ob[i] = (b[i] & e.Mask[i]) ^ e.Xor[i]
			ok2[i] = k[i] | ^e.Mask[i]
		}
		rg.writeBytes(e.DestRegister, ob, ok2)
		return
	}
	if len(cs) == 1 && cs[0].sym != nil && !cs[0].truncated && cs[0].sym.n == n &&
		(cs[0].sym.kind == symSaddr || cs[0].sym.kind == symDaddr) && allZero(e.Xor[:n]) {
		old := cs[0].sym
		m := make([]byte, n)
		for i := range m {
			m[i] = e.Mask[i]
			if old.mask != nil {
				m[i] &= old.mask[i]
			}
		}
		rg.writeSym(e.DestRegister, &symVal{kind: old.kind, n: n, mask: m})
		return
	}
	rg.writeUnknown(e.DestRegister, n)
}

func byteorder(rg *regs, e *expr.Byteorder) {
	n := int(e.Len)
	cs, ok := rg.read(e.SourceRegister, n)
	b, k, ok2 := bytesOf(cs)
	size := int(e.Size)
	if !ok || !ok2 || (size != 2 && size != 4 && size != 8) || n%size != 0 {
		rg.writeUnknown(e.DestRegister, n)
		return
	}
	ob, ok3 := append([]byte(nil), b...), append([]byte(nil), k...)
	if nativeLittle {
		for i := 0; i < n; i += size {
			for j := 0; j < size; j++ {
				ob[i+j], ok3[i+j] = b[i+size-1-j], k[i+size-1-j]
			}
		}
	}
	rg.writeBytes(e.DestRegister, ob, ok3)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// ---- conditions ----

type bres int

const (
	bMatch bres = iota
	bNoMatch
	bUndecided
)

type branch struct {
	set  addrSet
	res  bres
	elem *setElem // for a map or vmap lookup: the element that matched
}

func all(set addrSet, res bres) []branch { return []branch{{set: set, res: res}} }

func boolRes(b bool) bres {
	if b {
		return bMatch
	}
	return bNoMatch
}

func invertRes(r bres) bres {
	switch r {
	case bMatch:
		return bNoMatch
	case bNoMatch:
		return bMatch
	}
	return r
}

// knownCmp compares partly known bytes with data: the answer, and whether it is decided.
func knownCmp(op expr.CmpOp, b, known, data []byte) (bool, bool) {
	differs, allKnown := false, true
	for i := range data {
		if (b[i]^data[i])&known[i] != 0 {
			differs = true
		}
		if known[i] != 0xff {
			allKnown = false
		}
	}
	switch op {
	case expr.CmpOpEq:
		if differs {
			return false, true
		}
		return true, allKnown
	case expr.CmpOpNeq:
		if differs {
			return true, true
		}
		return false, allKnown
	}
	if !allKnown {
		return false, false
	}
	c := bytes.Compare(b[:len(data)], data)
	switch op {
	case expr.CmpOpLt:
		return c < 0, true
	case expr.CmpOpLte:
		return c <= 0, true
	case expr.CmpOpGt:
		return c > 0, true
	case expr.CmpOpGte:
		return c >= 0, true
	}
	return false, false
}

// addrRegion is the set of addresses a (masked) address field compares op data with; ok is false
// when the mask is not a prefix (then the evaluator does not decide).
func (ev *evaluator) addrRegion(s *symVal, op expr.CmpOp, data []byte) (addrSet, bool) {
	alen := 4
	if ev.v6 {
		alen = 16
	}
	nb := alen * 8
	L := len(data)
	if L > s.n || L == 0 {
		return addrSet{}, false
	}
	mfull := make([]byte, alen)
	for i := 0; i < L; i++ {
		mfull[i] = 0xff
		if s.mask != nil {
			mfull[i] = s.mask[i]
		}
	}
	m := u128From(mfull)
	p := 0
	for p < nb && !m.and(hostMask(nb, p+1).not()).and(hostMask(nb, p)).isZero() {
		p++ // bit p (from the top) is set
	}
	if m.cmp(hostMask(nb, p).not().and(fullSet(ev.v6).r[0].hi)) != 0 {
		return addrSet{}, false // not a prefix mask
	}
	dfull := make([]byte, alen)
	copy(dfull, data)
	d := u128From(dfull)
	switch op {
	case expr.CmpOpEq, expr.CmpOpNeq:
		var region addrSet
		if d.and(m.not()).and(fullSet(ev.v6).r[0].hi).isZero() {
			region = prefixSet(ev.v6, d, p)
		} else {
			region = emptySet(ev.v6)
		}
		if op == expr.CmpOpNeq {
			region = region.complement()
		}
		return region, true
	}
	if p != nb {
		return addrSet{}, false
	}
	max := fullSet(ev.v6).r[0].hi
	switch op {
	case expr.CmpOpLt:
		if d.isZero() {
			return emptySet(ev.v6), true
		}
		return rangeSet(ev.v6, u128{}, d.sub1()), true
	case expr.CmpOpLte:
		return rangeSet(ev.v6, u128{}, d), true
	case expr.CmpOpGt:
		if d.cmp(max) == 0 {
			return emptySet(ev.v6), true
		}
		return rangeSet(ev.v6, d.add1(), max), true
	case expr.CmpOpGte:
		return rangeSet(ev.v6, d, max), true
	}
	return addrSet{}, false
}

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

// outsideDaddrs is what a wildcard listener's destination address can be for outside traffic.
func (ev *evaluator) outsideDaddrs() addrSet { return outsideSources(ev.v6) }

// regionBranches splits set by a region of a symbolic address.
func (ev *evaluator) regionBranches(set addrSet, s *symVal, region addrSet) []branch {
	if s.kind == symSaddr {
		return []branch{{set: set.intersect(region), res: bMatch}, {set: set.minus(region), res: bNoMatch}}
	}
	u := ev.outsideDaddrs()
	switch {
	case u.minus(region).empty():
		return all(set, bMatch)
	case u.intersect(region).empty():
		return all(set, bNoMatch)
	}
	return all(set, bUndecided)
}

// loName is lo's name as an interface name register holds it.
var loName = append([]byte("lo"), make([]byte, unix.IFNAMSIZ-2)...)

func (ev *evaluator) cmp(set addrSet, cs []component, op expr.CmpOp, data []byte) []branch {
	if b, k, ok := bytesOf(cs); ok {
		res, decided := knownCmp(op, b, k, data)
		if !decided {
			return all(set, bUndecided)
		}
		return all(set, boolRes(res))
	}
	if len(cs) != 1 {
		// a concatenation with a symbolic part: decided only when a known part differs
		off := 0
		for _, c := range cs {
			if c.sym == nil && off+len(c.b) <= len(data) {
				if (op == expr.CmpOpEq || op == expr.CmpOpNeq) && !bytes.Equal(c.b, data[off:off+len(c.b)]) && allFF(c.known) {
					return all(set, boolRes(op == expr.CmpOpNeq))
				}
			}
			off += c.padded
		}
		return all(set, bUndecided)
	}
	s := cs[0].sym
	switch s.kind {
	case symSaddr, symDaddr:
		region, ok := ev.addrRegion(s, op, data)
		if !ok {
			return all(set, bUndecided)
		}
		return ev.regionBranches(set, s, region)
	case symIifname:
		if op != expr.CmpOpEq && op != expr.CmpOpNeq {
			return all(set, bUndecided)
		}
		// an exact name (the data holds its terminating zero) that is lo: outside traffic never has it
		if nul := bytes.IndexByte(data, 0); nul >= 0 && bytes.Equal(data[:nul], []byte("lo")) && allZero(data[nul:]) {
			return all(set, boolRes(op == expr.CmpOpNeq))
		}
		return all(set, bUndecided)
	case symIif:
		if len(data) == 4 && binary.NativeEndian.Uint32(data) == 1 && (op == expr.CmpOpEq || op == expr.CmpOpNeq) {
			return all(set, boolRes(op == expr.CmpOpNeq)) // ifindex 1 is lo in every namespace
		}
	}
	return all(set, bUndecided)
}

func allFF(b []byte) bool {
	for _, x := range b {
		if x != 0xff {
			return false
		}
	}
	return true
}

func (ev *evaluator) rangeCond(set addrSet, cs []component, e *expr.Range) []branch {
	inv := e.Op == expr.CmpOpNeq
	if b, k, ok := bytesOf(cs); ok {
		if !allFF(k[:len(e.FromData)]) {
			return all(set, bUndecided)
		}
		in := bytes.Compare(b, e.FromData) >= 0 && bytes.Compare(b, e.ToData) <= 0
		return all(set, boolRes(in != inv))
	}
	if len(cs) == 1 && (cs[0].sym.kind == symSaddr || cs[0].sym.kind == symDaddr) && cs[0].sym.mask == nil &&
		!cs[0].truncated && (len(e.FromData) == 4 && !ev.v6 || len(e.FromData) == 16 && ev.v6) {
		region := rangeSet(ev.v6, u128From(e.FromData), u128From(e.ToData))
		if inv {
			region = region.complement()
		}
		return ev.regionBranches(set, cs[0].sym, region)
	}
	return all(set, bUndecided)
}

// ---- sets ----

// setEntry is an element as a range of keys, per field for a concatenation with ranges.
type setEntry struct {
	lo, hi   []byte
	perField bool
	elem     *setElem
}

func (s *set) entriesList() ([]setEntry, *setElem) {
	s.entriesOnce.Do(func() {
		elems := sortedElems(s)
		for i := range elems {
			e := &elems[i]
			switch {
			case e.catchall:
				s.catchall = e
			case e.end:
			case e.keyEnd != nil:
				s.entries = append(s.entries, setEntry{lo: e.key, hi: e.keyEnd, perField: true, elem: e})
			case s.interval():
				// an interval runs to the next key (the end element, exclusive), or to the top
				hi := bytes.Repeat([]byte{0xff}, len(e.key))
				for j := i + 1; j < len(elems); j++ {
					if elems[j].catchall || bytes.Equal(elems[j].key, e.key) {
						continue
					}
					hi = decBytes(elems[j].key)
					break
				}
				s.entries = append(s.entries, setEntry{lo: e.key, hi: hi, elem: e})
			default:
				s.entries = append(s.entries, setEntry{lo: e.key, hi: e.key, elem: e})
			}
		}
	})
	return s.entries, s.catchall
}

func decBytes(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}

// fieldsOf splits a set key into its fields: offsets and lengths. The kernel says it for
// concatenations with ranges (NFTA_SET_DESC_CONCAT); otherwise the register layout of the key does
// (a known part may then come in 4-byte pieces, which is the same for exact matches).
func fieldsOf(s *set, cs []component) [][2]int {
	var out [][2]int
	off := 0
	if len(s.fields) > 0 {
		for _, f := range s.fields {
			out = append(out, [2]int{off, f})
			off += 4 * words(f)
		}
		return out
	}
	for _, c := range cs {
		n := c.size
		if c.sym != nil {
			n = c.sym.n
		}
		out = append(out, [2]int{off, n})
		off += c.padded
	}
	return out
}

func (ev *evaluator) lookup(ctx hookCtx, r *rule, i int, st rstate, e *expr.Lookup, out *[]piece,
	finish func(rstate, vkind, string), split func([]branch, func(rstate))) {
	s := ev.rs.sets[setKey{r.chain.table.family, r.chain.table.name, e.SetName}]
	if s == nil {
		finish(st, vEffect, "lookup in a set that was not read")
		return
	}
	if s.volatile() {
		st.p = st.p.with(st.p.set)
		name := "@" + s.name
		if s.anonymous() {
			name = "an anonymous set"
		}
		st.p.note("set " + name + " changes without a ruleset change (timeouts or updates from the packet path): as read")
	}
	cs, ok := st.regs.read(e.SourceRegister, int(s.keyLen))
	var brs []branch
	if ok {
		brs = ev.setBranches(st.p.set, s, cs)
	} else {
		brs = all(st.p.set, bUndecided)
	}
	isVmap := e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT
	isMap := e.IsDestRegSet && !isVmap
	if !isVmap && !isMap {
		if e.Invert {
			for k := range brs {
				brs[k].res = invertRes(brs[k].res)
			}
		}
		split(brs, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
		return
	}
	for _, b := range brs {
		if b.set.empty() {
			continue
		}
		sub := st
		sub.p = st.p.with(b.set)
		switch {
		case b.res == bNoMatch:
			finish(sub, vNone, "")
		case b.res == bUndecided:
			sub.assumed = true
			finish(sub, vNone, "")
			if isMap {
				sub.regs.writeUnknown(e.DestRegister, int(s.dataLen))
				ev.exprs(ctx, r, i+1, sub, out)
			} else {
				finish(sub, vEffect, "verdict map on a key the evaluator does not know")
			}
		case isMap:
			sub.regs.writeKnown(e.DestRegister, b.elem.data)
			ev.exprs(ctx, r, i+1, sub, out)
		default:
			v := b.elem.verdict
			if v == nil {
				finish(sub, vEffect, "verdict map element without a verdict")
				continue
			}
			if i+1 != len(r.nodes) {
				// statements after a verdict map: the kernel stops at the verdict only if it is final
				finish(sub, vEffect, "expressions after a verdict map")
				continue
			}
			applyVerdict(sub, v, finish)
		}
	}
}

// setBranches splits the sources by the elements of a set the key cs is looked up in.
func (ev *evaluator) setBranches(set addrSet, s *set, cs []component) []branch {
	entries, catchall := s.entriesList()
	if b, k, ok := bytesOf(cs); ok {
		if !allFF(k) {
			return all(set, bUndecided)
		}
		for idx := range entries {
			if entryHas(s, &entries[idx], cs, b) {
				return []branch{{set: set, res: bMatch, elem: entries[idx].elem}}
			}
		}
		if catchall != nil {
			return []branch{{set: set, res: bMatch, elem: catchall}}
		}
		return all(set, bNoMatch)
	}
	// One symbolic part: it must be an address field of its own, the others known.
	fields := fieldsOf(s, cs)
	off := 0
	symIdx, symOff := -1, 0
	key := make([]byte, 0, s.keyLen)
	for i, c := range cs {
		if c.sym != nil {
			if symIdx >= 0 {
				return all(set, bUndecided)
			}
			symIdx, symOff = i, off
			key = append(key, make([]byte, c.padded)...)
		} else {
			if !allFF(c.known) {
				return all(set, bUndecided)
			}
			key = append(key, c.b...)
			key = append(key, make([]byte, c.padded-len(c.b))...)
		}
		off += c.padded
	}
	sym := cs[symIdx].sym
	key = key[:min(len(key), int(s.keyLen))]
	symField := -1
	for fi, f := range fields {
		if f[0] == symOff && f[1] == sym.n {
			symField = fi
		}
		if f[0]+f[1] > len(key) {
			return all(set, bUndecided)
		}
	}
	switch sym.kind {
	case symIif, symIifname:
		// the interface: only sets that hold nothing but lo can be decided
		loKey := loName
		if sym.kind == symIif {
			loKey = binary.NativeEndian.AppendUint32(nil, 1)
		}
		if catchall != nil {
			return all(set, bUndecided)
		}
		for idx := range entries {
			en := &entries[idx]
			lo, hi := en.lo, en.hi
			if len(fields) > 1 || symOff != 0 || len(lo) < len(loKey) {
				return all(set, bUndecided)
			}
			if !bytes.Equal(lo[:len(loKey)], loKey) || !bytes.Equal(hi[:len(loKey)], loKey) {
				return all(set, bUndecided)
			}
		}
		return all(set, bNoMatch)
	}
	alen := 4
	if ev.v6 {
		alen = 16
	}
	if sym.mask != nil || sym.n != alen || symField < 0 {
		return all(set, bUndecided)
	}
	var brs []branch
	matched := emptySet(ev.v6)
	for idx := range entries {
		en := &entries[idx]
		// the known fields must hold
		okFields := true
		if len(en.lo) < len(key) || len(en.hi) < len(key) {
			return all(set, bUndecided)
		}
		for fi, f := range fields {
			if fi == symField {
				continue
			}
			kf := key[f[0] : f[0]+f[1]]
			lo, hi := en.lo[f[0]:f[0]+f[1]], en.hi[f[0]:f[0]+f[1]]
			if bytes.Compare(kf, lo) < 0 || bytes.Compare(kf, hi) > 0 {
				okFields = false
			}
		}
		if !okFields {
			continue
		}
		if len(fields) > 1 && !en.perField {
			// a concatenation without ranges: the known fields must be equal and the address exact
			if !bytes.Equal(en.lo, en.hi) {
				return all(set, bUndecided)
			}
		}
		lo := en.lo[symOff : symOff+alen]
		hi := en.hi[symOff : symOff+alen]
		region := rangeSet(ev.v6, u128From(lo), u128From(hi))
		matched = matched.union(region)
		for _, b := range ev.regionBranches(set, sym, region) {
			if b.res == bMatch && !b.set.empty() {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: en.elem})
			} else if b.res == bUndecided {
				return all(set, bUndecided)
			}
		}
	}
	rest := ev.regionBranches(set, sym, matched.complement())
	for _, b := range rest {
		if b.res == bUndecided {
			return all(set, bUndecided)
		}
		if b.res == bMatch && !b.set.empty() {
			if catchall != nil {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: catchall})
			} else {
				brs = append(brs, branch{set: b.set, res: bNoMatch})
			}
		}
	}
	if sym.kind == symDaddr {
		// every branch covers the whole set: keep one decided answer
		if len(brs) == 1 {
			return brs
		}
		return all(set, bUndecided)
	}
	return brs
}

// entryHas says whether a known key falls in an entry.
func entryHas(s *set, en *setEntry, cs []component, key []byte) bool {
	key = key[:min(len(key), len(en.lo))]
	if !en.perField {
		return bytes.Compare(key, en.lo) >= 0 && bytes.Compare(key, en.hi) <= 0
	}
	for _, f := range fieldsOf(s, cs) {
		if f[0]+f[1] > len(key) {
			return false
		}
		k := key[f[0] : f[0]+f[1]]
		if bytes.Compare(k, en.lo[f[0]:f[0]+f[1]]) < 0 || bytes.Compare(k, en.hi[f[0]:f[0]+f[1]]) > 0 {
			return false
		}
	}
	return true
}

// ---- xtables matches (iptables-nft) ----

// xtMatch decides the xtables matches it knows; nil means the match always holds.
func (ev *evaluator) xtMatch(ctx hookCtx, p piece, e *expr.Match) []branch {
	// conntrack --ctstate (and state --state): the state of a new connection is NEW (bit 8)
	ctState := func(base xt.ConntrackMtinfoBase, mask uint16) []branch {
		known := !ctx.device && (ctx.hook == hookInput || ctx.prio > -200)
		if !known || base.MatchFlags&^uint16(xt.ConntrackState|xt.ConntrackStateAlias) != 0 || base.MatchFlags&uint16(xt.ConntrackState) == 0 {
			return all(p.set, bUndecided)
		}
		in := mask&uint16(expr.CtStateBitNEW) != 0
		return all(p.set, boolRes(in != (base.InvertFlags&uint16(xt.ConntrackState) != 0)))
	}
	switch info := e.Info.(type) {
	case *xt.ConntrackMtinfo1:
		return ctState(info.ConntrackMtinfoBase, uint16(info.StateMask))
	case *xt.ConntrackMtinfo2:
		return ctState(info.ConntrackMtinfoBase, info.StateMask)
	case *xt.ConntrackMtinfo3:
		return ctState(info.ConntrackMtinfoBase, info.StateMask)
	case *xt.Comment:
		return nil
	case *xt.Tcp:
		if ev.proto != unix.IPPROTO_TCP || info.Option != 0 || info.FlagsMask != 0 ||
			info.SrcPorts != [2]uint16{0, 0xffff} || info.InvFlags&(xt.TcpInvSrcPorts|xt.TcpInvFlags|xt.TcpInvOption) != 0 {
			return all(p.set, bUndecided)
		}
		in := ev.port >= info.DstPorts[0] && ev.port <= info.DstPorts[1]
		return all(p.set, boolRes(in != (info.InvFlags&xt.TcpInvDestPorts != 0)))
	case *xt.Udp:
		if ev.proto != unix.IPPROTO_UDP || info.SrcPorts != [2]uint16{0, 0xffff} || info.InvFlags&xt.UdpInvSrcPorts != 0 {
			return all(p.set, bUndecided)
		}
		in := ev.port >= info.DstPorts[0] && ev.port <= info.DstPorts[1]
		return all(p.set, boolRes(in != (info.InvFlags&xt.UdpInvDestPorts != 0)))
	}
	if e.Name == "comment" {
		return nil
	}
	return all(p.set, bUndecided)
}

// ---- the answer ----

type segment struct {
	set    addrSet
	pieces []*piece
}

// resolve turns the final pieces into a verdict. Pieces overlap where the evaluator followed both
// ways of an undecided condition: there, different outcomes make the verdict Unknown.
func (ev *evaluator) resolve(universe addrSet, final []piece) Verdict {
	// cut the sources into segments that every piece either covers or misses
	var cuts []u128
	for _, p := range final {
		for _, x := range p.set.r {
			cuts = append(cuts, x.lo, x.hi.add1())
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].cmp(cuts[j]) < 0 })
	type group struct {
		kind   Kind
		by     decider
		set    addrSet
		notes  []string
		reason string
	}
	groups := map[string]*group{}
	var order []string
	add := func(kind Kind, by decider, set addrSet, notes []string, reason string) {
		k := string(kind) + "|"
		if by != nil {
			k += by.String()
		}
		k += "|" + reason
		g := groups[k]
		if g == nil {
			g = &group{kind: kind, by: by, set: emptySet(ev.v6), reason: reason}
			groups[k] = g
			order = append(order, k)
		}
		g.set = g.set.union(set)
		g.notes = append(g.notes, notes...)
	}
	max := fullSet(ev.v6).r[0].hi
	for i := 0; i < len(cuts); i++ {
		lo := cuts[i]
		if i+1 < len(cuts) && cuts[i+1].cmp(lo) == 0 {
			continue
		}
		var hi u128
		if i+1 < len(cuts) {
			hi = cuts[i+1].sub1()
		} else {
			hi = max
		}
		if lo.cmp(hi) > 0 || (i > 0 && lo.isZero() && cuts[i-1].cmp(max) == 0) {
			continue
		}
		if !universe.contains(lo) {
			continue
		}
		seg := rangeSet(ev.v6, lo, hi).intersect(universe)
		var cover []*piece
		for k := range final {
			if final[k].set.contains(lo) {
				cover = append(cover, &final[k])
			}
		}
		if len(cover) == 0 {
			continue
		}
		kinds := map[Kind]bool{}
		var effect *piece
		for _, p := range cover {
			kinds[kindOf(p.out)] = true
			if p.out == vEffect && effect == nil {
				effect = p
			}
		}
		switch {
		case effect != nil:
			add(Unknown, effect.by, seg, nil, effect.effectWhat)
		case len(kinds) > 1:
			// name the condition that splits the ways: one some of them took and others did not
			var by decider
			count := map[decider]int{}
			for _, p := range cover {
				for _, a := range p.assumed {
					count[a]++
				}
			}
			for _, p := range cover {
				for _, a := range p.assumed {
					if by == nil || (count[a] < len(cover) && count[by] == len(cover)) {
						by = a
					}
				}
			}
			why := "a condition the evaluator cannot decide"
			for _, p := range cover {
				if p.out != vAccept && p.by != nil && p.by != by {
					why += "; one way, " + string(kindOf(p.out)) + " by " + p.by.String()
					break
				}
			}
			add(Unknown, by, seg, nil, why)
		default:
			p := cover[0]
			by := p.by
			if p.out == vAccept {
				by = p.acceptBy
			}
			var notes []string
			for _, q := range cover {
				notes = append(notes, q.notes...)
			}
			add(kindOf(p.out), by, seg, notes, "")
		}
	}
	var accepted, refused []*group
	var unknown *group
	for _, k := range order {
		g := groups[k]
		switch g.kind {
		case Unknown:
			if unknown == nil {
				unknown = g
			}
		case Open:
			accepted = append(accepted, g)
		default:
			refused = append(refused, g)
		}
	}
	largest := func(gs []*group) *group {
		var best *group
		for _, g := range gs {
			if best == nil || g.set.size() > best.set.size() {
				best = g
			}
		}
		return best
	}
	byText := func(d decider) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	var notes []string
	for _, k := range order {
		if groups[k].kind != Unknown {
			notes = append(notes, groups[k].notes...)
		}
	}
	if unknown != nil {
		v := Verdict{Kind: Unknown, Rule: byText(unknown.by)}
		v.Reason = "cannot evaluate"
		if unknown.by != nil {
			v.Reason += " " + unknown.by.String()
		}
		if unknown.reason != "" {
			v.Reason += " (" + unknown.reason + ")"
		}
		if !universe.minus(unknown.set).empty() {
			v.Reason += " for sources " + abbreviate(unknown.set.prefixes())
		}
		return v
	}
	switch {
	case len(refused) == 0:
		g := largest(accepted)
		return Verdict{Kind: Open, Rule: byText(g.by), Note: joinNotes(notes...)}
	case len(accepted) == 0:
		g := largest(refused)
		v := Verdict{Kind: g.kind, Rule: byText(g.by), Note: joinNotes(notes...)}
		if len(refused) > 1 {
			for _, o := range refused {
				if o != g && o.kind != g.kind {
					v.Note = joinNotes(v.Note, fmt.Sprintf("%s from %s (%s)", o.kind, abbreviate(o.set.prefixes()), byText(o.by)))
				}
			}
		}
		return v
	}
	acc := emptySet(ev.v6)
	for _, g := range accepted {
		acc = acc.union(g.set)
	}
	ref := universe.minus(acc)
	g, o := largest(accepted), largest(refused)
	v := Verdict{Kind: Restricted, Rule: byText(g.by), Others: o.kind}
	v.Note = joinNotes(append(notes, "others: "+byText(o.by))...)
	ap, rp := acc.prefixes(), ref.prefixes()
	if len(ap) <= len(rp) {
		v.Sources = ap
	} else {
		v.Except = rp
	}
	return v
}

func kindOf(v vkind) Kind {
	switch v {
	case vAccept:
		return Open
	case vDrop, vRefuse:
		return Filtered
	case vReject:
		return Closed
	}
	return Unknown
}

func abbreviate(ps []netip.Prefix) string {
	var parts []string
	for i, p := range ps {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-8))
			break
		}
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ", ")
}
