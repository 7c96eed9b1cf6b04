//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/portwatch/portwatch/sockets/reach"
	"golang.org/x/sys/unix"
)

// Listeners behind this namespace: a container's own listener, on an address this namespace
// routes to (a bridge's subnet), is reached from outside only through this namespace, which
// forwards the packet to it without a DNAT. What decides its traffic is then this namespace's
// prerouting chains (Docker 28's raw drop of direct access to a container's address), its forward
// chains (filter FORWARD, DOCKER-USER, the DOCKER chains: Docker 20.10 admits a published
// container port addressed directly), whether it forwards at all, and then the container's own
// input rules. Behind composes the two.

// routedKey marks a Routed verdict in the ruleset's memo (an evalKey's proto).
const routedKey = "routed "

// Routed is what a new connection from outside meets on this namespace's way to to, an address
// it routes to and does not hold (no DNAT): the prerouting and forward chains, out of the
// interface that routes to it. Sources behind that same interface do not cross this namespace.
// Invalid when this namespace has no specific route to the address (it is not behind it).
func (r *Ruleset) Routed(proto string, to netip.AddrPort) (Verdict, bool) {
	a := to.Addr().Unmap()
	if r.unreadable != "" {
		return Verdict{Kind: Unknown, Reason: r.unreadable}, r.routesTo(a)
	}
	if !r.routesTo(a) {
		return Verdict{}, false
	}
	key := evalKey{routedKey + proto, a, to.Port()}
	r.mu.Lock()
	if v, ok := r.memo[key]; ok {
		r.mu.Unlock()
		return v, true
	}
	r.mu.Unlock()
	v := r.routed(proto, a, to.Port())
	r.mu.Lock()
	if r.memo == nil {
		r.memo = map[evalKey]Verdict{}
	}
	r.memo[key] = v
	r.mu.Unlock()
	return v, true
}

// RoutesVia: a namespace with these routes sends what is not on its own links through one of
// addrs (its default route's gateway is one of them): it is behind the namespace holding addrs.
func RoutesVia(routes []Route, addrs []netip.Addr) bool {
	for _, rt := range routes {
		if rt.Prefix.Bits() != 0 || !rt.Via.IsValid() {
			continue
		}
		for _, a := range addrs {
			if a == rt.Via.Unmap() {
				return true
			}
		}
	}
	return false
}

// routesTo: the namespace has a route more specific than a default one to a, and a is not one
// of its own addresses.
func (r *Ruleset) routesTo(a netip.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.local {
		if l == a {
			return false
		}
	}
	for _, rt := range r.routes {
		if rt.Prefix.Bits() > 0 && rt.Prefix.Contains(a) {
			return true
		}
	}
	return false
}

func (r *Ruleset) routed(proto string, a netip.Addr, port uint16) Verdict {
	var p uint8
	switch proto {
	case "tcp":
		p = unix.IPPROTO_TCP
	case "udp":
		p = unix.IPPROTO_UDP
	default:
		return Verdict{Kind: Unknown, Reason: "protocol " + proto + " not evaluated"}
	}
	v6 := a.Is6()
	if (v6 && r.legacy6) || (!v6 && r.legacy4) {
		return Verdict{Kind: Unknown, Reason: ReasonLegacy}
	}
	if r.forwardingOf(v6) == ForwardOff {
		return Verdict{Kind: Filtered, Note: "not forwarded (" + forwardSetting(v6) + "): the kernel drops the packet without an answer"}
	}
	dev := r.routeDev(a)
	ev := &evaluator{rs: r, v6: v6, proto: p, port: port, daddr: a, routed: true, oif: dev}
	var chains []*chain
	for _, c := range r.base {
		pre := ev.appliesTo(c) && c.hook != hookInput && !(stage(c) == 0 && onlyLoopback(c.devs))
		if pre || ev.forwardChain(c) {
			chains = append(chains, c)
		}
	}
	sort.SliceStable(chains, func(i, j int) bool { return stage(chains[i]) < stage(chains[j]) })
	universe := outsideSources(v6)
	if behind, ok := r.viaDev(v6, dev); ok {
		universe = universe.minus(behind)
	}
	if len(chains) == 0 {
		return Verdict{Kind: Open, Note: "no firewall on the way through this namespace"}
	}
	final := ev.walkRouted(chains, universe)
	if ev.over {
		return Verdict{Kind: Unknown, Reason: fmt.Sprintf("%s (%d steps: %d rules)", ReasonBudget, maxSteps, r.nRules)}
	}
	return ev.resolve(universe, final)
}

// walkRouted is walk with the evaluator told, chain by chain, whether the packet is on the
// forward hook yet (its output interface known there, not in prerouting).
func (ev *evaluator) walkRouted(chains []*chain, universe addrSet) []piece {
	defer func() { ev.forward = false }()
	return ev.walkEach(chains, universe, func(c *chain) { ev.forward = c.hook == hookForward })
}

// Behind is the verdict for a listener of a namespace behind host (a container behind the
// machine) from outside: for each of its addresses the host routes to, what the host's way
// through says (Routed) and then what its own rules say (own, its namespace's verdict); own
// unchanged when the host routes to none of them (the namespace is not behind it).
func Behind(host *Ruleset, own Verdict, proto string, addrs []netip.Addr, port uint16) Verdict {
	var per []reach.AddrVerdict
	for _, a := range addrs {
		a = a.Unmap()
		if a.IsLoopback() || a.IsLinkLocalUnicast() {
			continue
		}
		hv, ok := host.Routed(proto, netip.AddrPortFrom(a, port))
		if !ok {
			continue
		}
		per = append(per, reach.AddrVerdict{Addr: a, Verdict: Through(hv, own.At(a))})
	}
	if len(per) == 0 {
		return own
	}
	return byAddress(per)
}

// Through is what a connection meets crossing first the host's verdict (its way through to a
// namespace behind it, or a published port's forward path), then the namespace's own (own, for
// the address it arrives at): the first that refuses it decides; both must admit it.
func Through(host, own Verdict) Verdict {
	hostSaid := func(v Verdict) Verdict {
		v.Note = joinNotes(v.Note, "on the host's way in (the container's own rules come after)")
		return v
	}
	switch {
	case host.Kind == Filtered || host.Kind == Closed:
		return hostSaid(host)
	case own.Kind == Filtered || own.Kind == Closed:
		return own
	case host.Kind == Open:
		out := own
		out.Note = joinNotes(own.Note, "reached through the host, whose rules admit it"+ruleIn(host))
		return out
	case own.Kind == Open && host.Kind == Restricted:
		return hostSaid(host)
	case host.Kind == Unknown:
		return host
	case own.Kind == Unknown:
		return own
	}
	return intersect(host, own) // both restricted
}

func ruleIn(v Verdict) string {
	if v.Rule == "" {
		return ""
	}
	return " (" + v.Rule + ")"
}

// intersect is two restricted verdicts in a row: the sources both admit. A list of admitted
// sources meets a list of refused ones only where no refused prefix falls inside an admitted
// one (the vocabulary cannot say "this prefix but that hole"): otherwise Unknown, saying so.
func intersect(a, b Verdict) Verdict {
	out := Verdict{Kind: Restricted, Rule: b.Rule, Frontend: b.Frontend, Source: b.Source, Others: a.Others,
		Note: joinNotes(a.Note, b.Note, "the host admits only some sources first ("+a.Rule+")")}
	switch {
	case len(a.Except) == 0 && len(b.Except) == 0:
		for _, p := range a.Sources {
			for _, q := range b.Sources {
				switch {
				case p.Bits() >= q.Bits() && q.Contains(p.Addr()):
					out.Sources = append(out.Sources, p)
				case q.Bits() > p.Bits() && p.Contains(q.Addr()):
					out.Sources = append(out.Sources, q)
				}
			}
		}
		if len(out.Sources) == 0 {
			return Verdict{Kind: a.Others, Rule: a.Rule, Note: "the host and the container admit no source in common"}
		}
	case len(a.Sources) == 0 && len(b.Sources) == 0:
		out.Except = append(append([]netip.Prefix(nil), a.Except...), b.Except...)
	default:
		return Verdict{Kind: Unknown, Reason: "the host's and the container's restrictions not combined: " + a.Rule + "; " + b.Rule}
	}
	return out
}
