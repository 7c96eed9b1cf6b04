//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Sets: lookups in sets, maps and verdict maps. A set's elements become ranges of keys (per field
// for a concatenation with ranges), and a lookup splits the source space by the elements it hits.

// setEntry is an element as a range of keys, per field for a concatenation with ranges.
type setEntry struct {
	lo, hi   []byte
	perField bool
	elem     *setElem
}

func (s *set) entriesList() ([]setEntry, *setElem) {
	s.entriesOnce.Do(func() {
		elems := sortedElems(s)
		for i := range elems {
			e := &elems[i]
			switch {
			case e.catchall:
				s.catchall = e
			case e.end:
			case e.keyEnd != nil:
				s.entries = append(s.entries, setEntry{lo: e.key, hi: e.keyEnd, perField: true, elem: e})
			case s.interval():
				// an interval runs to the next key (the end element, exclusive), or to the top
				hi := bytes.Repeat([]byte{0xff}, len(e.key))
				for j := i + 1; j < len(elems); j++ {
					if elems[j].catchall || bytes.Equal(elems[j].key, e.key) {
						continue
					}
					hi = decBytes(elems[j].key)
					break
				}
				s.entries = append(s.entries, setEntry{lo: e.key, hi: hi, elem: e})
			default:
				s.entries = append(s.entries, setEntry{lo: e.key, hi: e.key, elem: e})
			}
		}
	})
	return s.entries, s.catchall
}

func decBytes(b []byte) []byte {
	out := append([]byte(nil), b...)
	for i := len(out) - 1; i >= 0; i-- {
		out[i]--
		if out[i] != 0xff {
			break
		}
	}
	return out
}

// fieldsOf splits a set key into its fields: offsets and lengths. The kernel says it for
// concatenations with ranges (NFTA_SET_DESC_CONCAT); otherwise the register layout of the key does
// (a known part may then come in 4-byte pieces, which is the same for exact matches).
func fieldsOf(s *set, cs []component) [][2]int {
	var out [][2]int
	off := 0
	if len(s.fields) > 0 {
		for _, f := range s.fields {
			out = append(out, [2]int{off, f})
			off += 4 * words(f)
		}
		return out
	}
	for _, c := range cs {
		n := c.size
		if c.sym != nil {
			n = c.sym.n
		}
		out = append(out, [2]int{off, n})
		off += c.padded
	}
	return out
}

// lookup is a lookup in a set (a condition), a map (its value goes to a register) or a verdict map
// (its element's verdict ends the rule).
func (rr *ruleRun) lookup(i int, st rstate, e *expr.Lookup) {
	s := rr.ev.rs.sets[setKey{rr.r.chain.table.family, rr.r.chain.table.name, e.SetName}]
	if s == nil {
		rr.finish(st, vEffect, "lookup in a set that was not read")
		return
	}
	var brs []branch
	if cs, ok := st.regs.read(e.SourceRegister, int(s.keyLen)); ok {
		brs = rr.ev.setBranches(st.p.set, s, cs)
	} else {
		brs = all(st.p.set, bUndecided)
	}
	if !e.IsDestRegSet {
		if e.Invert {
			for k := range brs {
				brs[k].res = invertRes(brs[k].res)
			}
		}
		// A plain set's branches go on without the volatile-set note below: only a map's and a
		// verdict map's carry it. That is how the evaluator has always behaved; whether a plain
		// set should carry it too is a change of verdicts, not of this code's shape.
		rr.split(i, st, brs)
		return
	}
	if s.volatile() {
		st.p = st.p.with(st.p.set)
		st.p.note("set " + s.noteName() + " changes without a ruleset change (timeouts or updates from the packet path): as read")
	}
	for _, b := range brs {
		if b.set.empty() {
			continue
		}
		sub := st
		sub.p = st.p.with(b.set)
		if e.DestRegister == unix.NFT_REG_VERDICT {
			rr.vmapBranch(i, sub, b)
		} else {
			rr.mapBranch(i, sub, b, e.DestRegister, s)
		}
	}
}

// noteName is how a note names the set: "@name", or "an anonymous set".
func (s *set) noteName() string {
	if s.anonymous() {
		return "an anonymous set"
	}
	return "@" + s.name
}

// mapBranch goes on with the value a map gives the branch's sources, in the register dst.
func (rr *ruleRun) mapBranch(i int, sub rstate, b branch, dst uint32, s *set) {
	switch b.res {
	case bNoMatch:
		rr.finish(sub, vNone, "")
	case bUndecided:
		sub.assumed = true
		rr.finish(sub, vNone, "")
		sub.regs.writeUnknown(dst, int(s.dataLen))
		rr.from(i+1, sub)
	default:
		sub.regs.writeKnown(dst, b.elem.data)
		rr.from(i+1, sub)
	}
}

// vmapBranch ends the rule for the branch's sources with the verdict its element holds.
func (rr *ruleRun) vmapBranch(i int, sub rstate, b branch) {
	switch {
	case b.res == bNoMatch:
		rr.finish(sub, vNone, "")
	case b.res == bUndecided:
		sub.assumed = true
		rr.finish(sub, vNone, "")
		rr.finish(sub, vEffect, "verdict map on a key the evaluator does not know")
	case b.elem.verdict == nil:
		rr.finish(sub, vEffect, "verdict map element without a verdict")
	case i+1 != len(rr.r.nodes):
		// statements after a verdict map: the kernel stops at the verdict only if it is final
		rr.finish(sub, vEffect, "expressions after a verdict map")
	default:
		rr.verdict(sub, b.elem.verdict)
	}
}

// setBranches splits the sources by the elements of a set the key cs is looked up in.
func (ev *evaluator) setBranches(set addrSet, s *set, cs []component) []branch {
	if b, k, ok := bytesOf(cs); ok {
		return s.knownKeyBranches(set, cs, b, k)
	}
	sk, ok := symbolicKeyOf(s, cs)
	if !ok {
		return all(set, bUndecided)
	}
	switch sk.sym.kind {
	case symIif, symIifname:
		return s.ifaceBranches(set, sk)
	}
	return ev.addrBranches(set, s, sk)
}

// knownKeyBranches: a key the evaluator knows matches the first element that holds it, or the
// catch-all element, or nothing.
func (s *set) knownKeyBranches(set addrSet, cs []component, b, k []byte) []branch {
	if !allFF(k) {
		return all(set, bUndecided)
	}
	entries, catchall := s.entriesList()
	for idx := range entries {
		if entryHas(s, &entries[idx], cs, b) {
			return []branch{{set: set, res: bMatch, elem: entries[idx].elem}}
		}
	}
	if catchall != nil {
		return []branch{{set: set, res: bMatch, elem: catchall}}
	}
	return all(set, bNoMatch)
}

// symKey is a set key with one symbolic part: the known parts in place (zeros where the symbolic
// part goes), the fields of the key, and which field the symbolic value is.
type symKey struct {
	key      []byte
	fields   [][2]int
	sym      *symVal
	symOff   int
	symField int // -1 when no field is exactly the symbolic value
}

// symbolicKeyOf lays out a key with exactly one symbolic part, the others known; ok is false for
// any other key, or one whose fields do not fit it.
func symbolicKeyOf(s *set, cs []component) (symKey, bool) {
	sk := symKey{fields: fieldsOf(s, cs), symField: -1}
	off := 0
	key := make([]byte, 0, s.keyLen)
	for _, c := range cs {
		if c.sym != nil {
			if sk.sym != nil {
				return symKey{}, false
			}
			sk.sym, sk.symOff = c.sym, off
			key = append(key, make([]byte, c.padded)...)
		} else {
			if !allFF(c.known) {
				return symKey{}, false
			}
			key = append(key, c.b...)
			key = append(key, make([]byte, c.padded-len(c.b))...)
		}
		off += c.padded
	}
	sk.key = key[:min(len(key), int(s.keyLen))]
	for fi, f := range sk.fields {
		if f[0] == sk.symOff && f[1] == sk.sym.n {
			sk.symField = fi
		}
		if f[0]+f[1] > len(sk.key) {
			return symKey{}, false
		}
	}
	return sk, true
}

// ifaceBranches: the input interface is symbolic; only sets that hold nothing but lo can be
// decided (outside traffic never comes in on lo).
func (s *set) ifaceBranches(set addrSet, sk symKey) []branch {
	loKey := loName
	if sk.sym.kind == symIif {
		loKey = binary.NativeEndian.AppendUint32(nil, 1)
	}
	entries, catchall := s.entriesList()
	if catchall != nil {
		return all(set, bUndecided)
	}
	for idx := range entries {
		en := &entries[idx]
		lo, hi := en.lo, en.hi
		if len(sk.fields) > 1 || sk.symOff != 0 || len(lo) < len(loKey) {
			return all(set, bUndecided)
		}
		if !bytes.Equal(lo[:len(loKey)], loKey) || !bytes.Equal(hi[:len(loKey)], loKey) {
			return all(set, bUndecided)
		}
	}
	return all(set, bNoMatch)
}

// addrBranches: the source (or a wildcard listener's destination) address is symbolic; each
// element whose other fields hold takes the sources in its range of addresses, and the catch-all
// element (or no match) takes the rest.
func (ev *evaluator) addrBranches(set addrSet, s *set, sk symKey) []branch {
	if sk.sym.mask != nil || sk.sym.n != addrLen(ev.v6) || sk.symField < 0 {
		return all(set, bUndecided)
	}
	entries, catchall := s.entriesList()
	var brs []branch
	var hits []addrRange // merged once at the end: a union per element was quadratic in the set's size
	for idx := range entries {
		if !ev.spend(1) {
			return all(set, bUndecided)
		}
		en := &entries[idx]
		region, hit, decided := ev.entryRegion(sk, en)
		if !decided {
			return all(set, bUndecided)
		}
		if !hit {
			continue
		}
		hits = append(hits, region.r...)
		for _, b := range ev.regionBranches(set, sk.sym, region) {
			if b.res == bMatch && !b.set.empty() {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: en.elem})
			} else if b.res == bUndecided {
				return all(set, bUndecided)
			}
		}
	}
	matched := normalize(ev.v6, hits)
	rest, decided := ev.unmatchedBranches(set, sk.sym, matched, catchall)
	if !decided {
		return all(set, bUndecided)
	}
	brs = append(brs, rest...)
	if sk.sym.kind == symDaddr && len(brs) != 1 {
		// every branch covers the whole set: only one decided answer can be kept
		return all(set, bUndecided)
	}
	return brs
}

// entryRegion is the range of addresses an element holds for the symbolic address: hit is false
// when its other fields do not hold the key's, decided false when the evaluator cannot tell.
func (ev *evaluator) entryRegion(sk symKey, en *setEntry) (region addrSet, hit, decided bool) {
	if len(en.lo) < len(sk.key) || len(en.hi) < len(sk.key) {
		return addrSet{}, false, false
	}
	if !sk.otherFieldsIn(en) {
		return addrSet{}, false, true
	}
	if len(sk.fields) > 1 && !en.perField && !bytes.Equal(en.lo, en.hi) {
		// a concatenation without ranges: the known fields must be equal and the address exact
		return addrSet{}, false, false
	}
	alen := addrLen(ev.v6)
	lo := en.lo[sk.symOff : sk.symOff+alen]
	hi := en.hi[sk.symOff : sk.symOff+alen]
	return rangeSet(ev.v6, u128From(lo), u128From(hi)), true, true
}

// otherFieldsIn says whether the key's known fields fall in the element's ranges.
func (sk symKey) otherFieldsIn(en *setEntry) bool {
	in := true
	for fi, f := range sk.fields {
		if fi == sk.symField {
			continue
		}
		kf := sk.key[f[0] : f[0]+f[1]]
		lo, hi := en.lo[f[0]:f[0]+f[1]], en.hi[f[0]:f[0]+f[1]]
		if bytes.Compare(kf, lo) < 0 || bytes.Compare(kf, hi) > 0 {
			in = false
		}
	}
	return in
}

// unmatchedBranches: the sources no element holds go to the catch-all element, or do not match.
func (ev *evaluator) unmatchedBranches(set addrSet, sym *symVal, matched addrSet, catchall *setElem) ([]branch, bool) {
	var brs []branch
	for _, b := range ev.regionBranches(set, sym, matched.complement()) {
		if b.res == bUndecided {
			return nil, false
		}
		if b.res == bMatch && !b.set.empty() {
			if catchall != nil {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: catchall})
			} else {
				brs = append(brs, branch{set: b.set, res: bNoMatch})
			}
		}
	}
	return brs, true
}

// addrLen is the length of an address of the family.
func addrLen(v6 bool) int {
	if v6 {
		return 16
	}
	return 4
}

// entryHas says whether a known key falls in an entry.
func entryHas(s *set, en *setEntry, cs []component, key []byte) bool {
	key = key[:min(len(key), len(en.lo))]
	if !en.perField {
		return bytes.Compare(key, en.lo) >= 0 && bytes.Compare(key, en.hi) <= 0
	}
	for _, f := range fieldsOf(s, cs) {
		if f[0]+f[1] > len(key) {
			return false
		}
		k := key[f[0] : f[0]+f[1]]
		if bytes.Compare(k, en.lo[f[0]:f[0]+f[1]]) < 0 || bytes.Compare(k, en.hi[f[0]:f[0]+f[1]]) > 0 {
			return false
		}
	}
	return true
}
