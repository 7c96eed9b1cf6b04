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

func (ev *evaluator) lookup(ctx hookCtx, r *rule, i int, st rstate, e *expr.Lookup, out *[]piece,
	finish func(rstate, vkind, string), split func([]branch, func(rstate))) {
	s := ev.rs.sets[setKey{r.chain.table.family, r.chain.table.name, e.SetName}]
	if s == nil {
		finish(st, vEffect, "lookup in a set that was not read")
		return
	}
	if s.volatile() {
		st.p = st.p.with(st.p.set)
		name := "@" + s.name
		if s.anonymous() {
			name = "an anonymous set"
		}
		st.p.note("set " + name + " changes without a ruleset change (timeouts or updates from the packet path): as read")
	}
	cs, ok := st.regs.read(e.SourceRegister, int(s.keyLen))
	var brs []branch
	if ok {
		brs = ev.setBranches(st.p.set, s, cs)
	} else {
		brs = all(st.p.set, bUndecided)
	}
	isVmap := e.IsDestRegSet && e.DestRegister == unix.NFT_REG_VERDICT
	isMap := e.IsDestRegSet && !isVmap
	if !isVmap && !isMap {
		if e.Invert {
			for k := range brs {
				brs[k].res = invertRes(brs[k].res)
			}
		}
		split(brs, func(sub rstate) { ev.exprs(ctx, r, i+1, sub, out) })
		return
	}
	for _, b := range brs {
		if b.set.empty() {
			continue
		}
		sub := st
		sub.p = st.p.with(b.set)
		switch {
		case b.res == bNoMatch:
			finish(sub, vNone, "")
		case b.res == bUndecided:
			sub.assumed = true
			finish(sub, vNone, "")
			if isMap {
				sub.regs.writeUnknown(e.DestRegister, int(s.dataLen))
				ev.exprs(ctx, r, i+1, sub, out)
			} else {
				finish(sub, vEffect, "verdict map on a key the evaluator does not know")
			}
		case isMap:
			sub.regs.writeKnown(e.DestRegister, b.elem.data)
			ev.exprs(ctx, r, i+1, sub, out)
		default:
			v := b.elem.verdict
			if v == nil {
				finish(sub, vEffect, "verdict map element without a verdict")
				continue
			}
			if i+1 != len(r.nodes) {
				// statements after a verdict map: the kernel stops at the verdict only if it is final
				finish(sub, vEffect, "expressions after a verdict map")
				continue
			}
			applyVerdict(sub, v, finish)
		}
	}
}

// setBranches splits the sources by the elements of a set the key cs is looked up in.
func (ev *evaluator) setBranches(set addrSet, s *set, cs []component) []branch {
	entries, catchall := s.entriesList()
	if b, k, ok := bytesOf(cs); ok {
		if !allFF(k) {
			return all(set, bUndecided)
		}
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
	// One symbolic part: it must be an address field of its own, the others known.
	fields := fieldsOf(s, cs)
	off := 0
	symIdx, symOff := -1, 0
	key := make([]byte, 0, s.keyLen)
	for i, c := range cs {
		if c.sym != nil {
			if symIdx >= 0 {
				return all(set, bUndecided)
			}
			symIdx, symOff = i, off
			key = append(key, make([]byte, c.padded)...)
		} else {
			if !allFF(c.known) {
				return all(set, bUndecided)
			}
			key = append(key, c.b...)
			key = append(key, make([]byte, c.padded-len(c.b))...)
		}
		off += c.padded
	}
	sym := cs[symIdx].sym
	key = key[:min(len(key), int(s.keyLen))]
	symField := -1
	for fi, f := range fields {
		if f[0] == symOff && f[1] == sym.n {
			symField = fi
		}
		if f[0]+f[1] > len(key) {
			return all(set, bUndecided)
		}
	}
	switch sym.kind {
	case symIif, symIifname:
		// the interface: only sets that hold nothing but lo can be decided
		loKey := loName
		if sym.kind == symIif {
			loKey = binary.NativeEndian.AppendUint32(nil, 1)
		}
		if catchall != nil {
			return all(set, bUndecided)
		}
		for idx := range entries {
			en := &entries[idx]
			lo, hi := en.lo, en.hi
			if len(fields) > 1 || symOff != 0 || len(lo) < len(loKey) {
				return all(set, bUndecided)
			}
			if !bytes.Equal(lo[:len(loKey)], loKey) || !bytes.Equal(hi[:len(loKey)], loKey) {
				return all(set, bUndecided)
			}
		}
		return all(set, bNoMatch)
	}
	alen := 4
	if ev.v6 {
		alen = 16
	}
	if sym.mask != nil || sym.n != alen || symField < 0 {
		return all(set, bUndecided)
	}
	var brs []branch
	matched := emptySet(ev.v6)
	for idx := range entries {
		en := &entries[idx]
		// the known fields must hold
		okFields := true
		if len(en.lo) < len(key) || len(en.hi) < len(key) {
			return all(set, bUndecided)
		}
		for fi, f := range fields {
			if fi == symField {
				continue
			}
			kf := key[f[0] : f[0]+f[1]]
			lo, hi := en.lo[f[0]:f[0]+f[1]], en.hi[f[0]:f[0]+f[1]]
			if bytes.Compare(kf, lo) < 0 || bytes.Compare(kf, hi) > 0 {
				okFields = false
			}
		}
		if !okFields {
			continue
		}
		if len(fields) > 1 && !en.perField {
			// a concatenation without ranges: the known fields must be equal and the address exact
			if !bytes.Equal(en.lo, en.hi) {
				return all(set, bUndecided)
			}
		}
		lo := en.lo[symOff : symOff+alen]
		hi := en.hi[symOff : symOff+alen]
		region := rangeSet(ev.v6, u128From(lo), u128From(hi))
		matched = matched.union(region)
		for _, b := range ev.regionBranches(set, sym, region) {
			if b.res == bMatch && !b.set.empty() {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: en.elem})
			} else if b.res == bUndecided {
				return all(set, bUndecided)
			}
		}
	}
	rest := ev.regionBranches(set, sym, matched.complement())
	for _, b := range rest {
		if b.res == bUndecided {
			return all(set, bUndecided)
		}
		if b.res == bMatch && !b.set.empty() {
			if catchall != nil {
				brs = append(brs, branch{set: b.set, res: bMatch, elem: catchall})
			} else {
				brs = append(brs, branch{set: b.set, res: bNoMatch})
			}
		}
	}
	if sym.kind == symDaddr {
		// every branch covers the whole set: keep one decided answer
		if len(brs) == 1 {
			return brs
		}
		return all(set, bUndecided)
	}
	return brs
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
