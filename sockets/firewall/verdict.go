//go:build linux

package firewall

import (
	"net/netip"
	"strings"

	"github.com/portwatch/portwatch/sockets/reach"
)

// The vocabulary lives in sockets/reach (a leaf the data model can import);
// the evaluator speaks it under its own short names.
type (
	// Kind is reach.Kind.
	Kind = reach.Kind
	// Verdict is reach.Verdict.
	Verdict = reach.Verdict
)

// The verdict kinds and reasons, as reach defines them.
const (
	Open          = reach.Open
	Restricted    = reach.Restricted
	Filtered      = reach.Filtered
	Closed        = reach.Closed
	Unknown       = reach.Unknown
	ReasonNotRoot = reach.ReasonNotRoot
	ReasonLegacy  = reach.ReasonLegacy
)

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
		prefixesEqual(v4.Sources, v6.Sources) && prefixesEqual(v4.Except, v6.Except) &&
		len(v4.Exceptions) == 0 && len(v6.Exceptions) == 0 {
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

// byAddress is a wildcard listener's verdict from its addresses' verdicts: theirs when they agree,
// else the most exposed one's with every address's in ByAddress and a note that says which is
// which ("open on 10.0.0.5; filtered on 192.0.2.7").
func byAddress(per []reach.AddrVerdict) Verdict {
	first := per[0].Verdict
	agree := true
	for _, a := range per[1:] {
		if !sameVerdict(a.Verdict, first) {
			agree = false
		}
	}
	if agree {
		return first
	}
	worst := per[0].Verdict
	for _, a := range per[1:] {
		if exposure(a.Kind) > exposure(worst.Kind) {
			worst = a.Verdict
		}
	}
	out := worst
	out.ByAddress = per
	var parts []string
	for _, a := range per {
		desc := string(a.Kind) + " on " + a.Addr.String()
		if a.Rule != "" {
			desc += " (" + a.Rule + ")"
		}
		parts = append(parts, desc)
	}
	out.Note = joinNotes(worst.Note, strings.Join(parts, "; "))
	return out
}

func sameVerdict(a, b Verdict) bool {
	return a.Kind == b.Kind && a.Rule == b.Rule && a.Reason == b.Reason && a.Others == b.Others &&
		prefixesEqual(a.Sources, b.Sources) && prefixesEqual(a.Except, b.Except) && exceptionsEqual(a.Exceptions, b.Exceptions)
}

func exceptionsEqual(a, b []reach.Exception) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Kind != b[i].Kind || a[i].Rule != b[i].Rule || !prefixesEqual(a[i].Sources, b[i].Sources) {
			return false
		}
	}
	return true
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
