package assess

import (
	"slices"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// judgedWith is a socket's findings with their remedies, judged against
// the counts of snap with the sentences of t (nil: each written afresh).
func judgedWith(as *Assessor, snap *sockets.Snapshot, s *sockets.Socket, t *texts) []Finding {
	c := countSnapshot(snap)
	c.texts, c.scanners = t, scanMemory{}.observe(snap, snap.Taken)
	info := as.kb.sharedForSocket(s)
	f := judgeFindings(s, info, reach.Verdict{}, c, as.kb.roleOf(s))
	addRemedies(s, info, reach.Verdict{}, f, t)
	return f
}

// The sentences kept in texts are those written afresh, for every kind
// of socket that shares them: connections of one program from /tmp in and
// out, a flood, a scan, a shell whose fds 0-2 are its connection (graver
// than its neighbours), a socket of two owners and the listeners.
func TestSharedSentencesReadAsWrittenAfresh(t *testing.T) {
	snap := firstPollSnapshot(30)
	// A shell in a unit, from /tmp, its file not its package's: its
	// remedies differ by finding (a shell's is never the unit's stop) and
	// its provenance's risk by socket (graver on its fds 0-2).
	shell := &sockets.Process{PID: 600, Name: "sh", Exe: "/tmp/pw-bench/sh", Cmdline: "sh -i", User: "root", Unit: "evil.service",
		Identity: &sockets.Identity{Proof: sockets.ProofModified, Package: "dash", Reason: "its md5 differs from dash's"}, Stdio: [3]uint64{7001, 7001, 7001}}
	for _, inode := range []uint64{7001, 7002} { // the same process: on fds 0-2, then not
		s := sock(sockets.TCP, "10.0.0.5", 40001, "10.0.0.9", uint16(inode), sockets.StateEstablished, inode)
		s.Owners, s.OwnerStatus = []*sockets.Process{shell}, sockets.OwnerKnown
		snap.Sockets = append(snap.Sockets, s)
	}
	// A scanner: one address reaching ScanThreshold listeners.
	for p := range uint16(ScanThreshold) {
		l := sock(sockets.TCP, "0.0.0.0", 9000+p, "0.0.0.0", 0, sockets.StateListen, uint64(8000+p))
		c := sock(sockets.TCP, "10.0.0.5", 9000+p, "10.0.0.66", 30000+p, sockets.StateEstablished, uint64(8100+p))
		l.Owners, c.Owners = snap.Sockets[0].Owners, snap.Sockets[0].Owners
		snap.Sockets = append(snap.Sockets, l, c)
	}
	two := snap.Sockets[1]
	two.Inode, two.Owners = 7003, []*sockets.Process{snap.Sockets[1].Owners[0], shell}
	snap.Sockets = append(snap.Sockets, two)
	sockets.SetDirections(snap.Sockets)
	as := NewAssessor(testKnowledge(t))
	shared := &texts{}
	said := map[string]bool{}
	for round := range 2 { // written, then read from shared
		for i := range snap.Sockets {
			s := &snap.Sockets[i]
			got, want := judgedWith(as, snap, s, shared), judgedWith(as, snap, s, nil)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d, %s: findings\n%v\nwith shared sentences, written afresh\n%v", round, s.Key(), got, want)
			}
			for _, f := range got {
				said[f.Code] = true
			}
		}
	}
	for _, code := range []string{CodeFlood, CodePortScan, CodeReverseShell, CodeWorldWritableExe, CodeModifiedExe} {
		if !said[code] {
			t.Errorf("no socket of the scene says %s", code)
		}
	}
	if shared.written > 16 {
		t.Errorf("%d sockets of four programs: %d sentences written", len(snap.Sockets), shared.written)
	}
}

// A first poll writes each shared sentence once, not once per connection:
// its allocations a socket stay few (issue 24: 17 a socket, 20 MB at
// 10,000 connections of a program from /tmp, most of it fmt.Sprintf; 4.5
// with its command line split for every connection).
func TestFirstPollWritesSentencesOnce(t *testing.T) {
	kb := NewKnowledge("/nonexistent", "/nonexistent")
	snap := firstPollSnapshot(5000)
	var as *Assessor
	allocs := testing.AllocsPerRun(3, func() {
		as = NewAssessor(kb)
		as.Assess(snap)
	})
	perSocket := allocs / float64(len(snap.Sockets))
	t.Logf("a first poll of %d sockets: %.0f allocations, %.1f a socket; %d sentences written", len(snap.Sockets), allocs, perSocket, as.texts.written)
	if perSocket > 4 {
		t.Errorf("a first poll allocates %.1f times a socket, want at most 4", perSocket)
	}
	if as.texts.written > 8 {
		t.Errorf("a first poll of two processes of one program: %d sentences written", as.texts.written)
	}
}
