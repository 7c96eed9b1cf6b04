//go:build linux

package firewall

import "github.com/google/nftables/expr"

// numgen: a number the kernel makes per packet (kube-proxy's nftables mode picks a service's
// endpoint with "numgen random mod N vmap { 0 : goto endpoint-..., 1 : ... }"). It is the offset
// plus a value below the modulus: with modulus 1 (one endpoint) the offset, known; with a few, the
// rule goes on once per value, for the same sources, each way taken as assumed (the packet's
// choice, not its source's: the ways agree, or the verdict is unknown naming the rule, and each
// endpoint a DNAT reaches is a published destination of its own); with more, unknown.

// maxNumgenWays bounds the ways a numgen forks into (a service's endpoints).
const maxNumgenWays = 64

// numgen loads the number, or forks the rule from the (i+1)-th expression on: ended then.
func (rr *ruleRun) numgen(i int, st *rstate, e *expr.Numgen) outcome {
	switch {
	case e.Modulus == 1:
		st.regs.writeKnown(e.Register, u32(e.Offset))
		return proceed
	case e.Modulus == 0 || e.Modulus > maxNumgenWays || e.Offset > ^uint32(0)-e.Modulus:
		st.regs.writeUnknown(e.Register, 0)
		return proceed
	}
	for v := uint32(0); v < e.Modulus; v++ {
		sub := *st
		sub.regs.writeKnown(e.Register, u32(e.Offset+v))
		sub.assumed = true
		rr.from(i+1, sub)
	}
	return ended
}
