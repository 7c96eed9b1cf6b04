// Package reach is the vocabulary of reachability: what a new connection from
// outside meets at a listener (open, restricted, filtered, closed, unknown) and
// the verdict that says so with its evidence. It is a leaf: the data model and
// the judgement speak it without linking the firewall reader's netlink code.
package reach

import (
	"net/netip"
	"slices"
)

// Kind is what a new connection from outside meets, as a word (it appears in JSON).
type Kind string

// The verdict kinds.
const (
	// Open: a new connection from any outside address is accepted.
	Open Kind = "open"
	// Restricted: accepted from some sources only (Verdict.Sources or Verdict.Except say which);
	// the others meet Verdict.Others.
	Restricted Kind = "restricted"
	// Filtered: dropped without an answer, or rejected with an ICMP unreachable other than port
	// unreachable (admin-prohibited...): a scanner reports it as filtered.
	Filtered Kind = "filtered"
	// Closed: rejected with a TCP reset or an ICMP port unreachable: to a scanner it looks closed.
	Closed Kind = "closed"
	// Unknown: the evaluator cannot tell; Verdict.Reason says why. It never guesses.
	Unknown Kind = "unknown"
)

// Reasons for an unknown verdict that are not about one rule.
const (
	ReasonNotRoot = "not root: the ruleset cannot be read (needs CAP_NET_ADMIN)"
	ReasonLegacy  = "legacy iptables not evaluated"
)

// Verdict is the firewall's answer for a new connection from a non-local address to a listener.
type Verdict struct {
	Kind Kind `json:"kind"`
	// Rule is the deciding rule in nft syntax, prefixed by where it lives and followed by its handle:
	// "chain inet filter input: tcp dport 22 accept # handle 4", or a chain's policy:
	// "chain inet filter input: policy drop". For Restricted, the accepting rule. "" when no rule
	// decides (no firewall, a loopback listener, a ruleset that cannot be read).
	Rule string `json:"rule,omitempty"`
	// Sources, for Restricted: the accepted sources of a family whose other sources are refused.
	Sources []netip.Prefix `json:"sources,omitempty"`
	// Except, for Restricted: the refused sources of a family whose other sources are accepted
	// (a block list: listing what is refused is shorter). A family appears in Sources or in Except,
	// never both.
	Except []netip.Prefix `json:"except,omitempty"`
	// Others, for Restricted: what the refused sources meet (Filtered or Closed).
	Others Kind `json:"others,omitempty"`
	// Exceptions are refused sources that meet the other of Filtered and Closed than the rest (a ufw
	// "deny from" before a "reject": filtered from that source, closed from the others), each with
	// the rule that decides for them.
	Exceptions []Exception `json:"exceptions,omitempty"`
	// Reason, for Unknown: why (names the rule the evaluator cannot decide, ReasonNotRoot or
	// ReasonLegacy).
	Reason string `json:"reason,omitempty"`
	// Frontend is the tool that wrote the deciding rule, recognised by its tables and chains: ufw,
	// firewalld, docker, kube-proxy ("" for none of them: nft or iptables by hand).
	Frontend string `json:"frontend,omitempty"`
	// Source is the deciding rule as that frontend writes it: "ufw allow 22/tcp",
	// "firewalld zone public", "ufw default deny incoming".
	Source string `json:"source,omitempty"`
	// Note is what else is worth knowing: "no firewall", a rate limit on the path, a set whose
	// contents change without a ruleset change, the other family's verdict when they differ.
	Note string `json:"note,omitempty"`
	// ByFamily holds, for a dual-stack listener whose IPv4 and IPv6 verdicts differ, both of them
	// (IPv4 first); the fields above are then the more exposed one's (open, then unknown, restricted,
	// closed, filtered).
	ByFamily []Verdict `json:"by_family,omitempty"`
	// ByAddress holds, for a wildcard listener whose verdict differs between the machine's
	// addresses of a family (a rule matches destinations), each address's verdict; the fields
	// above are then the most exposed one's, and Note says which is which.
	ByAddress []AddrVerdict `json:"by_address,omitempty"`
}

// Exception is what some sources meet instead of what the rest of a verdict says.
type Exception struct {
	Sources []netip.Prefix `json:"sources"`
	Kind    Kind           `json:"kind"`
	Rule    string         `json:"rule,omitempty"`
}

// AddrVerdict is the verdict for connections to one of the machine's addresses.
type AddrVerdict struct {
	Addr netip.Addr `json:"addr"`
	Verdict
}

// At is the verdict for connections to dst: its family's, and its address's when they differ
// by address (else v's own for that family).
func (v Verdict) At(dst netip.Addr) Verdict {
	dst = dst.Unmap()
	if len(v.ByFamily) == 2 {
		if dst.Is4() {
			return v.ByFamily[0].At(dst)
		}
		return v.ByFamily[1].At(dst)
	}
	for _, a := range v.ByAddress {
		if a.Addr == dst {
			return a.Verdict
		}
	}
	return v
}

// From is what a new connection from src meets under v: Open, Filtered, Closed or Unknown.
func (v Verdict) From(src netip.Addr) Kind {
	src = src.Unmap()
	if len(v.ByFamily) == 2 {
		if src.Is4() {
			return v.ByFamily[0].From(src)
		}
		return v.ByFamily[1].From(src)
	}
	for _, e := range v.Exceptions {
		for _, p := range e.Sources {
			if p.Addr().Is4() == src.Is4() && p.Contains(src) {
				return e.Kind
			}
		}
	}
	if v.Kind != Restricted {
		return v.Kind
	}
	inSources, familyListed := false, false
	for _, p := range v.Sources {
		if p.Addr().Is4() == src.Is4() {
			familyListed = true
			if p.Contains(src) {
				inSources = true
			}
		}
	}
	if familyListed {
		if inSources {
			return Open
		}
		return v.Others
	}
	for _, p := range v.Except {
		if p.Addr().Is4() == src.Is4() && p.Contains(src) {
			return v.Others
		}
	}
	return Open
}

// Published is a published port: connections from outside to Host:HostPort are sent (DNAT) to
// To, in another namespace or on another machine, whether or not a proxy socket listens on the
// host; Verdict is what they meet on the way (the forward path's rules).
type Published struct {
	Proto    string         `json:"proto"`
	Host     netip.Addr     `json:"host"` // unspecified: any of the machine's addresses
	HostPort uint16         `json:"host_port"`
	To       netip.AddrPort `json:"to"`
	// Rule is the DNAT rule, in nft syntax with where it lives.
	Rule    string  `json:"rule"`
	Verdict Verdict `json:"verdict"`
	// Input is what the machine's own input path says about the host port, the DNAT left aside:
	// the admin's intent (ufw deny 8080) that the DNAT bypasses when it refuses what Verdict admits.
	Input Verdict `json:"input"`
}

// Equal reports whether two verdicts say the same, evidence included: a
// listener's verdict is made again only when its firewall's answer is not
// Equal to the last poll's.
func (v *Verdict) Equal(o *Verdict) bool {
	return v.Kind == o.Kind && v.Rule == o.Rule && v.Others == o.Others && v.Reason == o.Reason &&
		v.Frontend == o.Frontend && v.Source == o.Source && v.Note == o.Note &&
		slices.Equal(v.Sources, o.Sources) && slices.Equal(v.Except, o.Except) &&
		slices.EqualFunc(v.Exceptions, o.Exceptions, func(a, b Exception) bool {
			return a.Kind == b.Kind && a.Rule == b.Rule && slices.Equal(a.Sources, b.Sources)
		}) &&
		slices.EqualFunc(v.ByFamily, o.ByFamily, func(a, b Verdict) bool { return a.Equal(&b) }) &&
		slices.EqualFunc(v.ByAddress, o.ByAddress, func(a, b AddrVerdict) bool { return a.Addr == b.Addr && a.Verdict.Equal(&b.Verdict) })
}
