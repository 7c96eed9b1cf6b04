package sockets

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKnowledge(t *testing.T) *Knowledge {
	t.Helper()
	dir := t.TempDir()
	services := "# comment line\n" +
		"ssh		22/tcp				# SSH\n" +
		"fancysvc	4711/tcp	fancy-alias\n" +
		"fancysvc-u	4711/udp\n" +
		"firstname	4800/tcp\n" +
		"secondname	4800/tcp\n" +
		"broken line without port\n" +
		"badproto	4900/sctp\n" +
		"badport	99999/tcp\n" +
		"noslash	5000\n" +
		"\n"
	os.WriteFile(filepath.Join(dir, "services"), []byte(services), 0o644)
	os.WriteFile(filepath.Join(dir, "range"), []byte("40000\t50000\n"), 0o644)
	return NewKnowledge(filepath.Join(dir, "services"), filepath.Join(dir, "range"))
}

func TestLookup(t *testing.T) {
	k := testKnowledge(t)
	cases := []struct {
		proto  Proto
		port   uint16
		name   string
		origin Origin
		risk   Risk
	}{
		{TCP, 22, "ssh", FromCatalog, RiskMedium},
		{TCP, 23, "telnet", FromCatalog, RiskHigh},
		{UDP, 53, "domain", FromCatalog, RiskMedium},
		{TCP, 53, "domain", FromCatalog, RiskMedium},
		{UDP, 514, "syslog", FromCatalog, RiskMedium},
		{TCP, 514, "rsh/syslog", FromCatalog, RiskHigh},
		{UDP, 6379, "fallback", Unknown, RiskMedium}, // redis is tcp only
		{TCP, 4711, "fancysvc", FromSystem, RiskLow},
		{UDP, 4711, "fancysvc-u", FromSystem, RiskLow},
		{TCP, 4800, "firstname", FromSystem, RiskLow},
		{TCP, 4900, "fallback", Unknown, RiskMedium}, // sctp lines are ignored
		{TCP, 5001, "fallback", Unknown, RiskMedium},
		{TCP, 45000, "fallback", Unknown, RiskLow}, // ephemeral range from the file
		{TCP, 4444, "metasploit", FromCatalog, RiskHigh},
	}
	for _, c := range cases {
		got := k.Lookup(c.proto, c.port)
		wantName := c.name
		if wantName == "fallback" {
			wantName = "unknown"
		}
		if got.Name != wantName || got.Origin != c.origin || got.Risk != c.risk {
			t.Errorf("%s/%d: got %q %s %s, want %q %s %s", c.proto, c.port, got.Name, got.Origin, got.Risk, wantName, c.origin, c.risk)
		}
		if got.Note == "" || got.Description == "" {
			t.Errorf("%s/%d: empty note or description", c.proto, c.port)
		}
	}
}

func TestMissingFilesFallBack(t *testing.T) {
	k := NewKnowledge("/nonexistent/services", "/nonexistent/range")
	if k.Ephemeral != defaultEphemeral {
		t.Errorf("ephemeral %v, want the default", k.Ephemeral)
	}
	if got := k.Lookup(TCP, 4711); got.Origin != Unknown {
		t.Errorf("with no services file, 4711 is %q", got.Origin)
	}
	if got := k.Lookup(TCP, 5432); got.Name != "postgresql" {
		t.Errorf("the catalog needs no file: 5432 is %q", got.Name)
	}
	for _, bad := range []string{"", "1", "a b", "60000 1000", "0 10"} {
		p := filepath.Join(t.TempDir(), "r")
		os.WriteFile(p, []byte(bad), 0o644)
		if r := readEphemeralRange(p); r != defaultEphemeral {
			t.Errorf("range %q gave %v", bad, r)
		}
	}
}

func TestOutboundConnectionNamesTheRemoteService(t *testing.T) {
	k := testKnowledge(t)
	out := sock(TCP, "10.0.0.1", 45123, "10.0.0.2", 5432, StateEstablished, 1)
	out.Direction = Outbound
	if got := k.ForSocket(&out); got.Name != "postgresql" {
		t.Errorf("outbound to 5432 from an ephemeral port: service %q", got.Name)
	}
	in := sock(TCP, "10.0.0.1", 22, "10.0.0.2", 45123, StateEstablished, 2)
	in.Direction = Inbound
	if got := k.ForSocket(&in); got.Name != "ssh" {
		t.Errorf("inbound on 22: service %q", got.Name)
	}
	odd := sock(TCP, "10.0.0.1", 45124, "10.0.0.2", 5001, StateEstablished, 3)
	odd.Direction = Outbound
	if got := k.ForSocket(&odd); got.Origin != Unknown || got.Risk != RiskInfo {
		t.Errorf("outbound to an unknown port: %s %s, want unknown INFO", got.Origin, got.Risk)
	}
}

func TestCatalogIsComplete(t *testing.T) {
	if len(catalog) < 120 {
		t.Errorf("catalog has %d entries, want at least 120", len(catalog))
	}
	seen := map[serviceKey]bool{}
	for _, e := range catalog {
		if e.Name == "" || e.Description == "" || e.Note == "" || e.protos == 0 {
			t.Errorf("port %d: incomplete entry %+v", e.Port, e)
		}
		if e.Risk < RiskInfo || e.Risk > RiskHigh {
			t.Errorf("port %d: bad risk %d", e.Port, e.Risk)
		}
		if n := strings.Count(e.Note, ". ") + 1; n > 3 && !strings.Contains(e.Note, "e.g.") {
			t.Errorf("port %d: note has %d sentences, want 1 to 3", e.Port, n)
		}
		for _, p := range []Proto{TCP, UDP} {
			if !e.protos.covers(p) {
				continue
			}
			k := serviceKey{e.Port, p}
			if seen[k] {
				t.Errorf("duplicate catalog entry %d/%s", e.Port, p)
			}
			seen[k] = true
		}
	}
	required := []struct {
		port  uint16
		proto Proto
	}{{20, TCP}, {21, TCP}, {22, TCP}, {23, TCP}, {25, TCP}, {465, TCP}, {587, TCP}, {53, TCP}, {53, UDP},
		{67, UDP}, {68, UDP}, {69, UDP}, {80, TCP}, {443, TCP}, {8080, TCP}, {8443, TCP}, {88, TCP}, {110, TCP},
		{995, TCP}, {111, TCP}, {123, UDP}, {135, TCP}, {137, UDP}, {138, UDP}, {139, TCP}, {445, TCP}, {143, TCP},
		{993, TCP}, {161, UDP}, {162, UDP}, {389, TCP}, {636, TCP}, {514, UDP}, {873, TCP}, {1433, TCP}, {1521, TCP},
		{2049, TCP}, {2375, TCP}, {2376, TCP}, {2379, TCP}, {2380, TCP}, {3306, TCP}, {3389, TCP}, {5432, TCP},
		{5900, TCP}, {5984, TCP}, {6379, TCP}, {6443, TCP}, {9200, TCP}, {10250, TCP}, {11211, TCP}, {27017, TCP},
		{5672, TCP}, {15672, TCP}, {9090, TCP}, {9100, TCP}, {1883, TCP}, {5353, UDP}, {6667, TCP}, {4444, TCP},
		{1337, TCP}, {31337, TCP}, {12345, TCP}, {6666, TCP}}
	for _, r := range required {
		if !seen[serviceKey{r.port, r.proto}] {
			t.Errorf("catalog lacks %d/%s", r.port, r.proto)
		}
	}
	for _, p := range []uint16{4444, 1337, 31337, 12345, 6666, 6667} {
		if e := testKnowledge(t).Lookup(TCP, p); !e.Tags.Has(TagBackdoor) || e.Risk != RiskHigh {
			t.Errorf("port %d is not flagged as a backdoor port", p)
		}
	}
}

func TestStateHelpCoversEveryState(t *testing.T) {
	for _, st := range append(TCPStates, "UNCONN", "NEW_SYN_RECV") {
		if h := StateHelp(TCP, st); h == "" || strings.Contains(h, "no explanation") {
			t.Errorf("no help for %s", st)
		}
	}
	if StateHelp(UDP, StateEstablished) == StateHelp(TCP, StateEstablished) {
		t.Error("connected UDP is explained as a TCP connection")
	}
}

func findingWith(fs []Finding, risk Risk, text string) bool {
	for _, f := range fs {
		if f.Risk == risk && strings.Contains(f.Text, text) {
			return true
		}
	}
	return false
}

// Findings built from real listeners where the situation can be made real.
func TestFindingsForRealListeners(t *testing.T) {
	kb := testKnowledge(t)
	lo := listenTCP(t, "127.0.0.1:0")
	all := listenTCP(t, "0.0.0.0:0")
	snap := snapshot(t, NewLive())
	a := Analyze(snap, kb)

	s := findOne(t, snap, TCP, addrPort(t, lo.Addr()), netip.AddrPort{})
	if f := a.Findings(&s); !findingWith(f, RiskInfo, "Loopback only") {
		t.Errorf("loopback listener findings: %v", f)
	}
	s = findOne(t, snap, TCP, addrPort(t, all.Addr()), netip.AddrPort{})
	f := a.Findings(&s)
	if !findingWith(f, RiskHigh, "all interfaces") && !findingWith(f, RiskLow, "all interfaces") {
		t.Errorf("wildcard listener findings: %v", f)
	}
	for i := 1; i < len(f); i++ {
		if f[i].Risk > f[i-1].Risk {
			t.Errorf("findings not worst first: %v", f)
		}
	}
}

func TestFindingsInContext(t *testing.T) {
	kb := testKnowledge(t)
	root := &Process{PID: 10, Name: "redis-server", User: "root", UID: 0, Exe: "/usr/bin/redis-server"}
	redisUser := &Process{PID: 11, Name: "redis-server", User: "redis", UID: 100, Exe: "/usr/bin/redis-server"}
	dropper := &Process{PID: 12, Name: "x", User: "www-data", UID: 33, Exe: "/tmp/.x/x"}
	ghost := &Process{PID: 13, Name: "srv", User: "app", UID: 1000, Exe: "/opt/srv", ExeDeleted: true}

	listener := func(addr string, port uint16, owner *Process) Socket {
		s := sock(TCP, addr, port, "0.0.0.0", 0, StateListen, uint64(port))
		if owner != nil {
			s.Owners, s.OwnerStatus = []*Process{owner}, OwnerKnown
		}
		return s
	}
	hidden := listener("0.0.0.0", 8443, nil)
	hidden.OwnerStatus, hidden.UID = OwnerHidden, 1000
	outside := listener("127.0.0.1", 2024, nil)
	outside.OwnerStatus = OwnerOutside
	telnetConn := sock(TCP, "10.0.0.1", 40000, "10.0.0.2", 23, StateEstablished, 99)
	telnetConn.Direction = Outbound

	cases := []struct {
		name string
		s    Socket
		risk Risk
		text string
	}{
		{"database on all interfaces", listener("0.0.0.0", 6379, redisUser), RiskHigh, "exposed on all interfaces"},
		{"database on loopback is fine", listener("127.0.0.1", 6379, redisUser), RiskInfo, "Loopback only"},
		{"cleartext listener", listener("0.0.0.0", 21, redisUser), RiskMedium, "cleartext"},
		{"cleartext connection", telnetConn, RiskMedium, "cleartext"},
		{"unknown service", listener("127.0.0.1", 5001, redisUser), RiskMedium, "backdoor"},
		{"unknown on all interfaces", listener("0.0.0.0", 5001, redisUser), RiskHigh, "unknown service"},
		{"hidden owner", hidden, RiskMedium, "run portwatch as root"},
		{"owner outside", outside, RiskLow, "outside this pid namespace"},
		{"runs from /tmp", listener("127.0.0.1", 8080, dropper), RiskHigh, "world-writable"},
		{"deleted binary", listener("127.0.0.1", 8080, ghost), RiskHigh, "deleted executable"},
		{"root on a high port", listener("127.0.0.1", 8080, root), RiskLow, "root on unprivileged port"},
		{"unusual user", listener("127.0.0.1", 6379, root), RiskLow, `usually runs as "redis"`},
		{"backdoor port", listener("0.0.0.0", 31337, redisUser), RiskHigh, "backdoors"},
	}
	for _, c := range cases {
		snap := &Snapshot{Sockets: []Socket{c.s}}
		SetDirections(snap.Sockets)
		s := snap.Sockets[0]
		got := Analyze(snap, kb).Findings(&s)
		if !findingWith(got, c.risk, c.text) {
			t.Errorf("%s: want a %s finding with %q, got %v", c.name, c.risk, c.text, got)
		}
	}
	// Things that must not be said.
	quiet := listener("127.0.0.1", 6379, redisUser)
	if got := Analyze(&Snapshot{Sockets: []Socket{quiet}}, kb).Findings(&quiet); findingWith(got, RiskLow, "usually runs") || findingWith(got, RiskLow, "root") {
		t.Errorf("redis as redis on loopback: %v", got)
	}
}

func TestFloodFinding(t *testing.T) {
	kb := testKnowledge(t)
	socks := []Socket{sock(TCP, "0.0.0.0", 80, "0.0.0.0", 0, StateListen, 1)}
	for i := 0; i < FloodThreshold; i++ {
		socks = append(socks, sock(TCP, "10.0.0.1", 80, "10.9.9.9", uint16(40000+i), StateEstablished, uint64(100+i)))
	}
	socks = append(socks, sock(TCP, "10.0.0.1", 80, "10.8.8.8", 50000, StateEstablished, 999))
	snap := &Snapshot{Sockets: socks}
	SetDirections(snap.Sockets)
	a := Analyze(snap, kb)
	l := snap.Sockets[0]
	if n := a.Connections(&l); n != FloodThreshold+1 {
		t.Errorf("listener has %d connections, want %d", n, FloodThreshold+1)
	}
	if f := a.Findings(&l); !findingWith(f, RiskMedium, "10.9.9.9 alone") || findingWith(f, RiskMedium, "10.8.8.8") {
		t.Errorf("flood findings: %v", f)
	}
	one := snap.Sockets[1]
	if f := a.Findings(&one); !findingWith(f, RiskMedium, "10.9.9.9 holds") {
		t.Errorf("flood finding on a connection: %v", f)
	}
	calm := snap.Sockets[len(socks)-1]
	if f := a.Findings(&calm); findingWith(f, RiskMedium, "holds") {
		t.Errorf("a single connection is flagged: %v", f)
	}
}
