package assess

import (
	"net/netip"
	"slices"

	"github.com/portwatch/portwatch/sockets"
)

// texts keeps the sentences that many sockets share, so a first poll of
// 20,000 connections of one program writes each once, not once per
// connection (issue 24: fmt.Sprintf in the findings and their remedies
// was half of a first poll's 20 MB). Each is found by what decides its
// words exactly: a process (immutable once made: collection hands a
// changed one on as a copy), a finding code, a remote address and a count
// (a flood's, a scan's).
// An Assessor keeps one between polls; each map is forgotten when it holds
// maxShared sentences, and what is still said comes back at once.
type texts struct {
	owned map[ownedKey][]Finding      // the findings a connection's one owner brings (processFindings, provenanceFindings)
	stop  map[stopKey]string          // stopWords
	flood map[floodKey]string         // a flooding connection's sentence
	scan  map[floodKey]string         // a scanner's connection's sentence
	exec  map[*sockets.Process]string // execWords, which splits the command line
	// written counts the sentences written (not found): what a test of
	// the sharing reads.
	written int
}

type ownedKey struct {
	p     *sockets.Process
	grave bool // the socket is a listener, or on the process's fds 0-2
}

type stopKey struct {
	p     *sockets.Process
	shell bool // the code is a shell's on a connection: never the unit's stop
}

// floodKey is a remote address and its count: a flood's or a scan's.
type floodKey struct {
	remote netip.Addr
	n      int
}

// shared is m's value for k, written by write the first time (and again
// once m, full at maxShared, was forgotten).
func shared[K comparable, V any](t *texts, m *map[K]V, k K, write func() V) V {
	if v, ok := (*m)[k]; ok {
		return v
	}
	v := write()
	if *m == nil || len(*m) >= maxShared {
		*m = map[K]V{}
	}
	(*m)[k] = v
	t.written++
	return v
}

// ownerFindings adds what a socket's owners bring: each one's process
// findings, then the provenance of their files. A socket with one owner
// (every connection of a program, nearly) gets them from t.
func (t *texts) ownerFindings(s *sockets.Socket, info *ServiceInfo, f *findings) {
	if t == nil || len(s.Owners) != 1 {
		for _, p := range s.Owners {
			processFindings(s, p, info, f)
		}
		provenanceFindings(s, f)
		return
	}
	k := ownedKey{p: s.Owners[0], grave: s.IsListening() || len(s.Owners[0].StdioOn(s.Inode)) > 0}
	said := shared(t, &t.owned, k, func() []Finding {
		var own findings
		processFindings(s, k.p, info, &own)
		provenanceFindings(s, &own)
		return slices.Clip(own.list)
	})
	f.list = append(f.list, said...)
}

// stopWords is stopWords(s, code), written once per process and kind.
func (t *texts) stopWords(s *sockets.Socket, code string) string {
	p := s.Process()
	if t == nil || p == nil {
		return stopWords(s, code)
	}
	k := stopKey{p: p, shell: code == CodeReverseShell || code == CodeShellConnection}
	return shared(t, &t.stop, k, func() string { return stopWords(s, code) })
}

// floodText is a flooding connection's sentence.
func (t *texts) floodText(remote netip.Addr, n int) string {
	if t == nil {
		return floodSentence(remote, n)
	}
	return shared(t, &t.flood, floodKey{remote, n}, func() string { return floodSentence(remote, n) })
}

// scanText is a scanner's connection's sentence.
func (t *texts) scanText(remote netip.Addr, n int) string {
	if t == nil {
		return scanSentence(remote, n)
	}
	return shared(t, &t.scan, floodKey{remote, n}, func() string { return scanSentence(remote, n) })
}

// execWords is execWords(p), its command line split once per process.
func (t *texts) execWords(p *sockets.Process) string {
	if t == nil {
		return execWords(p)
	}
	return shared(t, &t.exec, p, func() string { return execWords(p) })
}
