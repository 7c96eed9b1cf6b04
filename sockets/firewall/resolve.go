//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
)

// The answer: the pieces the walk ends with, cut into segments of the source space that every piece
// covers or misses, become one Verdict (Open, Restricted, Filtered, Closed or Unknown), with the
// deciding rule and the notes.

type segment struct {
	set    addrSet
	pieces []*piece
}

// resolve turns the final pieces into a verdict. Pieces overlap where the evaluator followed both
// ways of an undecided condition: there, different outcomes make the verdict Unknown.
func (ev *evaluator) resolve(universe addrSet, final []piece) Verdict {
	// cut the sources into segments that every piece either covers or misses
	var cuts []u128
	for _, p := range final {
		for _, x := range p.set.r {
			cuts = append(cuts, x.lo, x.hi.add1())
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].cmp(cuts[j]) < 0 })
	type group struct {
		kind   Kind
		by     decider
		set    addrSet
		notes  []string
		reason string
	}
	groups := map[string]*group{}
	var order []string
	add := func(kind Kind, by decider, set addrSet, notes []string, reason string) {
		k := string(kind) + "|"
		if by != nil {
			k += by.String()
		}
		k += "|" + reason
		g := groups[k]
		if g == nil {
			g = &group{kind: kind, by: by, set: emptySet(ev.v6), reason: reason}
			groups[k] = g
			order = append(order, k)
		}
		g.set = g.set.union(set)
		g.notes = append(g.notes, notes...)
	}
	max := fullSet(ev.v6).r[0].hi
	for i := 0; i < len(cuts); i++ {
		lo := cuts[i]
		if i+1 < len(cuts) && cuts[i+1].cmp(lo) == 0 {
			continue
		}
		var hi u128
		if i+1 < len(cuts) {
			hi = cuts[i+1].sub1()
		} else {
			hi = max
		}
		if lo.cmp(hi) > 0 || (i > 0 && lo.isZero() && cuts[i-1].cmp(max) == 0) {
			continue
		}
		if !universe.contains(lo) {
			continue
		}
		seg := rangeSet(ev.v6, lo, hi).intersect(universe)
		var cover []*piece
		for k := range final {
			if final[k].set.contains(lo) {
				cover = append(cover, &final[k])
			}
		}
		if len(cover) == 0 {
			continue
		}
		kinds := map[Kind]bool{}
		var effect *piece
		for _, p := range cover {
			kinds[kindOf(p.out)] = true
			if p.out == vEffect && effect == nil {
				effect = p
			}
		}
		switch {
		case effect != nil:
			add(Unknown, effect.by, seg, nil, effect.effectWhat)
		case len(kinds) > 1:
			// name the condition that splits the ways: one some of them took and others did not
			var by decider
			count := map[decider]int{}
			for _, p := range cover {
				for _, a := range p.assumed {
					count[a]++
				}
			}
			for _, p := range cover {
				for _, a := range p.assumed {
					if by == nil || (count[a] < len(cover) && count[by] == len(cover)) {
						by = a
					}
				}
			}
			why := "a condition the evaluator cannot decide"
			for _, p := range cover {
				if p.out != vAccept && p.by != nil && p.by != by {
					why += "; one way, " + string(kindOf(p.out)) + " by " + p.by.String()
					break
				}
			}
			add(Unknown, by, seg, nil, why)
		default:
			p := cover[0]
			by := p.by
			if p.out == vAccept {
				by = p.acceptBy
			}
			var notes []string
			for _, q := range cover {
				notes = append(notes, q.notes...)
			}
			add(kindOf(p.out), by, seg, notes, "")
		}
	}
	var accepted, refused []*group
	var unknown *group
	for _, k := range order {
		g := groups[k]
		switch g.kind {
		case Unknown:
			if unknown == nil {
				unknown = g
			}
		case Open:
			accepted = append(accepted, g)
		default:
			refused = append(refused, g)
		}
	}
	largest := func(gs []*group) *group {
		var best *group
		for _, g := range gs {
			if best == nil || g.set.size() > best.set.size() {
				best = g
			}
		}
		return best
	}
	byText := func(d decider) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	var notes []string
	for _, k := range order {
		if groups[k].kind != Unknown {
			notes = append(notes, groups[k].notes...)
		}
	}
	if unknown != nil {
		v := Verdict{Kind: Unknown, Rule: byText(unknown.by)}
		v.Reason = "cannot evaluate"
		if unknown.by != nil {
			v.Reason += " " + unknown.by.String()
		}
		if unknown.reason != "" {
			v.Reason += " (" + unknown.reason + ")"
		}
		if !universe.minus(unknown.set).empty() {
			v.Reason += " for sources " + abbreviate(unknown.set.prefixes())
		}
		return v
	}
	switch {
	case len(refused) == 0:
		g := largest(accepted)
		return Verdict{Kind: Open, Rule: byText(g.by), Note: joinNotes(notes...)}
	case len(accepted) == 0:
		g := largest(refused)
		v := Verdict{Kind: g.kind, Rule: byText(g.by), Note: joinNotes(notes...)}
		if len(refused) > 1 {
			for _, o := range refused {
				if o != g && o.kind != g.kind {
					v.Note = joinNotes(v.Note, fmt.Sprintf("%s from %s (%s)", o.kind, abbreviate(o.set.prefixes()), byText(o.by)))
				}
			}
		}
		return v
	}
	acc := emptySet(ev.v6)
	for _, g := range accepted {
		acc = acc.union(g.set)
	}
	ref := universe.minus(acc)
	g, o := largest(accepted), largest(refused)
	v := Verdict{Kind: Restricted, Rule: byText(g.by), Others: o.kind}
	v.Note = joinNotes(append(notes, "others: "+byText(o.by))...)
	ap, rp := acc.prefixes(), ref.prefixes()
	if len(ap) <= len(rp) {
		v.Sources = ap
	} else {
		v.Except = rp
	}
	return v
}

func kindOf(v vkind) Kind {
	switch v {
	case vAccept:
		return Open
	case vDrop, vRefuse:
		return Filtered
	case vReject:
		return Closed
	}
	return Unknown
}

func abbreviate(ps []netip.Prefix) string {
	var parts []string
	for i, p := range ps {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-8))
			break
		}
		parts = append(parts, p.String())
	}
	return strings.Join(parts, ", ")
}
