//go:build linux

package firewall

import (
	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// xtables matches (iptables-nft): the matches the evaluator decides (conntrack and state, comment,
// tcp and udp destination ports); any other is undecided.

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
