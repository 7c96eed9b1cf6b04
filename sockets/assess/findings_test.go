package assess

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/collect"
)

func sock(proto sockets.Proto, local string, lport uint16, remote string, rport uint16, state string, inode uint64) sockets.Socket {
	return sockets.Socket{Proto: proto, Family: 4, Local: netip.MustParseAddr(local), LPort: lport,
		Remote: netip.MustParseAddr(remote), RPort: rport, State: state, Inode: inode}
}

func findingWith(fs []Finding, risk Risk, code, text string) bool {
	for _, f := range fs {
		if f.Severity == risk && f.Code == code && strings.Contains(f.Text, text) {
			return true
		}
	}
	return false
}

// judged assesses sockets as a snapshot of their own, directions set.
func judged(kb *Knowledge, socks ...sockets.Socket) *Assessment {
	sockets.SetDirections(socks)
	return Assess(&sockets.Snapshot{Sockets: socks}, kb)
}

// Findings built from real listeners where the situation can be made real:
// the test finds its own two listeners in a live snapshot.
func TestFindingsForRealListeners(t *testing.T) {
	kb := testKnowledge(t)
	lo, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer lo.Close()
	all, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	defer all.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	snap, err := collect.NewLive().Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := Assess(snap, kb)
	verdictOf := func(ln net.Listener) *Verdict {
		port := uint16(ln.Addr().(*net.TCPAddr).Port)
		for _, v := range a.Verdicts {
			if v.Socket.IsListening() && v.Socket.LPort == port && v.Socket.Proto == sockets.TCP {
				return v
			}
		}
		t.Fatalf("no verdict for our listener on %d", port)
		return nil
	}
	if v := verdictOf(lo); !findingWith(v.Findings, RiskInfo, CodeLoopbackOnly, "Loopback only") {
		t.Errorf("loopback listener findings: %v", v.Findings)
	}
	f := verdictOf(all).Findings
	if !findingWith(f, RiskHigh, CodeUnknownListener, "all interfaces") && !findingWith(f, RiskLow, CodeAllInterfaces, "all interfaces") {
		t.Errorf("wildcard listener findings: %v", f)
	}
	for i := 1; i < len(f); i++ {
		if f[i].Severity > f[i-1].Severity {
			t.Errorf("findings not worst first: %v", f)
		}
	}
}

func TestFindingsInContext(t *testing.T) {
	kb := testKnowledge(t)
	root := &sockets.Process{PID: 10, Name: "redis-server", User: "root", UID: 0, Exe: "/usr/bin/redis-server"}
	redisUser := &sockets.Process{PID: 11, Name: "redis-server", User: "redis", UID: 100, Exe: "/usr/bin/redis-server"}
	dropper := &sockets.Process{PID: 12, Name: "x", User: "www-data", UID: 33, Exe: "/tmp/.x/x"}
	ghost := &sockets.Process{PID: 13, Name: "srv", User: "app", UID: 1000, Exe: "/opt/srv", ExeDeleted: true}
	app := &sockets.Process{PID: 14, Name: "app", User: "app", UID: 1000, Exe: "/opt/app/bin/app"}

	listener := func(addr string, port uint16, owner *sockets.Process) sockets.Socket {
		s := sock(sockets.TCP, addr, port, "0.0.0.0", 0, sockets.StateListen, uint64(port))
		if owner != nil {
			s.Owners, s.OwnerStatus = []*sockets.Process{owner}, sockets.OwnerKnown
		}
		return s
	}
	hidden := listener("0.0.0.0", 8443, nil)
	hidden.OwnerStatus, hidden.UID = sockets.OwnerHidden, 1000
	outside := listener("127.0.0.1", 2024, nil)
	outside.OwnerStatus = sockets.OwnerOutside
	telnetConn := sock(sockets.TCP, "10.0.0.1", 40000, "10.0.0.2", 23, sockets.StateEstablished, 99)

	cases := []struct {
		name       string
		s          sockets.Socket
		risk       Risk
		code, text string
	}{
		{"database on all interfaces", listener("0.0.0.0", 6379, redisUser), RiskHigh, CodeDBExposed, "exposed on all interfaces"},
		{"admin service on all interfaces", listener("0.0.0.0", 5900, app), RiskHigh, CodeAdminExposed, "An administration service (vnc)"},
		{"database on loopback is fine", listener("127.0.0.1", 6379, redisUser), RiskInfo, CodeLoopbackOnly, "Loopback only"},
		{"cleartext listener", listener("0.0.0.0", 21, app), RiskMedium, CodeCleartext, "cleartext"},
		{"cleartext connection", telnetConn, RiskMedium, CodeCleartext, "cleartext"},
		{"unknown service", listener("127.0.0.1", 5001, app), RiskMedium, CodeUnknownListener, "backdoor"},
		{"unknown on all interfaces", listener("0.0.0.0", 5001, app), RiskHigh, CodeUnknownListener, "unknown service"},
		{"hidden owner", hidden, RiskMedium, CodeOwnerHidden, "run portwatch as root"},
		{"owner outside", outside, RiskLow, CodeOwnerOutside, "outside this pid namespace"},
		{"runs from /tmp", listener("127.0.0.1", 8080, dropper), RiskHigh, CodeWorldWritableExe, "world-writable"},
		{"deleted binary", listener("127.0.0.1", 8080, ghost), RiskHigh, CodeDeletedExe, "deleted executable"},
		{"root on a high port", listener("127.0.0.1", 8080, root), RiskLow, CodeRootHighPort, "root on unprivileged port"},
		{"unusual user", listener("127.0.0.1", 6379, root), RiskLow, CodeUnusualUser, `usually runs as redis; here it runs as "root"`},
		{"backdoor port", listener("0.0.0.0", 31337, app), RiskHigh, CodeBackdoorPort, "backdoors"},
	}
	for _, c := range cases {
		got := judged(kb, c.s).Verdicts[0].Findings
		if !findingWith(got, c.risk, c.code, c.text) {
			t.Errorf("%s: want a %s %s finding with %q, got %v", c.name, c.risk, c.code, c.text, got)
		}
	}
	// Things that must not be said.
	got := judged(kb, listener("127.0.0.1", 6379, redisUser)).Verdicts[0].Findings
	for _, f := range got {
		if f.Code == CodeUnusualUser || f.Code == CodeRootHighPort {
			t.Errorf("redis as redis on loopback: %v", got)
		}
	}
}

func TestFloodFinding(t *testing.T) {
	kb := testKnowledge(t)
	socks := []sockets.Socket{sock(sockets.TCP, "0.0.0.0", 80, "0.0.0.0", 0, sockets.StateListen, 1)}
	for i := 0; i < FloodThreshold; i++ {
		socks = append(socks, sock(sockets.TCP, "10.0.0.1", 80, "10.9.9.9", uint16(40000+i), sockets.StateEstablished, uint64(100+i)))
	}
	socks = append(socks, sock(sockets.TCP, "10.0.0.1", 80, "10.8.8.8", 50000, sockets.StateEstablished, 999))
	a := judged(kb, socks...)
	l := a.Verdicts[0]
	if l.Conns != FloodThreshold+1 {
		t.Errorf("listener has %d connections, want %d", l.Conns, FloodThreshold+1)
	}
	if f := l.Findings; !findingWith(f, RiskMedium, CodeFlood, "10.9.9.9 alone") || findingWith(f, RiskMedium, CodeFlood, "10.8.8.8") {
		t.Errorf("flood findings: %v", f)
	}
	if v := a.Verdicts[1]; !v.Flooded || !findingWith(v.Findings, RiskMedium, CodeFlood, "10.9.9.9 holds") {
		t.Errorf("flood finding on a connection: %v", v.Findings)
	}
	if v := a.Verdicts[len(socks)-1]; v.Flooded || findingWith(v.Findings, RiskMedium, CodeFlood, "holds") {
		t.Errorf("a single connection is flagged: %v", v.Findings)
	}
}

// The risk badge is the worst of the service's own risk (where it can be
// reached) and the findings.
func TestRiskIsTheWorstOfServiceAndFindings(t *testing.T) {
	kb := testKnowledge(t)
	proc := &sockets.Process{PID: 5, Name: "redis-server", User: "redis", UID: 100}
	exposed := sock(sockets.TCP, "0.0.0.0", 6379, "0.0.0.0", 0, sockets.StateListen, 1)
	local := sock(sockets.TCP, "127.0.0.1", 6379, "0.0.0.0", 0, sockets.StateListen, 2)
	out := sock(sockets.TCP, "10.0.0.1", 40000, "10.0.0.2", 6379, sockets.StateEstablished, 3)
	for _, s := range []*sockets.Socket{&exposed, &local, &out} {
		s.Owners, s.OwnerStatus = []*sockets.Process{proc}, sockets.OwnerKnown
	}
	a := judged(kb, exposed, local, out)
	want := []Risk{RiskHigh, RiskLow, RiskInfo}
	for i, v := range a.Verdicts {
		if v.Risk != want[i] {
			t.Errorf("%s: risk %s, want %s", v.Socket.LocalEndpoint(), v.Risk, want[i])
		}
	}
	if a.SocketsOf(5) != 3 {
		t.Errorf("pid 5 holds %d sockets, want 3", a.SocketsOf(5))
	}
}

// The Assessor judges an unchanged connection once, judges it again when it
// changes, and forgets it when it is gone.
func TestAssessorRemembersUnchangedConnections(t *testing.T) {
	kb := testKnowledge(t)
	conn := sock(sockets.TCP, "10.0.0.1", 40000, "10.0.0.2", 443, sockets.StateEstablished, 7)
	snap := func(socks ...sockets.Socket) *sockets.Snapshot {
		sockets.SetDirections(socks)
		return &sockets.Snapshot{Sockets: socks}
	}
	as := NewAssessor(kb)
	first := as.Assess(snap(conn)).Verdicts[0]
	if again := as.Assess(snap(conn)).Verdicts[0]; again != first {
		t.Error("an unchanged connection was judged again")
	}
	closing := conn
	closing.State = "FIN_WAIT1"
	if v := as.Assess(snap(closing)).Verdicts[0]; v == first || v.Socket.State != "FIN_WAIT1" {
		t.Errorf("a changed connection kept its old verdict (%s)", v.Socket.State)
	}
	as.Assess(snap())
	if len(as.memory) != 0 {
		t.Errorf("the memory holds %d connections after they all closed", len(as.memory))
	}
	if v := as.Assess(snap(conn)).Verdicts[0]; v == first {
		t.Error("a connection that came back reused a forgotten verdict")
	}
}

func TestSnapshotNotes(t *testing.T) {
	a := Assess(&sockets.Snapshot{Hidden: 2, NetnsSkipped: 3}, testKnowledge(t))
	if !strings.Contains(a.HiddenReason(), "run as root") || !strings.Contains(a.NetnsReason(), "3 other users' processes") {
		t.Errorf("notes: %q / %q", a.HiddenReason(), a.NetnsReason())
	}
	if a := Assess(&sockets.Snapshot{}, testKnowledge(t)); a.HiddenReason() != "" || a.NetnsReason() != "" {
		t.Error("notes without cause")
	}
}
