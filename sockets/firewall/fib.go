//go:build linux

package firewall

import (
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// fib: a route lookup, decided for the probe portwatch reasons about: a packet from outside
// that came in on an interface whose route back to its source leaves by that same interface
// (a host on one of the machine's networks, or behind its default route there). Under that
// assumption a reverse-path filter (firewalld's "fib saddr . mark . iif oif missing drop", the
// rpfilter of kube-proxy and Docker) lets it through, the destination of a packet to a listener's
// address is local, and its source is a unicast address. The assumption is noted in the verdict.

// fibNote is the assumption, in the verdict's note.
const fibNote = "assumes the route back to the source leaves by the interface the packet came in on (reverse-path check)"

// fib loads what a route lookup gives for the probe, or marks it unknown.
func (rr *ruleRun) fib(st *rstate, e *expr.Fib) {
	rg := &st.regs
	switch {
	case e.ResultADDRTYPE && e.FlagDADDR && !e.FlagSADDR && rr.ev.routed:
		rg.writeKnown(e.Register, u32(unix.RTN_UNICAST)) // to a namespace behind this one
	case e.ResultADDRTYPE && e.FlagDADDR && !e.FlagSADDR:
		rg.writeKnown(e.Register, u32(unix.RTN_LOCAL))
	case e.ResultADDRTYPE && e.FlagSADDR && !e.FlagDADDR:
		rg.writeKnown(e.Register, u32(unix.RTN_UNICAST))
		rr.noteFib(st)
	case (e.ResultOIF || e.ResultOIFNAME) && e.FlagSADDR && !e.FlagDADDR && e.FlagPRESENT:
		rg.writeKnown(e.Register, []byte{1}) // a route back exists
		rr.noteFib(st)
	case e.ResultOIF && e.FlagSADDR && !e.FlagDADDR:
		rg.writeSym(e.Register, &symVal{kind: symIif, n: 4}) // it leaves by the input interface
		rr.noteFib(st)
	case e.ResultOIFNAME && e.FlagSADDR && !e.FlagDADDR:
		rg.writeSym(e.Register, &symVal{kind: symIifname, n: unix.IFNAMSIZ})
		rr.noteFib(st)
	default:
		rg.writeUnknown(e.Register, 0)
	}
}

func (rr *ruleRun) noteFib(st *rstate) {
	st.p = st.p.with(st.p.set)
	st.p.note(fibNote)
}
