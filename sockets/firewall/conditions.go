//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Conditions: a comparison or a range on what a register holds, as branches of the source space:
// the sources that match, those that do not, and those for which the evaluator cannot decide (then
// followed both ways).

// compare is a cmp expression: decided on known bytes, or split by what the register holds.
func (rr *ruleRun) compare(i int, st *rstate, e *expr.Cmp) outcome {
	var kb, kk [64]byte
	if st.regs.known(e.Register, len(e.Data), &kb, &kk) {
		res, decided := knownCmp(e.Op, kb[:len(e.Data)], kk[:len(e.Data)], e.Data)
		switch {
		case !decided:
			rr.split(i, *st, all(st.p.set, bUndecided))
			return ended
		case !res:
			rr.finish(*st, vNone, "")
			return ended
		}
		return proceed // matched: on to the next expression
	}
	var brs []branch
	if cs, ok := st.regs.read(e.Register, len(e.Data)); ok {
		brs = rr.ev.cmp(st.p.set, cs, e.Op, e.Data)
	} else {
		brs = all(st.p.set, bUndecided) // the read does not line up with what was written
	}
	rr.split(i, *st, brs)
	return ended
}

// inRange is a range expression ("tcp dport 8000-8009", "ip saddr 10.0.0.1-10.0.0.9").
func (rr *ruleRun) inRange(i int, st *rstate, e *expr.Range) outcome {
	var brs []branch
	if cs, ok := st.regs.read(e.Register, len(e.FromData)); ok {
		brs = rr.ev.rangeCond(st.p.set, cs, e)
	} else {
		brs = all(st.p.set, bUndecided)
	}
	rr.split(i, *st, brs)
	return ended
}

type bres int

const (
	bMatch bres = iota
	bNoMatch
	bUndecided
)

type branch struct {
	set  addrSet
	res  bres
	elem *setElem // for a map or vmap lookup: the element that matched
}

func all(set addrSet, res bres) []branch { return []branch{{set: set, res: res}} }

func boolRes(b bool) bres {
	if b {
		return bMatch
	}
	return bNoMatch
}

func invertRes(r bres) bres {
	switch r {
	case bMatch:
		return bNoMatch
	case bNoMatch:
		return bMatch
	}
	return r
}

// knownCmp compares partly known bytes with data: the answer, and whether it is decided.
func knownCmp(op expr.CmpOp, b, known, data []byte) (bool, bool) {
	differs, allKnown := false, true
	for i := range data {
		if (b[i]^data[i])&known[i] != 0 {
			differs = true
		}
		if known[i] != 0xff {
			allKnown = false
		}
	}
	switch op {
	case expr.CmpOpEq:
		if differs {
			return false, true
		}
		return true, allKnown
	case expr.CmpOpNeq:
		if differs {
			return true, true
		}
		return false, allKnown
	}
	if !allKnown {
		return false, false
	}
	c := bytes.Compare(b[:len(data)], data)
	switch op {
	case expr.CmpOpLt:
		return c < 0, true
	case expr.CmpOpLte:
		return c <= 0, true
	case expr.CmpOpGt:
		return c > 0, true
	case expr.CmpOpGte:
		return c >= 0, true
	}
	return false, false
}

// addrRegion is the set of addresses a (masked) address field compares op data with; ok is false
// when the mask is not a prefix (then the evaluator does not decide).
func (ev *evaluator) addrRegion(s *symVal, op expr.CmpOp, data []byte) (addrSet, bool) {
	alen := addrLen(ev.v6)
	if len(data) > s.n || len(data) == 0 {
		return addrSet{}, false
	}
	m, p, ok := ev.prefixMask(s, len(data))
	if !ok {
		return addrSet{}, false
	}
	dfull := make([]byte, alen)
	copy(dfull, data)
	d := u128From(dfull)
	switch op {
	case expr.CmpOpEq, expr.CmpOpNeq:
		return ev.prefixRegion(op, d, m, p), true
	}
	if p != alen*8 {
		return addrSet{}, false
	}
	return ev.orderRegion(op, d)
}

// prefixMask is the mask a comparison of the first l bytes of a (masked) address applies, and its
// prefix length; ok is false when the mask is not a prefix.
func (ev *evaluator) prefixMask(s *symVal, l int) (m u128, p int, ok bool) {
	alen := addrLen(ev.v6)
	nb := alen * 8
	mfull := make([]byte, alen)
	for i := 0; i < l; i++ {
		mfull[i] = 0xff
		if s.mask != nil {
			mfull[i] = s.mask[i]
		}
	}
	m = u128From(mfull)
	for p < nb && !m.and(hostMask(nb, p+1).not()).and(hostMask(nb, p)).isZero() {
		p++ // bit p (from the top) is set
	}
	if m.cmp(hostMask(nb, p).not().and(fullSet(ev.v6).r[0].hi)) != 0 {
		return m, p, false
	}
	return m, p, true
}

// prefixRegion is what "== d" (or "!= d") under a prefix mask m of length p holds: the prefix, or
// nothing when d has bits outside the mask.
func (ev *evaluator) prefixRegion(op expr.CmpOp, d, m u128, p int) addrSet {
	var region addrSet
	if d.and(m.not()).and(fullSet(ev.v6).r[0].hi).isZero() {
		region = prefixSet(ev.v6, d, p)
	} else {
		region = emptySet(ev.v6)
	}
	if op == expr.CmpOpNeq {
		region = region.complement()
	}
	return region
}

// orderRegion is what "< d", "<= d", "> d" or ">= d" holds, on a whole address.
func (ev *evaluator) orderRegion(op expr.CmpOp, d u128) (addrSet, bool) {
	top := fullSet(ev.v6).r[0].hi
	switch op {
	case expr.CmpOpLt:
		if d.isZero() {
			return emptySet(ev.v6), true
		}
		return rangeSet(ev.v6, u128{}, d.sub1()), true
	case expr.CmpOpLte:
		return rangeSet(ev.v6, u128{}, d), true
	case expr.CmpOpGt:
		if d.cmp(top) == 0 {
			return emptySet(ev.v6), true
		}
		return rangeSet(ev.v6, d.add1(), top), true
	case expr.CmpOpGte:
		return rangeSet(ev.v6, d, top), true
	}
	return addrSet{}, false
}

func (a u128) isZero() bool { return a.hi == 0 && a.lo == 0 }

// outsideDaddrs is what a wildcard listener's destination address can be for outside traffic.
func (ev *evaluator) outsideDaddrs() addrSet { return outsideSources(ev.v6) }

// regionBranches splits set by a region of a symbolic address.
func (ev *evaluator) regionBranches(set addrSet, s *symVal, region addrSet) []branch {
	if s.kind == symSaddr {
		return []branch{{set: set.intersect(region), res: bMatch}, {set: set.minus(region), res: bNoMatch}}
	}
	u := ev.outsideDaddrs()
	switch {
	case u.minus(region).empty():
		return all(set, bMatch)
	case u.intersect(region).empty():
		return all(set, bNoMatch)
	}
	return all(set, bUndecided)
}

// loName is lo's name as an interface name register holds it.
var loName = append([]byte("lo"), make([]byte, unix.IFNAMSIZ-2)...)

// cmp splits the sources by a comparison of what a register holds with data.
func (ev *evaluator) cmp(set addrSet, cs []component, op expr.CmpOp, data []byte) []branch {
	if b, k, ok := bytesOf(cs); ok {
		res, decided := knownCmp(op, b, k, data)
		if !decided {
			return all(set, bUndecided)
		}
		return all(set, boolRes(res))
	}
	if len(cs) != 1 {
		return all(set, concatCmp(cs, op, data))
	}
	s := cs[0].sym
	switch s.kind {
	case symSaddr, symDaddr:
		region, ok := ev.addrRegion(s, op, data)
		if !ok {
			return all(set, bUndecided)
		}
		return ev.regionBranches(set, s, region)
	case symIifname:
		if res := ifnameCmp(op, data); res != bUndecided {
			return all(set, res)
		}
		return ev.ifnameBySource(set, op, data)
	case symIif:
		return all(set, ifindexCmp(op, data))
	}
	return all(set, bUndecided)
}

// isEquality: == or !=, the comparisons a symbolic value can decide by a part that differs.
func isEquality(op expr.CmpOp) bool { return op == expr.CmpOpEq || op == expr.CmpOpNeq }

// concatCmp compares a concatenation with a symbolic part: decided only when a known part differs.
func concatCmp(cs []component, op expr.CmpOp, data []byte) bres {
	off := 0
	for _, c := range cs {
		if c.sym == nil && off+len(c.b) <= len(data) {
			if isEquality(op) && !bytes.Equal(c.b, data[off:off+len(c.b)]) && allFF(c.known) {
				return boolRes(op == expr.CmpOpNeq)
			}
		}
		off += c.padded
	}
	return bUndecided
}

// ifnameBySource decides an input interface's name by the source: a packet from outside comes in
// on the interface its route back leaves by (the reverse-path assumption), so an exact name splits
// the sources by the namespace's routes, when they are known.
func (ev *evaluator) ifnameBySource(set addrSet, op expr.CmpOp, data []byte) []branch {
	nul := bytes.IndexByte(data, 0)
	if !isEquality(op) || nul <= 0 || !allZero(data[nul:]) {
		return all(set, bUndecided)
	}
	region, ok := ev.rs.viaDev(ev.v6, string(data[:nul]))
	if !ok {
		return all(set, bUndecided)
	}
	if op == expr.CmpOpNeq {
		region = region.complement()
	}
	return []branch{{set: set.intersect(region), res: bMatch}, {set: set.minus(region), res: bNoMatch}}
}

// ifnameCmp compares the input interface's name: an exact name (the data holds its terminating
// zero) that is lo is never outside traffic's.
func ifnameCmp(op expr.CmpOp, data []byte) bres {
	if !isEquality(op) {
		return bUndecided
	}
	if nul := bytes.IndexByte(data, 0); nul >= 0 && bytes.Equal(data[:nul], []byte("lo")) && allZero(data[nul:]) {
		return boolRes(op == expr.CmpOpNeq)
	}
	return bUndecided
}

// ifindexCmp compares the input interface's index: ifindex 1 is lo in every namespace, and no
// interface has index 0.
func ifindexCmp(op expr.CmpOp, data []byte) bres {
	if len(data) == 4 && isEquality(op) {
		if i := binary.NativeEndian.Uint32(data); i == 0 || i == 1 {
			return boolRes(op == expr.CmpOpNeq)
		}
	}
	return bUndecided
}

func allFF(b []byte) bool {
	for _, x := range b {
		if x != 0xff {
			return false
		}
	}
	return true
}

func (ev *evaluator) rangeCond(set addrSet, cs []component, e *expr.Range) []branch {
	inv := e.Op == expr.CmpOpNeq
	if b, k, ok := bytesOf(cs); ok {
		if !allFF(k[:len(e.FromData)]) {
			return all(set, bUndecided)
		}
		in := bytes.Compare(b, e.FromData) >= 0 && bytes.Compare(b, e.ToData) <= 0
		return all(set, boolRes(in != inv))
	}
	if len(cs) == 1 && (cs[0].sym.kind == symSaddr || cs[0].sym.kind == symDaddr) && cs[0].sym.mask == nil &&
		!cs[0].truncated && (len(e.FromData) == 4 && !ev.v6 || len(e.FromData) == 16 && ev.v6) {
		region := rangeSet(ev.v6, u128From(e.FromData), u128From(e.ToData))
		if inv {
			region = region.complement()
		}
		return ev.regionBranches(set, cs[0].sym, region)
	}
	return all(set, bUndecided)
}
