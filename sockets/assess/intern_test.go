package assess

import (
	"testing"

	"github.com/portwatch/portwatch/sockets"
)

// Connections of one program that say the same share one slice of
// findings in a monitor; a one-shot assessment keeps its own.
func TestFindingsAreSharedBetweenVerdictsThatSayTheSame(t *testing.T) {
	dropper := proc(9, "/tmp/.x/load", "load", "root", 0)
	var socks []sockets.Socket
	for i := range 3 {
		s := sock(sockets.TCP, "10.0.0.1", uint16(40000+i), "10.0.0.2", 443, sockets.StateEstablished, uint64(10+i))
		s.Owners, s.OwnerStatus = []*sockets.Process{dropper}, sockets.OwnerKnown
		socks = append(socks, s)
	}
	sockets.SetDirections(socks)
	a := NewAssessor(testKnowledge(t)).Assess(&sockets.Snapshot{Sockets: socks})
	f0, f2 := a.Verdicts[0].Findings, a.Verdicts[2].Findings
	if len(f0) == 0 || &f0[0] != &f2[0] {
		t.Errorf("the same findings are held twice: %v", f0)
	}
	b := Assess(&sockets.Snapshot{Sockets: socks}, testKnowledge(t))
	if &b.Verdicts[0].Findings[0] == &b.Verdicts[2].Findings[0] {
		t.Error("a one-shot assessment shares its findings")
	}
}
