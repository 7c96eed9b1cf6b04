//go:build linux

package firewall

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
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
