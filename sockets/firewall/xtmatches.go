//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
)

// The xtables matches real frontends write (ufw, firewalld's direct rules, Docker, kube-proxy,
// an admin's iptables-nft rules) whose info google/nftables leaves as bytes: each is read with the
// layout of its kernel uapi header (include/uapi/linux/netfilter/xt_*.h, ip6t_rt.h), in the
// machine's byte order as the kernel keeps it, and decided for the packet the evaluator reasons
// about: the first packet of a new connection (a TCP SYN, or a UDP datagram) from outside, to a
// local unicast address, with no routing header, no mark, seen for the first time.

// xtRaw decides a match by its name from its raw info; ok is false for a match it does not know.
func (ev *evaluator) xtRaw(p piece, name string, rev uint32, b []byte) ([]branch, bool) {
	set := p.set
	switch name {
	case "multiport":
		return all(set, ev.xtMultiport(rev, b)), true
	case "state":
		if len(b) < 4 {
			return all(set, bUndecided), true
		}
		return all(set, boolRes(binary.NativeEndian.Uint32(b)&uint32(expr.CtStateBitNEW) != 0)), true
	case "rt":
		// ip6t_rt matches only a packet with a routing header (rt_mt6 returns false when
		// ipv6_find_hdr finds none, whatever the inversions): a connection's first packet has none.
		return all(set, bNoMatch), true
	case "icmp", "icmp6":
		// iptables requires -p icmp before it: a TCP or UDP packet never gets here, and is no ICMP
		return all(set, bNoMatch), true
	case "recent":
		return all(set, xtRecent(b, p.recent)), true
	case "limit", "hashlimit":
		// the first packet of a new connection passes a rate limit (its bucket starts full)
		return all(set, bMatch), true
	case "iprange":
		return ev.xtIprange(set, rev, b), true
	case "mark", "connmark":
		if p.marked {
			return all(set, bUndecided), true
		}
		mark := p.mark
		if name == "connmark" {
			mark = 0 // the connection's: only a CONNMARK target or ct mark set changes it (marked)
		}
		return all(set, xtMark(rev, b, mark)), true
	}
	return nil, false
}

// xtMultiport is struct xt_multiport (revision 0: flags, count, ports[15]) or xt_multiport_v1
// (revision 1: flags, count, ports[15], pflags[15], invert; pflags[i] makes ports[i]..ports[i+1]
// a range). flags: XT_MULTIPORT_SOURCE 0, DESTINATION 1, EITHER 2.
func (ev *evaluator) xtMultiport(rev uint32, b []byte) bres {
	const maxPorts = 15
	if len(b) < 2+2*maxPorts || (rev == 1 && len(b) < 2+2*maxPorts+maxPorts+1) || rev > 1 {
		return bUndecided
	}
	flags, count := b[0], int(b[1])
	if count > maxPorts {
		return bUndecided
	}
	port := func(i int) uint16 { return binary.NativeEndian.Uint16(b[2+2*i:]) }
	in := false
	for i := 0; i < count; i++ {
		lo, hi := port(i), port(i)
		if rev == 1 && b[2+2*maxPorts+i] != 0 && i+1 < count {
			i++
			hi = port(i)
		}
		if ev.port >= lo && ev.port <= hi {
			in = true
		}
	}
	invert := rev == 1 && b[2+2*maxPorts+maxPorts] != 0
	switch {
	case flags == 1: // destination ports
		return boolRes(in != invert)
	case flags == 2 && in && !invert: // either: the destination port already matches
		return bMatch
	}
	return bUndecided // the source port of a client from outside is any
}

// xtRecent is struct xt_recent_mtinfo (and _v1, which adds a mask after the same fields):
// seconds, hit_count, check_set, invert, name[200], side. A source seen for the first time is in
// no list but those this packet's own --set rules added it to (set: each name after a NUL), with
// one stamp: --set matches; --rcheck and --update match only in such a list, and only with a hit
// count of at most one; --remove matches where there is an entry.
func xtRecent(b []byte, set string) bres {
	const nameLen = 200
	if len(b) < 10+nameLen {
		return bUndecided
	}
	hits := binary.NativeEndian.Uint32(b[4:])
	checkSet, invert := b[8], b[9] != 0
	name := cString(b[10 : 10+nameLen])
	const recentCheck, recentSet, recentUpdate, recentRemove = 1, 2, 4, 8
	listed := strings.Contains(set, "\x00"+name+"\x00")
	switch {
	case checkSet&recentSet != 0:
		return boolRes(!invert)
	case checkSet&(recentCheck|recentUpdate) != 0:
		return boolRes((listed && hits <= 1) != invert)
	case checkSet&recentRemove != 0:
		return boolRes(listed != invert)
	}
	return bUndecided
}

// recentSetName is the list a recent --set match adds the packet to ("" for another recent match).
func recentSetName(e *expr.Match) string {
	b, ok := e.Info.(*xt.Unknown)
	if !ok || e.Name != "recent" || len(*b) < 210 || (*b)[8]&2 == 0 {
		return ""
	}
	return cString((*b)[10:210])
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// xtIprange is struct xt_iprange_mtinfo (revision 1: src_min, src_max, dst_min, dst_max as
// nf_inet_addr, then flags) or ipt_iprange_info (revision 0, IPv4: src min, max, dst min, max,
// flags). flags: IPRANGE_SRC 1, IPRANGE_DST 2, IPRANGE_SRC_INV 0x10, IPRANGE_DST_INV 0x20.
func (ev *evaluator) xtIprange(set addrSet, rev uint32, b []byte) []branch {
	alen, stride := addrLen(ev.v6), 16
	if rev == 0 {
		if ev.v6 {
			return all(set, bUndecided)
		}
		stride = 4
	}
	if len(b) < 4*stride+1 {
		return all(set, bUndecided)
	}
	flags := b[4*stride]
	region := func(k int, inv bool) addrSet {
		r := rangeSet(ev.v6, u128From(b[2*k*stride:2*k*stride+alen]), u128From(b[(2*k+1)*stride:(2*k+1)*stride+alen]))
		if inv {
			r = r.complement()
		}
		return r
	}
	brs := all(set, bMatch)
	if flags&1 != 0 { // source
		r := region(0, flags&0x10 != 0)
		brs = []branch{{set: set.intersect(r), res: bMatch}, {set: set.minus(r), res: bNoMatch}}
	}
	if flags&2 != 0 { // destination
		d := ev.daddrIn(region(1, flags&0x20 != 0))
		for i := range brs {
			if brs[i].res == bMatch {
				brs[i].res = d
			}
		}
	}
	return brs
}

// daddrIn says whether the destination address is in a region: the listener's own address, or
// for a wildcard listener any outside-facing address (decided only when all or none are in it).
func (ev *evaluator) daddrIn(region addrSet) bres {
	if ev.daddr.IsValid() {
		return boolRes(region.contains(fromAddr(ev.daddr)))
	}
	return ev.regionBranches(emptySet(ev.v6), &symVal{kind: symDaddr, n: addrLen(ev.v6)}, region)[0].res
}

// xtMark is struct xt_mark_mtinfo1 and xt_connmark_mtinfo1 (mark, mask as u32, invert), or
// xt_mark_info (revision 0: unsigned long mark, mask, invert). A packet from outside, and its new
// connection, carry mark 0: a rule that sets one before routing is not modelled (unknown).
func xtMark(rev uint32, b []byte, m uint32) bres {
	var mark, mask uint64
	var invert bool
	switch {
	case rev >= 1 && len(b) >= 9:
		mark, mask, invert = uint64(binary.NativeEndian.Uint32(b)), uint64(binary.NativeEndian.Uint32(b[4:])), b[8] != 0
	case rev == 0 && len(b) >= 17:
		mark, mask, invert = binary.NativeEndian.Uint64(b), binary.NativeEndian.Uint64(b[8:]), b[16] != 0
	default:
		return bUndecided
	}
	return boolRes((uint64(m)&mask == mark) != invert)
}

// xtAddrtype is the addrtype match (revision 0 or 1): the destination of a packet to a
// listener's unicast address is LOCAL (never BROADCAST, MULTICAST...); the source of a packet from
// outside is a remote UNICAST address. IPv4 (addrtype_mt_v1) matches when the address's type is
// one of the mask's; IPv6 (match_type6) when the address passes every test the mask names.
func (ev *evaluator) xtAddrtype(src, dst uint16, invSrc, invDst bool, limitIface bool) bres {
	if limitIface {
		return bUndecided
	}
	res := bMatch
	if src != 0 {
		r := ev.addrtypeOf(src, uint16(xt.AddrTypeUnicast), false)
		if invSrc {
			r = invertRes(r)
		}
		res = r
	}
	if dst != 0 && res == bMatch {
		typ, local := uint16(xt.AddrTypeLocal), !ev.routed // a routed packet's destination is another's unicast address
		if ev.routed {
			typ = uint16(xt.AddrTypeUnicast)
		}
		r := ev.addrtypeOf(dst, typ, local)
		if invDst {
			r = invertRes(r)
		}
		res = r
	}
	return res
}

// addrtypeOf tests an address of the given type (LOCAL for the destination, UNICAST for the
// source) against a mask of types.
func (ev *evaluator) addrtypeOf(mask, typ uint16, local bool) bres {
	if !ev.v6 {
		return boolRes(mask&typ != 0)
	}
	if mask&uint16(xt.AddrTypeMulticast|xt.AddrTypeUnspec) != 0 {
		return bNoMatch
	}
	if mask&uint16(xt.AddrTypeLocal|xt.AddrTypeAnycast|xt.AddrTypeUnreachable) != 0 {
		return boolRes(local && mask&uint16(xt.AddrTypeLocal) != 0)
	}
	return bMatch // unicast, or a mask IPv6 does not test
}

// xtTargetDNAT names where a DNAT target sends the packet: "DNAT to 172.17.0.2:80", and the
// address and first port (the port 0 when the target keeps it).
func xtTargetDNAT(e *expr.Target) (string, netip.AddrPort) {
	var ip netip.Addr
	var lo, hi uint16
	switch info := e.Info.(type) {
	case *xt.NatIPv4MultiRangeCompat:
		if len(*info) > 0 {
			ip, _ = netip.AddrFromSlice((*info)[0].MinIP.To4())
			lo, hi = (*info)[0].MinPort, (*info)[0].MaxPort
		}
	case *xt.NatRange:
		ip, _ = netip.AddrFromSlice(info.MinIP)
		lo, hi = info.MinPort, info.MaxPort
	case *xt.NatRange2:
		ip, _ = netip.AddrFromSlice(info.MinIP)
		lo, hi = info.MinPort, info.MaxPort
	}
	s := "DNAT"
	var to netip.AddrPort
	if ip.IsValid() {
		to = netip.AddrPortFrom(ip.Unmap(), lo)
		s += " to " + ip.Unmap().String()
		if lo != 0 {
			s += ":" + itoa16(lo)
			if hi != lo {
				s += "-" + itoa16(hi)
			}
		}
	}
	return s, to
}

func itoa16(p uint16) string {
	var b [5]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + p%10)
		p /= 10
		if p == 0 {
			return string(b[i:])
		}
	}
}
