package assess

import (
	"hash/maphash"
	"slices"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
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

// outcomeKey is an outcome as a map key: its findings by the interned
// slice's first element (findings that read the same are one slice), its
// pointers by identity.
type outcomeKey struct {
	service   *ServiceInfo
	findings  *Finding
	nfindings int
	conns     int32
	scanned   int32
	risk      Risk
	flooded   bool
	health    sockets.Health
	base      baseline.Judgement
	role      Role
	published *sockets.Published
}

// sharedOutcome is the outcome already made that says what o says (nil
// when none is), with o's key, and whether o may be shared at all: only
// by an Assessor that remembers, as findings are, and only without a
// firewall verdict (a listener's: few, and each its own pointer, so the
// key leaves it out).
func (as *Assessor) sharedOutcome(o *Outcome) (shared *Outcome, k outcomeKey, shareable bool) {
	if as.memory == nil || o.fw != nil {
		return nil, k, false
	}
	k = outcomeKey{service: o.Service, nfindings: len(o.Findings), conns: o.Conns, scanned: o.Scanned, risk: o.Risk,
		flooded: o.Flooded, health: o.Health, base: o.Baseline, role: o.Role, published: o.Published}
	if len(o.Findings) > 0 {
		k.findings = &o.Findings[0]
	}
	return as.outcomes[k], k, true
}

// keepOutcome remembers o, under k, for the verdicts that will say the same.
func (as *Assessor) keepOutcome(k outcomeKey, o *Outcome) {
	if as.outcomes == nil || len(as.outcomes) >= maxShared {
		as.outcomes = map[outcomeKey]*Outcome{} // forget: what is still said comes back at once
	}
	as.outcomes[k] = o
}
