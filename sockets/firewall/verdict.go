package firewall

import (
	"net/netip"
	"strings"
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
	// Reason, for Unknown: why (names the rule the evaluator cannot decide, ReasonNotRoot or
	// ReasonLegacy).
	Reason string `json:"reason,omitempty"`
	// Note is what else is worth knowing: "no firewall", a rate limit on the path, a set whose
	// contents change without a ruleset change, the other family's verdict when they differ.
	Note string `json:"note,omitempty"`
	// ByFamily holds, for a dual-stack listener whose IPv4 and IPv6 verdicts differ, both of them
	// (IPv4 first); the fields above are then the more exposed one's (open, then unknown, restricted,
	// closed, filtered).
	ByFamily []Verdict `json:"by_family,omitempty"`
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

// exposure orders kinds from the least to the most exposed, for combining families.
func exposure(k Kind) int {
	switch k {
	case Open:
		return 5
	case Unknown:
		return 4
	case Restricted:
		return 3
	case Closed:
		return 2
	case Filtered:
		return 1
	}
	return 0
}

// combine is the verdict of a dual-stack listener from its IPv4 and IPv6 verdicts.
func combine(v4, v6 Verdict) Verdict {
	if v4.Kind == v6.Kind && v4.Rule == v6.Rule && v4.Reason == v6.Reason &&
		prefixesEqual(v4.Sources, v6.Sources) && prefixesEqual(v4.Except, v6.Except) {
		out := v4
		out.Note = joinNotes(v4.Note, v6.Note)
		return out
	}
	worse, other, otherName := v4, v6, "IPv6"
	if exposure(v6.Kind) > exposure(v4.Kind) {
		worse, other, otherName = v6, v4, "IPv4"
	}
	out := worse
	out.ByFamily = []Verdict{v4, v6}
	if v4.Kind == Restricted && v6.Kind == Restricted {
		// each family keeps its own list: From reads them by family
		out.Sources = append(append([]netip.Prefix(nil), v4.Sources...), v6.Sources...)
		out.Except = append(append([]netip.Prefix(nil), v4.Except...), v6.Except...)
	}
	desc := otherName + ": " + string(other.Kind)
	if other.Rule != "" {
		desc += " (" + other.Rule + ")"
	} else if other.Reason != "" {
		desc += " (" + other.Reason + ")"
	}
	out.Note = joinNotes(worse.Note, desc)
	return out
}

func prefixesEqual(a, b []netip.Prefix) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func joinNotes(notes ...string) string {
	var out []string
	seen := map[string]bool{}
	for _, n := range notes {
		for _, part := range strings.Split(n, "; ") {
			if part != "" && !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
		}
	}
	return strings.Join(out, "; ")
}
