//go:build linux

package firewall

import (
	"encoding/binary"
	"net/netip"

	"github.com/google/nftables/expr"
)

// DNAT: a rule that sends a packet to another address (Docker's, Podman's and kube-proxy's
// published ports, an admin's port forward). On the input path the packet then no longer goes to
// the machine's own listener: the verdict is unknown there, naming the DNAT, and the published
// port is judged on its own (published.go) through the forward path.

// dnat ends the rule with a DNAT to to (an invalid address: a DNAT the evaluator cannot read).
func (rr *ruleRun) dnat(st rstate, text string, to netip.AddrPort) {
	if rr.ev.pastDNAT {
		rr.finish(st, vNone, "")
		return
	}
	q := st
	q.p = st.p.with(st.p.set)
	q.p.dnatTo = to
	if to.Port() == 0 && to.Addr().IsValid() {
		q.p.dnatTo = netip.AddrPortFrom(to.Addr(), rr.ev.port) // the port is kept
	}
	rr.finish(q, vEffect, "published: "+text)
}

// nat is nft's nat statement: a dnat with its address (and port) in registers; snat and
// masquerade are not on the way in.
func (rr *ruleRun) nat(st rstate, e *expr.NAT) {
	if e.Type != expr.NATTypeDestNAT {
		rr.finish(st, vEffect, "snat")
		return
	}
	var to netip.AddrPort
	alen := 4
	if e.Family == 10 { // NFPROTO_IPV6
		alen = 16
	}
	var b, k [64]byte
	if e.RegAddrMin != 0 && st.regs.known(e.RegAddrMin, alen, &b, &k) && allFF(k[:alen]) {
		a, _ := netip.AddrFromSlice(append([]byte(nil), b[:alen]...))
		var port uint16
		if e.RegProtoMin != 0 && st.regs.known(e.RegProtoMin, 2, &b, &k) && allFF(k[:2]) {
			port = binary.BigEndian.Uint16(b[:2])
		}
		to = netip.AddrPortFrom(a, port)
	}
	text := "dnat"
	if to.Addr().IsValid() {
		text = "dnat to " + to.Addr().String()
		if to.Port() != 0 {
			text = "dnat to " + to.String()
		}
	}
	rr.dnat(st, text, to)
}
