package assess

import (
	"hash/maphash"
	"slices"
)

// maxShared bounds the findings the assessor shares between verdicts.
const maxShared = 4096

// internSeed hashes findings for intern; one per process is enough.
var internSeed = maphash.MakeSeed()

// intern hands back one slice for findings that read the same: the 20,000
// connections of one program from /tmp all carry the same sentences, and a
// monitor keeps a verdict per connection. Only an Assessor that remembers
// (the monitor, watch) shares; a one-shot assessment keeps its own. The
// findings are found by a hash of what they say and compared whole, so
// no key is built for them (at 200,000 connections, a string a judgement
// was a tenth of a first poll); two that hash alike but differ are not
// shared, the later one replacing the other.
func (as *Assessor) intern(f []Finding) []Finding {
	if len(f) == 0 || as.memory == nil {
		return f
	}
	var h maphash.Hash
	h.SetSeed(internSeed)
	for _, x := range f {
		h.WriteByte(byte(x.Severity))
		h.WriteString(x.Code)
		h.WriteByte(0)
		h.WriteString(x.Text)
		h.WriteByte(0)
		h.WriteString(x.Remedy)
		h.WriteByte(0)
	}
	key := h.Sum64()
	if shared, ok := as.shared[key]; ok && slices.Equal(shared, f) {
		return shared
	}
	if as.shared == nil || len(as.shared) >= maxShared {
		as.shared = map[uint64][]Finding{} // forget: what is still said comes back at once
	}
	as.shared[key] = f
	return f
}
