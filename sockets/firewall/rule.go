//go:build linux

package firewall

import (
	"fmt"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// One rule: its expressions in order on a piece of the source space. Loads fill the register
// file (loads.go), conditions split the piece (conditions.go, sets.go, xtables.go), and a verdict
// or a statement ends the rule: accept, drop, reject, jump, goto, return, or something the
// evaluator does not model.

type rstate struct {
	p       piece
	regs    regs
	assumed bool
}

// outcome says whether a rule goes on after one of its expressions.
type outcome bool

const (
	proceed outcome = true  // on to the next expression, with the state the expression left
	ended   outcome = false // the rule ended here: its pieces are out (a split went on with its matched ones itself)
)

// ruleRun is one rule being run: where its chain hangs, and where the pieces it ends with go.
type ruleRun struct {
	ev  *evaluator
	ctx hookCtx
	r   *rule
	out *[]piece
}

// rule runs one rule on a piece: it comes back split into pieces, each with the rule's verdict
// (vNone when the rule does not match or has no verdict; vJump/vGoto carry the chain's name in
// effectWhat).
func (ev *evaluator) rule(ctx hookCtx, r *rule, p piece) []piece {
	var out []piece
	if !ev.spend(1) {
		p.out = vNone
		return []piece{p}
	}
	rr := &ruleRun{ev: ev, ctx: ctx, r: r, out: &out}
	rr.from(0, rstate{p: p})
	return out
}

// from runs the rule's expressions from the i-th on; a rule that runs to its end has no verdict.
func (rr *ruleRun) from(i int, st rstate) {
	for ; i < len(rr.r.nodes); i++ {
		if rr.step(i, &st) == ended {
			return
		}
	}
	rr.finish(st, vNone, "")
}

// step runs the i-th expression: one small method per kind (a load, a condition, a statement).
func (rr *ruleRun) step(i int, st *rstate) outcome {
	n := rr.r.nodes[i]
	if f, ok := n.e.(*expr.Fib); ok {
		rr.fib(st, f)
		return proceed
	}
	if g, ok := n.e.(*expr.Numgen); ok {
		return rr.numgen(i, st, g)
	}
	if reg, ok := opaqueDest(n.e); ok {
		st.regs.writeUnknown(reg, 0)
		return proceed
	}
	switch e := n.e.(type) {
	case *expr.Meta:
		return rr.meta(st, e)
	case *expr.Ct:
		return rr.ct(st, e)
	case *expr.Payload:
		return rr.payload(st, e)
	case *expr.Exthdr:
		return rr.exthdr(st, e)
	case *expr.Immediate:
		st.regs.writeKnown(e.Register, e.Data)
	case *expr.Bitwise:
		bitwise(&st.regs, e)
	case *expr.Byteorder:
		byteorder(&st.regs, e)
	case *expr.Cmp:
		return rr.compare(i, st, e)
	case *expr.Range:
		return rr.inRange(i, st, e)
	case *expr.Lookup:
		rr.lookup(i, *st, e)
		return ended
	case *expr.Match:
		return rr.match(i, st, e)
	case *expr.Verdict:
		rr.verdict(*st, e)
		return ended
	case *expr.Reject:
		rr.finish(*st, rr.ev.rejectKind(e), "")
		return ended
	case *expr.Target:
		return rr.target(st, e)
	case *expr.NAT:
		rr.nat(*st, e)
		return ended
	case *expr.Counter, *expr.Log:
		// no effect on the verdict
	case *expr.Limit:
		if !rr.r.logsOnly() {
			rr.rateLimited(st)
		}
	case *expr.Quota, *expr.Connlimit:
		rr.split(i, *st, all(st.p.set, bUndecided))
		return ended
	case *expr.Objref:
		return rr.objref(i, st, e)
	case *expr.Dynset:
		return rr.dynset(i, st, e)
	default: // not decoded (nil), or a kind the evaluator does not model
		rr.finish(*st, vEffect, "expression "+n.name)
		return ended
	}
	return proceed
}

// finish ends the rule for st's sources with verdict v (what: for vEffect, what was not modelled;
// for vJump and vGoto, the chain).
func (rr *ruleRun) finish(st rstate, v vkind, what string) {
	q := st.p
	q.out = v
	q.effectWhat = what
	// an undecided condition matters only where the rule does something: a rule that does not
	// match and one without a verdict both go on to the next rule
	if st.assumed && v != vNone {
		q.assume(rr.r)
	}
	*rr.out = append(*rr.out, q)
}

// split continues after the i-th expression, a condition: matched sources go on, the others leave
// the rule, and undecided ones do both.
func (rr *ruleRun) split(i int, st rstate, brs []branch) {
	for _, b := range brs {
		if b.set.empty() {
			continue
		}
		sub := st
		sub.p = st.p.with(b.set)
		switch b.res {
		case bNoMatch:
			rr.finish(sub, vNone, "")
		case bMatch:
			rr.from(i+1, sub)
		case bUndecided:
			sub.assumed = true
			rr.finish(sub, vNone, "")
			rr.from(i+1, sub)
		}
	}
}

// rateLimited notes a limit: the rule is taken as matching.
func (rr *ruleRun) rateLimited(st *rstate) {
	st.p = st.p.with(st.p.set)
	st.p.note("rate-limited: " + rr.r.String())
}

// objref is a named object: a counter changes nothing, a limit is noted, a quota is undecided.
func (rr *ruleRun) objref(i int, st *rstate, e *expr.Objref) outcome {
	switch e.Type {
	case 1: // NFT_OBJECT_COUNTER
	case 4: // NFT_OBJECT_LIMIT
		rr.rateLimited(st)
	case 2: // NFT_OBJECT_QUOTA
		rr.split(i, *st, all(st.p.set, bUndecided))
		return ended
	default:
		rr.finish(*st, vEffect, "object reference")
		return ended
	}
	return proceed
}

// dynset adds the packet to a set (a meter): with only counters and limits in it the rule goes on
// (a limit noted); with anything else it is undecided.
func (rr *ruleRun) dynset(i int, st *rstate, e *expr.Dynset) outcome {
	plain := true
	for _, x := range e.Exprs {
		switch x.(type) {
		case *expr.Counter:
		case *expr.Limit:
			rr.rateLimited(st)
		default:
			plain = false
		}
	}
	if !plain {
		rr.split(i, *st, all(st.p.set, bUndecided))
		return ended
	}
	return proceed
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

// verdict ends the rule with a verdict statement (or a verdict map's element).
func (rr *ruleRun) verdict(st rstate, e *expr.Verdict) {
	switch e.Kind {
	case expr.VerdictAccept:
		rr.finish(st, vAccept, "")
	case expr.VerdictDrop:
		rr.finish(st, vDrop, "")
	case expr.VerdictReturn:
		rr.finish(st, vReturn, "")
	case expr.VerdictJump:
		rr.finish(st, vJump, e.Chain)
	case expr.VerdictGoto:
		rr.finish(st, vGoto, e.Chain)
	case expr.VerdictContinue, expr.VerdictBreak:
		rr.finish(st, vNone, "")
	default:
		rr.finish(st, vEffect, "verdict "+verdictWord(e.Kind))
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
