package assess

import (
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
)

// A first poll of many connections is judged on every core (judgeStale):
// each verdict reads exactly as one judged in line, one connection after
// another, and findings shared in line are shared alike. Run with -race: judging
// on several goroutines at once writes nothing shared.
func TestManyNewConnectionsAreJudgedAsInLine(t *testing.T) {
	kb := testKnowledge(t)
	owners := [][]*sockets.Process{
		{{PID: 10, Name: "nginx", Exe: "/usr/sbin/nginx", User: "www-data", UID: 33}},
		{{PID: 20, Name: "kworkerd", Exe: "/tmp/.x/kworkerd", ExeDeleted: true, User: "alice", UID: 1000}},
		{{PID: 30, Name: "bash", Exe: "/usr/bin/bash", User: "root"}, {PID: 31, Name: "nc", Exe: "/usr/bin/nc", User: "alice", UID: 1000}},
		nil,
	}
	socks := []sockets.Socket{sock(sockets.TCP, "0.0.0.0", 80, "0.0.0.0", 0, sockets.StateListen, 1)}
	for i := range parallelJudge + 4000 {
		s := sock(sockets.TCP, "10.0.0.5", []uint16{80, 443, 22, 31337}[i%4],
			netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}).String(), uint16(20000+i%40000), []string{sockets.StateEstablished, "CLOSE_WAIT"}[i%2], uint64(100+i))
		s.Owners = owners[i%len(owners)]
		socks = append(socks, s)
	}
	sockets.SetDirections(socks)
	judged := func() *Assessment {
		return NewAssessor(kb).Assess(&sockets.Snapshot{Sockets: slices.Clone(socks), Taken: time.Unix(1_000_000, 0)})
	}
	many := judged()
	prev := runtime.GOMAXPROCS(1) // in line: judgeStale declines with one core
	inLine := judged()
	runtime.GOMAXPROCS(prev)
	if prev < 2 {
		t.Skip("one core: nothing is judged in parallel")
	}
	firstOf := map[*Finding]int{} // in line, a shared slice's first verdict
	for i := range socks {
		a, b := many.Verdicts[i], inLine.Verdicts[i]
		if a.Risk != b.Risk || a.Service != b.Service || a.Flooded != b.Flooded || a.Role != b.Role || !slices.Equal(a.Findings, b.Findings) {
			t.Fatalf("socket %d: judged in parallel %+v, in line %+v", i, a, b)
		}
		if len(b.Findings) == 0 {
			continue
		}
		if f, ok := firstOf[&b.Findings[0]]; ok && &a.Findings[0] != &many.Verdicts[f].Findings[0] {
			t.Fatalf("socket %d shares socket %d's findings in line, not in parallel", i, f)
		} else if !ok {
			firstOf[&b.Findings[0]] = i
		}
	}
}
