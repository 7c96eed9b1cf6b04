//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Loads: what the packet the evaluator knows puts in the registers. Meta, ct and payload loads give
// known bytes, or a symbolic value (the source address, a wildcard listener's destination address,
// the input interface); bitwise and byteorder work on what is loaded.

// meta is a meta load, or a store: a mark set after routing changes nothing the evaluator
// decides, any other store is not modelled.
func (rr *ruleRun) meta(st *rstate, e *expr.Meta) outcome {
	if !e.SourceRegister {
		rr.ev.metaLoad(&st.regs, e, st.p)
		return proceed
	}
	if e.Key == expr.MetaKeyMARK && rr.afterRouting() {
		st.p = st.p.markedNow()
		return proceed
	}
	if e.Key == expr.MetaKeyMARK {
		// before routing a mark could choose the route (ip rule fwmark), which the evaluator does
		// not read: kube-proxy's masquerade mark does not, and the assumption is noted; a value
		// it knows (kube-proxy's "meta mark set meta mark | 0x4000" on mark 0) is kept, as the
		// forward path's "-m mark --mark 0x4000/0x4000 -j ACCEPT" reads it
		var b, k [64]byte
		if st.regs.known(e.Register, 4, &b, &k) && allFF(k[:4]) {
			st.p = st.p.markedTo(binary.NativeEndian.Uint32(b[:4]))
		} else {
			st.p = st.p.markedNow()
		}
		st.p.note(markRouteNote)
		return proceed
	}
	rr.finish(*st, vEffect, "meta set")
	return ended
}

// markRouteNote is the assumption a mark set before routing is taken with.
const markRouteNote = "assumes no policy routing rule (ip rule fwmark) on a mark set before routing"

// ct is a conntrack load, or a store (as meta's).
func (rr *ruleRun) ct(st *rstate, e *expr.Ct) outcome {
	if !e.SourceRegister {
		rr.ev.ctLoad(rr.ctx, &st.regs, e, st.p.marked)
		return proceed
	}
	if e.Key == expr.CtKeyMARK && rr.afterRouting() {
		st.p = st.p.markedNow()
		return proceed
	}
	rr.finish(*st, vEffect, "ct set")
	return ended
}

// afterRouting: the rule runs in an input chain, where a mark set no longer changes the path.
func (rr *ruleRun) afterRouting() bool { return rr.ctx.hook == hookInput && !rr.ctx.device }

// payload is a payload load; a payload store (mangling the packet) is not modelled.
func (rr *ruleRun) payload(st *rstate, e *expr.Payload) outcome {
	if e.OperationType != expr.PayloadLoad {
		rr.finish(*st, vEffect, "payload set")
		return ended
	}
	rr.ev.payloadLoad(&st.regs, e)
	return proceed
}

// exthdr is an extension header or TCP option load (unknown); a store is not modelled.
func (rr *ruleRun) exthdr(st *rstate, e *expr.Exthdr) outcome {
	if e.SourceRegister != 0 {
		rr.finish(*st, vEffect, "exthdr set")
		return ended
	}
	st.regs.writeUnknown(e.DestRegister, int(e.Len))
	return proceed
}

// opaqueDest is the destination register of a load the evaluator does not follow (fib, socket,
// rt, numgen, hash): what it loads is unknown.
func opaqueDest(e any) (uint32, bool) {
	switch e := e.(type) {
	case *expr.Fib:
		return e.Register, true
	case *expr.Socket:
		return e.Register, true
	case *expr.Rt:
		return e.Register, true
	case *expr.Numgen:
		return e.Register, true
	case *expr.Hash:
		return e.DestRegister, true
	}
	return 0, false
}

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

// metaLoad loads what the packet's metadata says. A packet from outside carries mark 0 until a
// rule sets one (marked).
func (ev *evaluator) metaLoad(rg *regs, e *expr.Meta, p piece) {
	switch e.Key {
	case expr.MetaKeyMARK:
		if p.marked {
			rg.writeUnknown(e.Register, 4)
		} else {
			rg.writeKnown(e.Register, u32(p.mark))
		}
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
	case expr.MetaKeyOIFNAME:
		if ev.forward && ev.oif != "" {
			name := make([]byte, unix.IFNAMSIZ)
			copy(name, ev.oif)
			rg.writeKnown(e.Register, name)
		} else {
			rg.writeUnknown(e.Register, unix.IFNAMSIZ)
		}
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

func (ev *evaluator) ctLoad(ctx hookCtx, rg *regs, e *expr.Ct, marked bool) {
	switch {
	case ctx.conntrackKnown() && e.Key == expr.CtKeyMARK && !marked:
		rg.writeKnown(e.Register, u32(0)) // a new connection's entry has no mark yet
	case ctx.conntrackKnown():
		ev.newEntryLoad(rg, e)
	case e.Key == expr.CtKeySTATE && ctx.beforeConntrack():
		// before conntrack (priority < -200) a packet has no entry: its state reads invalid
		rg.writeKnown(e.Register, u32(expr.CtStateBitINVALID))
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

// newEntryLoad loads what the conntrack entry of a new connection from outside says.
func (ev *evaluator) newEntryLoad(rg *regs, e *expr.Ct) {
	switch e.Key {
	case expr.CtKeySTATE:
		rg.writeKnown(e.Register, u32(expr.CtStateBitNEW))
	case expr.CtKeyDIRECTION:
		rg.writeKnown(e.Register, []byte{0}) // IP_CT_DIR_ORIGINAL
	case expr.CtKeySTATUS:
		// a new entry is not expected, has seen no reply, is not assured, not confirmed yet,
		// and (on a path with no nat statement) not natted; the other bits are unknown
		var status uint32
		if ev.forward && !ev.routed {
			status = 0x20 // IPS_DST_NAT: a published port's packet, after its DNAT
		}
		rg.writeBytes(e.Register, u32(status), u32(0x3f))
	case expr.CtKeyPROTOCOL:
		rg.writeKnown(e.Register, []byte{ev.proto})
	case unix.NFT_CT_L3PROTOCOL:
		rg.writeKnown(e.Register, []byte{ev.nfproto()})
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

func u32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }

func (ev *evaluator) payloadLoad(rg *regs, e *expr.Payload) {
	n := int(e.Len)
	off := int(e.Offset)
	var hdr, known []byte
	switch e.Base {
	case expr.PayloadBaseNetworkHeader:
		if ev.addressLoad(rg, e.DestRegister, off, n) {
			return
		}
		hdr, known = ev.networkHeader()
	case expr.PayloadBaseTransportHeader:
		hdr, known = ev.transportHeader()
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

// addrOffsets are where the network header holds the addresses, and their length.
func (ev *evaluator) addrOffsets() (saddrOff, daddrOff, alen int) {
	if ev.v6 {
		return 8, 24, 16
	}
	return 12, 16, 4
}

// addressLoad loads the source address, or a wildcard listener's destination address, as a
// symbolic value (unknown when the load takes only part of it with other bytes): true when the
// load touches one of them.
func (ev *evaluator) addressLoad(rg *regs, dst uint32, off, n int) bool {
	saddrOff, daddrOff, alen := ev.addrOffsets()
	overlaps := func(a int) bool { return off < a+alen && off+n > a }
	switch {
	case off == saddrOff && n <= alen:
		rg.writeSym(dst, &symVal{kind: symSaddr, n: n})
	case overlaps(saddrOff):
		rg.writeUnknown(dst, n)
	case !ev.daddr.IsValid() && off == daddrOff && n <= alen:
		rg.writeSym(dst, &symVal{kind: symDaddr, n: n})
	case !ev.daddr.IsValid() && overlaps(daddrOff):
		rg.writeUnknown(dst, n)
	default:
		return false
	}
	return true
}

// networkHeader is the IPv4 or IPv6 header of the packet, with its known bits: the version, the
// protocol (no IPv6 extension headers), and the listener's address when it is not a wildcard.
func (ev *evaluator) networkHeader() (hdr, known []byte) {
	_, daddrOff, alen := ev.addrOffsets()
	if ev.v6 {
		hdr, known = make([]byte, 40), make([]byte, 40)
		hdr[0], known[0] = 0x60, 0xf0
		hdr[6], known[6] = ev.proto, 0xff // next header
	} else {
		hdr, known = make([]byte, 20), make([]byte, 20)
		hdr[0], known[0] = 0x40, 0xf0 // version
		hdr[9], known[9] = ev.proto, 0xff
	}
	if ev.daddr.IsValid() {
		copy(hdr[daddrOff:], ev.daddr.AsSlice())
		copy(known[daddrOff:daddrOff+alen], bytes.Repeat([]byte{0xff}, alen))
	}
	return hdr, known
}

// transportHeader is the TCP or UDP header, of which the destination port is known and, for TCP,
// the flags of a connection's first segment: SYN alone (URG, ACK, PSH, RST, FIN clear; ECE and CWR
// are set by a client that asks for ECN, so they stay unknown).
func (ev *evaluator) transportHeader() (hdr, known []byte) {
	hdr, known = make([]byte, 20), make([]byte, 20)
	binary.BigEndian.PutUint16(hdr[2:], ev.port)
	known[2], known[3] = 0xff, 0xff
	if ev.proto == unix.IPPROTO_TCP {
		hdr[13], known[13] = 0x02, 0x3f
	}
	return hdr, known
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
