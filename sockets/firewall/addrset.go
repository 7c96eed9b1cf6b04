//go:build linux

package firewall

import (
	"math/bits"
	"net/netip"
	"sort"
	"strings"
)

// u128 is an address as a 128-bit number: IPv4 addresses use the low 32 bits.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func (a u128) add1() u128 {
	lo, c := bits.Add64(a.lo, 1, 0)
	return u128{a.hi + c, lo}
}

func (a u128) sub1() u128 {
	lo, b := bits.Sub64(a.lo, 1, 0)
	return u128{a.hi - b, lo}
}

func (a u128) and(b u128) u128 { return u128{a.hi & b.hi, a.lo & b.lo} }
func (a u128) or(b u128) u128  { return u128{a.hi | b.hi, a.lo | b.lo} }
func (a u128) not() u128       { return u128{^a.hi, ^a.lo} }

// bytes is the big-endian form of a in n bytes (4 or 16).
func (a u128) bytes(n int) []byte {
	b := make([]byte, 16)
	for i := 0; i < 8; i++ {
		b[i] = byte(a.hi >> (56 - 8*i))
		b[8+i] = byte(a.lo >> (56 - 8*i))
	}
	return b[16-n:]
}

// u128From reads a big-endian number of up to 16 bytes.
func u128From(b []byte) u128 {
	var full [16]byte
	copy(full[16-len(b):], b)
	var a u128
	for i := 0; i < 8; i++ {
		a.hi = a.hi<<8 | uint64(full[i])
		a.lo = a.lo<<8 | uint64(full[8+i])
	}
	return a
}

// hostMask is the mask of the host part of a prefix of length p in an address of nbits bits.
func hostMask(nbits, p int) u128 {
	h := nbits - p // host bits
	switch {
	case h <= 0:
		return u128{}
	case h >= 128:
		return u128{^uint64(0), ^uint64(0)}
	case h >= 64:
		return u128{^uint64(0) >> (128 - h), ^uint64(0)}
	default:
		return u128{0, ^uint64(0) >> (64 - h)}
	}
}

type addrRange struct{ lo, hi u128 }

// addrSet is a set of addresses of one family, as sorted, disjoint, non-adjacent ranges.
type addrSet struct {
	v6 bool
	r  []addrRange
}

func (s addrSet) nbits() int {
	if s.v6 {
		return 128
	}
	return 32
}

func fullSet(v6 bool) addrSet {
	hi := u128{0, 0xffffffff}
	if v6 {
		hi = u128{^uint64(0), ^uint64(0)}
	}
	return addrSet{v6: v6, r: []addrRange{{u128{}, hi}}}
}

func emptySet(v6 bool) addrSet { return addrSet{v6: v6} }

func rangeSet(v6 bool, lo, hi u128) addrSet {
	if lo.cmp(hi) > 0 {
		return emptySet(v6)
	}
	return addrSet{v6: v6, r: []addrRange{{lo, hi}}}
}

func prefixSet(v6 bool, base u128, p int) addrSet {
	nb := 32
	if v6 {
		nb = 128
	}
	hm := hostMask(nb, p)
	lo := base.and(hm.not())
	return rangeSet(v6, lo, lo.or(hm))
}

func (s addrSet) empty() bool { return len(s.r) == 0 }

func (s addrSet) contains(a u128) bool {
	i := sort.Search(len(s.r), func(i int) bool { return s.r[i].hi.cmp(a) >= 0 })
	return i < len(s.r) && s.r[i].lo.cmp(a) <= 0
}

// normalize sorts and merges overlapping or adjacent ranges.
func normalize(v6 bool, rs []addrRange) addrSet {
	sort.Slice(rs, func(i, j int) bool { return rs[i].lo.cmp(rs[j].lo) < 0 })
	out := make([]addrRange, 0, len(rs))
	max := fullSet(v6).r[0].hi
	for _, x := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.hi.cmp(max) == 0 || x.lo.cmp(last.hi.add1()) <= 0 {
				if x.hi.cmp(last.hi) > 0 {
					last.hi = x.hi
				}
				continue
			}
		}
		out = append(out, x)
	}
	return addrSet{v6: v6, r: out}
}

func (s addrSet) union(t addrSet) addrSet {
	rs := make([]addrRange, 0, len(s.r)+len(t.r))
	rs = append(rs, s.r...)
	rs = append(rs, t.r...)
	return normalize(s.v6, rs)
}

func (s addrSet) intersect(t addrSet) addrSet {
	var out []addrRange
	i, j := 0, 0
	for i < len(s.r) && j < len(t.r) {
		a, b := s.r[i], t.r[j]
		lo, hi := a.lo, a.hi
		if b.lo.cmp(lo) > 0 {
			lo = b.lo
		}
		if b.hi.cmp(hi) < 0 {
			hi = b.hi
		}
		if lo.cmp(hi) <= 0 {
			out = append(out, addrRange{lo, hi})
		}
		if a.hi.cmp(b.hi) < 0 {
			i++
		} else {
			j++
		}
	}
	return addrSet{v6: s.v6, r: out}
}

func (s addrSet) complement() addrSet {
	full := fullSet(s.v6).r[0]
	var out []addrRange
	next := full.lo
	done := false
	for _, x := range s.r {
		if x.lo.cmp(next) > 0 {
			out = append(out, addrRange{next, x.lo.sub1()})
		}
		if x.hi.cmp(full.hi) == 0 {
			done = true
			break
		}
		next = x.hi.add1()
	}
	if !done {
		out = append(out, addrRange{next, full.hi})
	}
	return addrSet{v6: s.v6, r: out}
}

func (s addrSet) minus(t addrSet) addrSet { return s.intersect(t.complement()) }

// size is the number of addresses, as a float (large sets only need comparing).
func (s addrSet) size() float64 {
	var n float64
	for _, x := range s.r {
		d := u128{x.hi.hi - x.lo.hi, 0}
		lo, b := bits.Sub64(x.hi.lo, x.lo.lo, 0)
		d.hi -= b
		d.lo = lo
		n += float64(d.hi)*18446744073709551616.0 + float64(d.lo) + 1
	}
	return n
}

// prefixes is the shortest list of prefixes covering exactly the set.
func (s addrSet) prefixes() []netip.Prefix {
	nb := s.nbits()
	var out []netip.Prefix
	for _, x := range s.r {
		lo := x.lo
		for {
			// the largest prefix starting at lo that stays within hi
			p := nb
			for p > 0 {
				hm := hostMask(nb, p-1)
				if lo.and(hm).cmp(u128{}) != 0 || lo.or(hm).cmp(x.hi) > 0 {
					break
				}
				p--
			}
			out = append(out, netip.PrefixFrom(toAddr(lo, s.v6), p))
			end := lo.or(hostMask(nb, p))
			if end.cmp(x.hi) >= 0 {
				break
			}
			lo = end.add1()
		}
	}
	return out
}

func (s addrSet) String() string {
	ps := s.prefixes()
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func toAddr(a u128, v6 bool) netip.Addr {
	if v6 {
		return netip.AddrFrom16([16]byte(a.bytes(16)))
	}
	return netip.AddrFrom4([4]byte(a.bytes(4)))
}

func fromAddr(a netip.Addr) u128 { return u128From(a.AsSlice()) }

// outsideSources is every source address a packet from outside can carry: all but loopback.
func outsideSources(v6 bool) addrSet {
	if v6 {
		return fullSet(true).minus(prefixSet(true, fromAddr(netip.IPv6Loopback()), 128))
	}
	return fullSet(false).minus(prefixSet(false, u128{0, 0x7f000000}, 8))
}
