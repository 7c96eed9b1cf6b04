package assess

import "strings"

// maxShared bounds the findings the assessor shares between verdicts.
const maxShared = 4096

// intern hands back one slice for findings that read the same: the 20,000
// connections of one program from /tmp all carry the same sentences, and a
// monitor keeps a verdict per connection. Only an Assessor that remembers
// (the monitor, watch) shares; a one-shot assessment keeps its own.
func (as *Assessor) intern(f []Finding) []Finding {
	if len(f) == 0 || as.memory == nil {
		return f
	}
	var b strings.Builder
	for _, x := range f {
		b.WriteByte(byte(x.Severity))
		b.WriteString(x.Code)
		b.WriteByte(0)
		b.WriteString(x.Text)
		b.WriteByte(0)
		b.WriteString(x.Remedy)
		b.WriteByte(0)
	}
	key := b.String()
	if shared, ok := as.shared[key]; ok {
		return shared
	}
	if as.shared == nil || len(as.shared) >= maxShared {
		as.shared = map[string][]Finding{} // forget: what is still said comes back at once
	}
	as.shared[key] = f
	return f
}
