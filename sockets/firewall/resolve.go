//go:build linux

package firewall

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/portwatch/portwatch/sockets/reach"
)

// The answer: the pieces the walk ends with, cut into segments of the source space that every piece
// covers or misses, become one Verdict (Open, Restricted, Filtered, Closed or Unknown), with the
// deciding rule and the notes.

// segment is a range of sources and the final pieces that cover it.
type segment struct {
	set    addrSet
	pieces []*piece
}

// resolve turns the final pieces into a verdict. Pieces overlap where the evaluator followed both
// ways of an undecided condition: there, different outcomes make the verdict Unknown.
func (ev *evaluator) resolve(universe addrSet, final []piece) Verdict {
	gs := groups{v6: ev.v6, byKey: map[string]*group{}}
	ev.eachSegment(universe, final, gs.addSegment)
	var accepted, refused []*group
	var unknown *group
	var notes []string
	for _, g := range gs.order {
		switch g.kind {
		case Unknown:
			if unknown == nil {
				unknown = g
			}
			continue
		case Open:
			accepted = append(accepted, g)
		default:
			refused = append(refused, g)
		}
		notes = append(notes, g.notes...)
	}
	var v Verdict
	var by decider
	switch {
	case unknown != nil:
		v, by = unknownVerdict(universe, unknown), unknown.by
	case len(refused) == 0:
		g := largest(accepted)
		v, by = Verdict{Kind: Open, Rule: byText(g.by), Note: joinNotes(notes...)}, g.by
	case len(accepted) == 0:
		v, by = ev.refusedVerdict(refused, notes), largest(refused).by
	default:
		v, by = ev.restrictedVerdict(universe, accepted, refused, notes), largest(accepted).by
	}
	v.Frontend, v.Source = frontendOf(ev, by)
	return v
}

// eachSegment cuts the sources into the segments that every final piece either covers or misses,
// and hands each to f with the pieces that cover it (a buffer f must not keep); sources outside
// the universe, or that no piece covers, are left out.
func (ev *evaluator) eachSegment(universe addrSet, final []piece, f func(segment)) {
	var cuts []u128
	for _, p := range final {
		for _, x := range p.set.r {
			cuts = append(cuts, x.lo, x.hi.add1())
		}
	}
	sort.Slice(cuts, func(i, j int) bool { return cuts[i].cmp(cuts[j]) < 0 })
	top := fullSet(ev.v6).r[0].hi
	var cover []*piece
	for i := range cuts {
		lo, hi, ok := segmentAt(cuts, i, top)
		if !ok || !universe.contains(lo) {
			continue
		}
		set := rangeSet(ev.v6, lo, hi).intersect(universe)
		cover = cover[:0]
		for k := range final {
			if final[k].set.contains(lo) {
				cover = append(cover, &final[k])
			}
		}
		if len(cover) > 0 {
			f(segment{set: set, pieces: cover})
		}
	}
}

// segmentAt is the segment that starts at the i-th cut and runs to the next one; ok is false for
// a cut repeated, and for the cut past the top of the address space.
func segmentAt(cuts []u128, i int, top u128) (lo, hi u128, ok bool) {
	lo = cuts[i]
	last := i+1 == len(cuts)
	if !last && cuts[i+1].cmp(lo) == 0 {
		return lo, hi, false
	}
	hi = top
	if !last {
		hi = cuts[i+1].sub1()
	}
	if lo.cmp(hi) > 0 || (i > 0 && lo.isZero() && cuts[i-1].cmp(top) == 0) {
		return lo, hi, false
	}
	return lo, hi, true
}

// group is the sources that meet the same outcome by the same decider (and, for Unknown, for the
// same reason).
type group struct {
	kind   Kind
	by     decider
	set    addrSet
	notes  []string
	reason string
}

// groups are the outcomes in the order they were first met.
type groups struct {
	v6    bool
	byKey map[string]*group
	order []*group
}

func (gs *groups) add(kind Kind, by decider, set addrSet, notes []string, reason string) {
	k := string(kind) + "|"
	if by != nil {
		k += by.String()
	}
	k += "|" + reason
	g := gs.byKey[k]
	if g == nil {
		g = &group{kind: kind, by: by, set: emptySet(gs.v6), reason: reason}
		gs.byKey[k] = g
		gs.order = append(gs.order, g)
	}
	g.set = g.set.union(set)
	g.notes = append(g.notes, notes...)
}

// addSegment adds what a segment's sources meet: Unknown when a piece met something the
// evaluator does not model or when the pieces disagree, else their common outcome.
func (gs *groups) addSegment(seg segment) {
	kinds := map[Kind]bool{}
	var effect *piece
	for _, p := range seg.pieces {
		kinds[kindOf(p.out)] = true
		if p.out == vEffect && effect == nil {
			effect = p
		}
	}
	switch {
	case effect != nil:
		gs.add(Unknown, effect.by, seg.set, nil, effect.effectWhat)
	case len(kinds) > 1:
		by := splitter(seg.pieces)
		gs.add(Unknown, by, seg.set, nil, disagreement(seg.pieces, by))
	default:
		p := seg.pieces[0]
		by := p.by
		if p.out == vAccept {
			by = p.acceptBy
		}
		var notes []string
		for _, q := range seg.pieces {
			notes = append(notes, q.notes...)
		}
		gs.add(kindOf(p.out), by, seg.set, notes, "")
	}
}

// splitter names the condition that splits the ways: one some of the pieces took and others did
// not (else the last one assumed).
func splitter(cover []*piece) decider {
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
	return by
}

// disagreement is the reason of an Unknown the splitter decides: with one of the ways not taken.
func disagreement(cover []*piece, by decider) string {
	why := "a condition the evaluator cannot decide"
	for _, p := range cover {
		if p.out != vAccept && p.by != nil && p.by != by {
			return why + "; one way, " + string(kindOf(p.out)) + " by " + p.by.String()
		}
	}
	return why
}

// unknownVerdict names what could not be evaluated, and for which sources when not for all.
func unknownVerdict(universe addrSet, unknown *group) Verdict {
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

// refusedVerdict: no source is accepted; the largest group decides, and the sources of the other
// kind (closed where the rest are filtered, or filtered where they are closed: a "deny from" before
// a "reject") are its Exceptions, with their rules, and in the note.
func (ev *evaluator) refusedVerdict(refused []*group, notes []string) Verdict {
	g := largest(refused)
	v := Verdict{Kind: g.kind, Rule: byText(g.by), Note: joinNotes(notes...)}
	v.Exceptions = exceptions(refused, g.kind)
	for _, e := range v.Exceptions {
		v.Note = joinNotes(v.Note, fmt.Sprintf("%s from %s (%s)", e.Kind, abbreviate(e.Sources), e.Rule))
	}
	return v
}

// exceptions are the groups refused otherwise than kind, as the sources they hold.
func exceptions(refused []*group, kind Kind) []reach.Exception {
	var out []reach.Exception
	for _, o := range refused {
		if o.kind != kind {
			out = append(out, reach.Exception{Sources: o.set.prefixes(), Kind: o.kind, Rule: byText(o.by)})
		}
	}
	return out
}

// restrictedVerdict: some sources are accepted, others not; the shorter list says which, and
// the refused sources that meet another kind than the most of them are its Exceptions.
func (ev *evaluator) restrictedVerdict(universe addrSet, accepted, refused []*group, notes []string) Verdict {
	acc := emptySet(ev.v6)
	for _, g := range accepted {
		acc = acc.union(g.set)
	}
	ref := universe.minus(acc)
	g, o := largest(accepted), largest(refused)
	v := Verdict{Kind: Restricted, Rule: byText(g.by), Others: o.kind}
	v.Note = joinNotes(append(notes, "others: "+byText(o.by))...)
	v.Exceptions = exceptions(refused, o.kind)
	for _, e := range v.Exceptions {
		v.Note = joinNotes(v.Note, fmt.Sprintf("%s from %s (%s)", e.Kind, abbreviate(e.Sources), e.Rule))
	}
	ap, rp := acc.prefixes(), ref.prefixes()
	if len(ap) <= len(rp) {
		v.Sources = ap
	} else {
		v.Except = rp
	}
	return v
}

// largest is the group with the most sources (the first of them).
func largest(gs []*group) *group {
	var best *group
	for _, g := range gs {
		if best == nil || g.set.size() > best.set.size() {
			best = g
		}
	}
	return best
}

func byText(d decider) string {
	if d == nil {
		return ""
	}
	return d.String()
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
