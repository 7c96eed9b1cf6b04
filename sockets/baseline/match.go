package baseline

import (
	"path"

	"github.com/portwatch/portwatch/sockets"
)

// Status is a listener's standing against the baseline.
type Status uint8

// The statuses. Words, never only colours: they are shown as they are.
const (
	NotCompared Status = iota // no baseline, or not a listener
	Expected                  // the baseline names it
	Unexpected                // nothing in the baseline names its port
	Changed                   // its port is expected, with another program or user
	Missing                   // a baseline entry no listener answers
)

var statusWords = [...]string{"", "expected", "UNEXPECTED", "CHANGED", "MISSING"}

// String is the status's word: UNEXPECTED, CHANGED and MISSING are loud.
func (s Status) String() string { return statusWords[s] }

// MarshalText writes the word in JSON, in lower case.
func (s Status) MarshalText() ([]byte, error) {
	return []byte(map[Status]string{Expected: "expected", Unexpected: "unexpected", Changed: "changed", Missing: "missing"}[s]), nil
}

// Judgement is a listener's status and the entry that decided it.
type Judgement struct {
	Status Status
	Entry  *Entry // the matching entry (Expected), or the one on its port (Changed)
}

// Check judges one listener.
func (b *Baseline) Check(s *sockets.Socket) Judgement {
	var onPort *Entry
	for i := range b.Entries {
		e := &b.Entries[i]
		if !e.placeMatches(s) {
			continue
		}
		if e.ownerMatches(s) {
			return Judgement{Expected, e}
		}
		if onPort == nil {
			onPort = e
		}
	}
	if onPort != nil {
		return Judgement{Changed, onPort}
	}
	return Judgement{Unexpected, nil}
}

// Missing lists the entries that no listener answers, in file order.
func (b *Baseline) Missing(listeners []*sockets.Socket) []*Entry {
	var out []*Entry
	for i := range b.Entries {
		e := &b.Entries[i]
		found := false
		for _, s := range listeners {
			if e.placeMatches(s) && e.ownerMatches(s) {
				found = true
				break
			}
		}
		if !found {
			out = append(out, e)
		}
	}
	return out
}

// placeMatches: namespace, protocol, address and port.
func (e *Entry) placeMatches(s *sockets.Socket) bool {
	if (s.Proto != e.Proto && !e.anyProto) || s.LPort < e.Low || s.LPort > e.High {
		return false
	}
	if ns := s.Netns; !e.anyNetns && e.Netns != ns && (ns != "" || e.Netns != sockets.HostNetns) {
		return false // a socket with no label is the host's
	}
	switch e.Address {
	case Any:
		return true
	case AllInterfaces:
		return s.Local.IsUnspecified()
	case Loopback:
		return s.Local.IsLoopback()
	}
	return s.Local.Unmap() == e.Addr
}

// ownerMatches: the program and the user, against every owner (a pre-fork
// server's workers run as another user than its master). Where no owner
// can be seen (not root), the place decides: the program cannot be checked.
func (e *Entry) ownerMatches(s *sockets.Socket) bool {
	if len(s.Owners) == 0 {
		return e.User == Any || s.User == "" || e.User == s.User
	}
	for _, p := range s.Owners {
		if programMatches(e.Program, p) && (e.User == Any || e.User == p.User) {
			return true
		}
	}
	return false
}

func programMatches(want string, p *sockets.Process) bool {
	switch {
	case want == Any:
		return true
	case path.IsAbs(want):
		return p.Exe == want
	}
	return want == p.Name || (p.Exe != "" && want == path.Base(p.Exe))
}
