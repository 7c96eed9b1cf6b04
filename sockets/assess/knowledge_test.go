package assess

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
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
		proto  sockets.Proto
		port   uint16
		name   string
		origin Origin
		risk   Risk
	}{
		{sockets.TCP, 22, "ssh", FromCatalog, RiskMedium},
		{sockets.TCP, 23, "telnet", FromCatalog, RiskHigh},
		{sockets.UDP, 53, "domain", FromCatalog, RiskMedium},
		{sockets.TCP, 53, "domain", FromCatalog, RiskMedium},
		{sockets.UDP, 514, "syslog", FromCatalog, RiskMedium},
		{sockets.TCP, 514, "rsh/syslog", FromCatalog, RiskHigh},
		{sockets.UDP, 6379, "fallback", Unknown, RiskMedium}, // redis is tcp only
		{sockets.TCP, 4711, "fancysvc", FromSystem, RiskLow},
		{sockets.UDP, 4711, "fancysvc-u", FromSystem, RiskLow},
		{sockets.TCP, 4800, "firstname", FromSystem, RiskLow},
		{sockets.TCP, 4900, "fallback", Unknown, RiskMedium}, // sctp lines are ignored
		{sockets.TCP, 5001, "fallback", Unknown, RiskMedium},
		{sockets.TCP, 45000, "fallback", Unknown, RiskLow}, // ephemeral range from the file
		{sockets.TCP, 4444, "metasploit", FromCatalog, RiskHigh},
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
	if got := k.Lookup(sockets.TCP, 4711); got.Origin != Unknown {
		t.Errorf("with no services file, 4711 is %q", got.Origin)
	}
	if got := k.Lookup(sockets.TCP, 5432); got.Name != "postgresql" {
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
	out := sock(sockets.TCP, "10.0.0.1", 45123, "10.0.0.2", 5432, sockets.StateEstablished, 1)
	out.Direction = sockets.Outbound
	if got := k.ForSocket(&out); got.Name != "postgresql" {
		t.Errorf("outbound to 5432 from an ephemeral port: service %q", got.Name)
	}
	in := sock(sockets.TCP, "10.0.0.1", 22, "10.0.0.2", 45123, sockets.StateEstablished, 2)
	in.Direction = sockets.Inbound
	if got := k.ForSocket(&in); got.Name != "ssh" {
		t.Errorf("inbound on 22: service %q", got.Name)
	}
	odd := sock(sockets.TCP, "10.0.0.1", 45124, "10.0.0.2", 5001, sockets.StateEstablished, 3)
	odd.Direction = sockets.Outbound
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
		for _, p := range []sockets.Proto{sockets.TCP, sockets.UDP} {
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
		proto sockets.Proto
	}{{20, sockets.TCP}, {21, sockets.TCP}, {22, sockets.TCP}, {23, sockets.TCP}, {25, sockets.TCP}, {465, sockets.TCP}, {587, sockets.TCP}, {53, sockets.TCP}, {53, sockets.UDP},
		{67, sockets.UDP}, {68, sockets.UDP}, {69, sockets.UDP}, {80, sockets.TCP}, {443, sockets.TCP}, {8080, sockets.TCP}, {8443, sockets.TCP}, {88, sockets.TCP}, {110, sockets.TCP},
		{995, sockets.TCP}, {111, sockets.TCP}, {123, sockets.UDP}, {135, sockets.TCP}, {137, sockets.UDP}, {138, sockets.UDP}, {139, sockets.TCP}, {445, sockets.TCP}, {143, sockets.TCP},
		{993, sockets.TCP}, {161, sockets.UDP}, {162, sockets.UDP}, {389, sockets.TCP}, {636, sockets.TCP}, {514, sockets.UDP}, {873, sockets.TCP}, {1433, sockets.TCP}, {1521, sockets.TCP},
		{2049, sockets.TCP}, {2375, sockets.TCP}, {2376, sockets.TCP}, {2379, sockets.TCP}, {2380, sockets.TCP}, {3306, sockets.TCP}, {3389, sockets.TCP}, {5432, sockets.TCP},
		{5900, sockets.TCP}, {5984, sockets.TCP}, {6379, sockets.TCP}, {6443, sockets.TCP}, {9200, sockets.TCP}, {10250, sockets.TCP}, {11211, sockets.TCP}, {27017, sockets.TCP},
		{5672, sockets.TCP}, {15672, sockets.TCP}, {9090, sockets.TCP}, {9100, sockets.TCP}, {1883, sockets.TCP}, {5353, sockets.UDP}, {6667, sockets.TCP}, {4444, sockets.TCP},
		{1337, sockets.TCP}, {31337, sockets.TCP}, {12345, sockets.TCP}, {6666, sockets.TCP}}
	for _, r := range required {
		if !seen[serviceKey{r.port, r.proto}] {
			t.Errorf("catalog lacks %d/%s", r.port, r.proto)
		}
	}
	for _, p := range []uint16{4444, 1337, 31337, 12345, 6666, 6667} {
		if e := testKnowledge(t).Lookup(sockets.TCP, p); !e.Tags.Has(TagBackdoor) || e.Risk != RiskHigh {
			t.Errorf("port %d is not flagged as a backdoor port", p)
		}
	}
}

func TestStateHelpCoversEveryState(t *testing.T) {
	for _, st := range append(TCPStates, "UNCONN", "NEW_SYN_RECV") {
		if h := StateHelp(sockets.TCP, st); h == "" || strings.Contains(h, "no explanation") {
			t.Errorf("no help for %s", st)
		}
	}
	if StateHelp(sockets.UDP, sockets.StateEstablished) == StateHelp(sockets.TCP, sockets.StateEstablished) {
		t.Error("connected UDP is explained as a TCP connection")
	}
}
