//go:build linux

package firewall

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// xtables matches (iptables-nft): the matches the evaluator decides (conntrack and state, comment,
// tcp and udp destination ports); any other is undecided.

// xtMatch decides the xtables matches it knows; nil means the match always holds.
func (ev *evaluator) xtMatch(ctx hookCtx, p piece, e *expr.Match) []branch {
	switch info := e.Info.(type) {
	case *xt.ConntrackMtinfo1:
		return all(p.set, xtCtState(ctx, info.ConntrackMtinfoBase, uint16(info.StateMask)))
	case *xt.ConntrackMtinfo2:
		return all(p.set, xtCtState(ctx, info.ConntrackMtinfoBase, info.StateMask))
	case *xt.ConntrackMtinfo3:
		return all(p.set, xtCtState(ctx, info.ConntrackMtinfoBase, info.StateMask))
	case *xt.Comment:
		return nil
	case *xt.Tcp:
		return all(p.set, ev.xtTCP(info))
	case *xt.Udp:
		return all(p.set, ev.xtUDP(info))
	}
	if e.Name == "comment" {
		return nil
	}
	return all(p.set, bUndecided)
}

// xtCtState is conntrack --ctstate (and state --state): the state of a new connection is NEW
// (bit 8); a match on anything else is undecided.
func xtCtState(ctx hookCtx, base xt.ConntrackMtinfoBase, mask uint16) bres {
	if !ctx.conntrackKnown() || base.MatchFlags&^uint16(xt.ConntrackState|xt.ConntrackStateAlias) != 0 || base.MatchFlags&uint16(xt.ConntrackState) == 0 {
		return bUndecided
	}
	in := mask&uint16(expr.CtStateBitNEW) != 0
	return boolRes(in != (base.InvertFlags&uint16(xt.ConntrackState) != 0))
}

// anyPort is the source port range of a match that does not look at it.
var anyPort = [2]uint16{0, 0xffff}

// xtTCP is the tcp match: decided on the destination port alone.
func (ev *evaluator) xtTCP(info *xt.Tcp) bres {
	if ev.proto != unix.IPPROTO_TCP || info.Option != 0 || info.FlagsMask != 0 ||
		info.SrcPorts != anyPort || info.InvFlags&(xt.TcpInvSrcPorts|xt.TcpInvFlags|xt.TcpInvOption) != 0 {
		return bUndecided
	}
	return boolRes(ev.portIn(info.DstPorts) != (info.InvFlags&xt.TcpInvDestPorts != 0))
}

// xtUDP is the udp match: decided on the destination port alone.
func (ev *evaluator) xtUDP(info *xt.Udp) bres {
	if ev.proto != unix.IPPROTO_UDP || info.SrcPorts != anyPort || info.InvFlags&xt.UdpInvSrcPorts != 0 {
		return bUndecided
	}
	return boolRes(ev.portIn(info.DstPorts) != (info.InvFlags&xt.UdpInvDestPorts != 0))
}

// portIn says whether the listener's port is in a range.
func (ev *evaluator) portIn(r [2]uint16) bool { return ev.port >= r[0] && ev.port <= r[1] }

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

// match is an xtables match: one that always holds (a comment) changes nothing, any other splits
// the sources.
func (rr *ruleRun) match(i int, st *rstate, e *expr.Match) outcome {
	brs := rr.ev.xtMatch(rr.ctx, st.p, e)
	if brs == nil {
		return proceed
	}
	rr.split(i, *st, brs)
	return ended
}

// target is an xtables target: LOG and NFLOG change nothing, REJECT ends the rule, any other is not
// modelled.
func (rr *ruleRun) target(st *rstate, e *expr.Target) outcome {
	switch e.Name {
	case "LOG", "NFLOG":
		return proceed
	case "REJECT":
		rr.finish(*st, rr.ev.xtRejectKind(e), "")
	default:
		rr.finish(*st, vEffect, "xt target "+e.Name)
	}
	return ended
}
