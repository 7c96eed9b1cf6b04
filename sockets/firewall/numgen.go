//go:build linux

package firewall

import "github.com/google/nftables/expr"

// numgen: a number the kernel makes per packet (kube-proxy's nftables mode picks a service's
// endpoint with "numgen random mod N vmap { 0 : goto endpoint-..., ... }"). It is offset plus a
// value below the modulus, so with modulus 1 (a service with one endpoint) it is the offset,
// known; any other modulus is a choice the packet makes, not its sources: unknown.
func (rr *ruleRun) numgen(st *rstate, e *expr.Numgen) {
	if e.Modulus == 1 {
		st.regs.writeKnown(e.Register, u32(e.Offset))
		return
	}
	st.regs.writeUnknown(e.Register, 0)
}
