//go:build linux

package firewall

import (
	"encoding/binary"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// xtables matches (iptables-nft): the matches google/nftables decodes (conntrack, comment, tcp,
// udp, addrtype) are decided here, the others it leaves as bytes in xtmatches.go; any other match
// is undecided, and names itself in the verdict.

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
	case *xt.AddrType:
		return all(p.set, ev.xtAddrtype(info.Source, info.Dest, info.InvertSource, info.InvertDest, false))
	case *xt.AddrTypeV1:
		const invSrc, invDst, limitIn, limitOut = 1, 2, 4, 8
		return all(p.set, ev.xtAddrtype(info.Source, info.Dest, info.Flags&invSrc != 0, info.Flags&invDst != 0,
			info.Flags&(limitIn|limitOut) != 0))
	case *xt.Unknown:
		if brs, ok := ev.xtRaw(p, e.Name, e.Rev, *info); ok {
			return brs
		}
	}
	if e.Name == "comment" {
		return nil
	}
	return all(p.set, bUndecided)
}

// rateMatch: a match whose answer changes with the rate of packets (a first connection passes).
func rateMatch(name string) bool { return name == "limit" || name == "hashlimit" || name == "recent" }

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
	if ev.proto != unix.IPPROTO_TCP || info.Option != 0 ||
		info.SrcPorts != anyPort || info.InvFlags&(xt.TcpInvSrcPorts|xt.TcpInvOption) != 0 {
		return bUndecided
	}
	if ev.portIn(info.DstPorts) == (info.InvFlags&xt.TcpInvDestPorts != 0) {
		return bNoMatch
	}
	// --tcp-flags (and --syn): a connection's first segment carries SYN alone
	const syn = 0x02
	return boolRes((syn&info.FlagsMask == info.FlagsCmp) != (info.InvFlags&xt.TcpInvFlags != 0))
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
	if rateMatch(e.Name) && !rr.r.logsOnly() {
		rr.rateLimited(st)
	}
	brs := rr.ev.xtMatch(rr.ctx, st.p, e)
	if name := recentSetName(e); name != "" {
		// the packet is in this list from here on, for every later rule of its path
		st.p = st.p.with(st.p.set)
		st.p.recent += "\x00" + name + "\x00"
	}
	if brs == nil {
		return proceed
	}
	rr.split(i, *st, brs)
	return ended
}

// target is an xtables target: LOG and NFLOG change nothing, REJECT and RETURN end the rule, a DNAT
// sends the packet elsewhere (not modelled yet, named), any other is not modelled.
func (rr *ruleRun) target(st *rstate, e *expr.Target) outcome {
	switch e.Name {
	case "LOG", "NFLOG":
		return proceed
	case "REJECT":
		rr.finish(*st, rr.ev.xtRejectKind(e), "")
	case "MARK", "CONNMARK":
		switch {
		case rr.afterRouting():
		case e.Name == "MARK": // as meta mark set (loads.go): kube-proxy's KUBE-MARK-MASQ
			st.p = st.p.with(st.p.set)
			st.p.note(markRouteNote)
			if v, ok := xtSetMark(st.p, e); ok {
				st.p = st.p.markedTo(v)
				return proceed
			}
		default:
			rr.finish(*st, vEffect, "xt target "+e.Name+" before routing")
			return ended
		}
		st.p = st.p.markedNow()
		return proceed
	case "RETURN":
		rr.finish(*st, vReturn, "")
	case "DNAT":
		text, to := xtTargetDNAT(e)
		rr.dnat(*st, text, to)
	default:
		rr.finish(*st, vEffect, "xt target "+e.Name)
	}
	return ended
}

// logsOnly: the rule's only statement logs (ufw's rate-limited logging), so a rate limit in it
// changes no verdict and is not worth a note.
func (r *rule) logsOnly() bool {
	logs := false
	for _, n := range r.nodes {
		switch e := n.e.(type) {
		case *expr.Log:
			logs = true
		case *expr.Target:
			if e.Name != "LOG" && e.Name != "NFLOG" {
				return false
			}
			logs = true
		case *expr.Verdict:
			return false
		}
	}
	return logs
}

// xtSetMark is the mark an xt MARK target (revision 2, struct xt_mark_tginfo2: mark, mask) leaves
// on a packet whose mark the evaluator knows: --set-xmark's (mark & ~mask) ^ value.
func xtSetMark(p piece, e *expr.Target) (uint32, bool) {
	info, ok := e.Info.(*xt.Unknown)
	if !ok || p.marked || e.Rev != 2 || len(*info) < 8 {
		return 0, false
	}
	b := []byte(*info)
	v, mask := binary.NativeEndian.Uint32(b), binary.NativeEndian.Uint32(b[4:])
	return p.mark&^mask ^ v, true
}
