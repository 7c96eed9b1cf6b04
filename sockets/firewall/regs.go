//go:build linux

package firewall

import (
	"bytes"
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The register file: nftables' sixteen 32-bit registers (NFT_REG_1..4 are four of them each).
// A cell holds four known-or-unknown bytes, or one word of a symbolic value: a field of the packet
// that the evaluator follows instead of fixing (the source address, a wildcard listener's
// destination address, the input interface).

type symKind int

const (
	symSaddr symKind = iota + 1
	symDaddr
	symIifname
	symIif
)

type symVal struct {
	kind symKind
	n    int    // bytes
	mask []byte // applied bitwise mask, n bytes; nil: all ones
}

type cell struct {
	b, known [4]byte // value and known bits
	sym      *symVal
	word     int
}

type regs [16]cell

// regSlot maps an nftables register number to its first 32-bit cell.
func regSlot(r uint32) int {
	switch {
	case r >= unix.NFT_REG_1 && r <= unix.NFT_REG_4:
		return int(r-unix.NFT_REG_1) * 4
	case r >= unix.NFT_REG32_00 && r <= unix.NFT_REG32_15:
		return int(r - unix.NFT_REG32_00)
	}
	return -1
}

func words(n int) int { return (n + 3) / 4 }

// writeBytes stores n bytes (zero padded to a whole word, as the kernel does) with their known bits.
func (rg *regs) writeBytes(r uint32, b, known []byte) {
	s := regSlot(r)
	if s < 0 {
		return
	}
	for w := 0; w < words(len(b)) && s+w < len(rg); w++ {
		var c cell
		for i := 0; i < 4; i++ {
			j := 4*w + i
			if j < len(b) {
				c.b[i] = b[j]
				c.known[i] = known[j]
			} else {
				c.known[i] = 0xff
			}
		}
		rg[s+w] = c
	}
}

func (rg *regs) writeKnown(r uint32, b []byte) {
	rg.writeBytes(r, b, bytes.Repeat([]byte{0xff}, len(b)))
}

// writeUnknown marks n bytes unknown; n <= 0 marks a whole 16-byte register (an expression whose
// output length is not modelled).
func (rg *regs) writeUnknown(r uint32, n int) {
	if n <= 0 {
		n = 16
	}
	rg.writeBytes(r, make([]byte, n), make([]byte, n))
}

func (rg *regs) writeSym(r uint32, v *symVal) {
	s := regSlot(r)
	if s < 0 {
		return
	}
	for w := 0; w < words(v.n) && s+w < len(rg); w++ {
		rg[s+w] = cell{sym: v, word: w}
	}
}

// component is a part of a register read: known-or-unknown bytes, or a symbolic value.
type component struct {
	sym       *symVal
	b, known  []byte
	size      int // bytes of the read it covers
	padded    int // bytes it takes in the registers (and in a set key)
	truncated bool
}

// read reads n bytes from register r, as components. ok is false when the read does not line up
// with what was written (then the caller treats it as unknown).
func (rg *regs) read(r uint32, n int) ([]component, bool) {
	s := regSlot(r)
	if s < 0 || s+words(n) > len(rg) {
		return nil, false
	}
	var out []component
	left := n
	for w := s; left > 0; {
		c := rg[w]
		if c.sym != nil {
			if c.word != 0 {
				return nil, false
			}
			size := c.sym.n
			padded := 4 * words(size)
			truncated := false
			if left < size {
				size, truncated = left, true
			}
			for i := 1; i < words(size); i++ {
				if w+i >= len(rg) || rg[w+i].sym != c.sym || rg[w+i].word != i {
					return nil, false
				}
			}
			out = append(out, component{sym: c.sym, size: size, padded: padded, truncated: truncated})
			w += words(size)
			left -= min(left, padded)
			continue
		}
		take := min(4, left)
		out = append(out, component{b: append([]byte(nil), c.b[:take]...), known: append([]byte(nil), c.known[:take]...), size: take, padded: 4})
		w++
		left -= take
	}
	return out, true
}

// bytesOf joins components that are all plain bytes.
func bytesOf(cs []component) (b, known []byte, ok bool) {
	for _, c := range cs {
		if c.sym != nil {
			return nil, nil, false
		}
		b = append(b, c.b...)
		known = append(known, c.known...)
	}
	return b, known, true
}

var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// known reads n bytes that hold no symbolic value into b and k, without allocating: the fast path
// of most comparisons.
func (rg *regs) known(r uint32, n int, b, k *[64]byte) bool {
	s := regSlot(r)
	if s < 0 || n > len(b) || s+words(n) > len(rg) {
		return false
	}
	for i := 0; i < n; i++ {
		c := &rg[s+i/4]
		if c.sym != nil {
			return false
		}
		b[i], k[i] = c.b[i%4], c.known[i%4]
	}
	return true
}
