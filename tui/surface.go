package tui

import (
	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/reach"
)

// surfaceCounts is the attack surface as the header shows it: the
// listeners outside connections could reach, told apart by what the
// firewall says of them. assess.Assessment.Surface counts a listener whose
// verdict is unknown as reachable; the header does not, so that "7
// reachable" is what the kernel admits and the unknowns are said apart.
type surfaceCounts struct {
	reachable   int // not loopback, and open or restricted (or no firewall read: by its address)
	high        int // of the reachable, HIGH
	unreachable int // filtered or closed by the firewall
	unknown     int // the firewall was read, but what it does to them is not known
	outside     int // every listener not on loopback: the three above
	// unknownHigh: of the unknown, HIGH (they may well be reachable).
	unknownHigh int
}

// countSurface counts the assessment's listeners; it runs once per poll,
// in Update, never in View.
func countSurface(a *assess.Assessment) surfaceCounts {
	var c surfaceCounts
	if a == nil {
		return c
	}
	c.add(a.Verdicts)
	c.add(a.Published) // a DNAT is a way in, socket or not: it counts as a listener
	return c
}

// add counts the listeners among verdicts.
func (c *surfaceCounts) add(verdicts []*assess.Verdict) {
	for _, v := range verdicts {
		s := &v.Socket
		if !s.IsListening() || s.Exposure() == sockets.ExposureLoopback {
			continue
		}
		c.outside++
		switch v.FirewallKind() {
		case reach.Filtered, reach.Closed:
			c.unreachable++
		case reach.Unknown:
			c.unknown++
			if v.Risk == assess.RiskHigh {
				c.unknownHigh++
			}
		default:
			c.reachable++
			if v.Risk == assess.RiskHigh {
				c.high++
			}
		}
	}
}

// manyUnknown: enough listeners have an unknown verdict that the
// reachable count cannot be trusted, whatever the reason: three or more,
// or half of those not on loopback.
func (c surfaceCounts) manyUnknown() bool {
	return c.unknown > 0 && (c.unknown >= 3 || 2*c.unknown >= c.outside)
}
