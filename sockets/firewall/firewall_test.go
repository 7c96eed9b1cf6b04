//go:build linux

package firewall

import (
	"net/netip"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

var wildcard = netip.IPv6Unspecified() // the listeners are dual-stack, on every address

// The ruleset of the test against the kernel: every construct the brief lists, each on its own port.
const labRules = `
table inet pwfw {
	set allowed {
		type inet_service
		elements = { 8081 }
	}
	set trusted {
		type ipv4_addr
		flags interval
		elements = { 10.200.0.2 }
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lo" accept
		meta l4proto ipv6-icmp accept
		tcp dport 8080 accept
		tcp dport @allowed accept
		tcp dport 8082 reject with tcp reset
		ip saddr 10.200.0.0/24 tcp dport 8083 accept
		ip saddr 10.201.0.0/24 tcp dport 8084 accept
		ip saddr @trusted tcp dport 8088 accept
		jump services
		udp dport 9090 accept
		udp dport 9091 reject
		tcp dport vmap { 8090 : accept, 8091 : drop }
		tcp dport 8092-8093 accept
		ip6 saddr fd00:200::/64 tcp dport 8094 accept
		counter
	}
	chain services {
		tcp dport 8085 accept
		tcp dport 8086 drop
		ip saddr != 10.200.0.3 tcp dport 8087 accept
		return
	}
}
`

var labTCP = []uint16{8080, 8081, 8082, 8083, 8084, 8085, 8086, 8087, 8088, 8089, 8090, 8091, 8092, 8093, 8094}
var labUDP = []uint16{9090, 9091, 9092}

func labListeners() []string {
	var out []string
	for _, p := range labTCP {
		out = append(out, "tcp:"+itoa(p))
	}
	for _, p := range labUDP {
		out = append(out, "udp:"+itoa(p))
	}
	return out
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// TestAgainstKernel loads a real ruleset in a namespace, asks the kernel what each port does to a
// client (probes from two IPv4 addresses and one IPv6 address), reads the ruleset from the host
// namespace (the setns path) and checks that every verdict says what the kernel did.
func TestAgainstKernel(t *testing.T) {
	l := newLab(t, "kernel", labListeners()...)
	l.nft(labRules)
	l.read(l.probeAll(labProbes()))
}

func labProbes() []probe {
	var probes []probe
	for _, src := range []string{cliAddr4, cli2Addr4, cliAddr6} {
		for _, p := range labTCP {
			probes = append(probes, probe{"tcp", src, p})
		}
		for _, p := range labUDP {
			probes = append(probes, probe{"udp", src, p})
		}
	}
	return probes
}

func checkAgainstKernel(t *testing.T, rs *Ruleset, seen map[probe]string) {
	// The kernel first: the lab must show every kind, or the comparison proves little.
	sanity := map[probe]string{
		{"tcp", cliAddr4, 8080}: "open", {"tcp", cliAddr4, 8081}: "open", {"tcp", cliAddr4, 8082}: "closed",
		{"tcp", cliAddr4, 8083}: "open", {"tcp", cliAddr4, 8084}: "filtered", {"tcp", cliAddr4, 8085}: "open",
		{"tcp", cliAddr4, 8086}: "filtered", {"tcp", cliAddr4, 8087}: "open", {"tcp", cli2Addr4, 8087}: "filtered",
		{"tcp", cliAddr4, 8088}: "open", {"tcp", cli2Addr4, 8088}: "filtered", {"tcp", cliAddr4, 8089}: "filtered",
		{"tcp", cliAddr4, 8090}: "open", {"tcp", cliAddr4, 8091}: "filtered", {"tcp", cliAddr4, 8093}: "open",
		{"tcp", cliAddr6, 8083}: "filtered", {"tcp", cliAddr6, 8094}: "open", {"tcp", cliAddr4, 8094}: "filtered",
		{"udp", cliAddr4, 9090}: "open", {"udp", cliAddr4, 9091}: "closed", {"udp", cliAddr4, 9092}: "filtered",
	}
	for p, want := range sanity {
		if seen[p] != want {
			t.Errorf("kernel: %s from %s to port %d: %s, the lab expects %s", p.proto, p.src, p.port, seen[p], want)
		}
	}

	for _, p := range labProbes() {
		v := rs.Evaluate(p.proto, wildcard, p.port)
		got := v.From(netip.MustParseAddr(p.src))
		if string(got) != seen[p] {
			t.Errorf("%s port %d from %s: kernel %s, verdict %s (%+v)", p.proto, p.port, p.src, seen[p], got, v)
		}
	}

	// The verdicts themselves, for a few ports.
	check := func(proto string, port uint16, kind Kind, rule string) Verdict {
		t.Helper()
		v := rs.Evaluate(proto, wildcard, port)
		if v.Kind != kind || !strings.HasPrefix(v.Rule, rule) {
			t.Errorf("%s %d: %+v, want %s by %q", proto, port, v, kind, rule)
		}
		return v
	}
	check("tcp", 8080, Open, "chain inet pwfw input: tcp dport 8080 accept # handle ")
	check("tcp", 8081, Open, "chain inet pwfw input: tcp dport @allowed accept # handle ")
	check("tcp", 8082, Closed, "chain inet pwfw input: tcp dport 8082 reject with tcp reset # handle ")
	check("tcp", 8085, Open, "chain inet pwfw services: tcp dport 8085 accept # handle ")
	check("tcp", 8086, Filtered, "chain inet pwfw services: tcp dport 8086 drop # handle ")
	check("tcp", 8089, Filtered, "chain inet pwfw input: policy drop")
	check("tcp", 8090, Open, "chain inet pwfw input: tcp dport vmap { 8090 : accept, 8091 : drop } # handle ")
	check("udp", 9091, Closed, "chain inet pwfw input: udp dport 9091 reject # handle ")
	v := check("tcp", 8083, Restricted, "chain inet pwfw input: ip saddr 10.200.0.0/24 tcp dport 8083 accept # handle ")
	if len(v.Sources) != 1 || v.Sources[0] != netip.MustParsePrefix("10.200.0.0/24") || v.Others != Filtered || len(v.ByFamily) != 2 {
		t.Errorf("8083: %+v", v)
	}
	v = check("tcp", 8087, Restricted, "chain inet pwfw services: ip saddr != 10.200.0.3 tcp dport 8087 accept # handle ")
	if len(v.Except) != 1 || v.Except[0] != netip.MustParsePrefix("10.200.0.3/32") {
		t.Errorf("8087: a block list should list what it refuses: %+v", v)
	}
	// An IPv4 listener sees only the IPv4 rules.
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8083); v.Kind != Restricted || len(v.ByFamily) != 0 {
		t.Errorf("8083 on %s: %+v", srvAddr4, v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr("127.0.0.1"), 8080); v.Kind != Filtered || v.Note == "" {
		t.Errorf("loopback listener: %+v", v)
	}
	if v := rs.Evaluate("sctp", wildcard, 8080); v.Kind != Unknown {
		t.Errorf("sctp: %+v", v)
	}
}

// TestUnknownExpression: a rule the evaluator cannot decide makes the verdict unknown, naming it,
// unless its outcome is the same either way.
func TestUnknownExpression(t *testing.T) {
	l := newLab(t, "unknown")
	l.nft(`
table inet pwfw {
	chain input {
		type filter hook input priority filter; policy drop;
		tcp dport 8080 meta mark 0x00000002 counter
		meta cpu 1 accept
		tcp dport 8081 accept
		tcp dport 8082 socket transparent 1 drop
		tcp dport 8082 accept
	}
}`)
	l.read(nil)
}

func checkUnknownExpression(t *testing.T, rs *Ruleset, _ map[probe]string) {
	v := rs.Evaluate("tcp", wildcard, 8080)
	if v.Kind != Unknown || !strings.Contains(v.Reason, "cannot evaluate chain inet pwfw input: meta ") || !strings.Contains(v.Rule, " 0x01000000 accept # handle ") {
		t.Errorf("8080: %+v", v)
	}
	// a packet from outside carries no mark: the rule on mark 2 does not hold, and does nothing
	// anyway; 8081 is accepted whichever cpu the packet came in on
	if v := rs.Evaluate("tcp", wildcard, 8081); v.Kind != Open {
		t.Errorf("8081: %+v", v)
	}
	if v := rs.Evaluate("tcp", wildcard, 8082); v.Kind != Unknown {
		t.Errorf("8082: %+v", v)
	}
	t.Logf("8080: %s", v.Reason)
}

func TestNoFirewall(t *testing.T) {
	l := newLab(t, "none")
	l.read(nil) // checkNoTable
	l.nft(`table inet pwfw {
	chain forward {
		type filter hook forward priority 0; policy drop;
	}
}`)
	l.read(nil) // checkNoInputChain
}

func checkNoTable(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Open || v.Rule != "" || v.Note != "no firewall" {
		t.Errorf("no table: %+v", v)
	}
}

func checkNoInputChain(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Open || v.Rule != "" {
		t.Errorf("no input chain: %+v", v)
	}
}

// TestPriorityOrder: every base chain on the hook must accept; an accept ends only its own chain.
func TestPriorityOrder(t *testing.T) {
	l := newLab(t, "prio", "tcp:8080", "tcp:8081", "tcp:8082")
	l.nft(`
table ip early {
	chain input {
		type filter hook input priority -10; policy accept;
		tcp dport 8080 accept
		tcp dport 8081 drop
	}
}
table inet late {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 8080 reject
	}
}
table ip6 six {
	chain input {
		type filter hook input priority 0; policy drop;
		meta l4proto ipv6-icmp accept
	}
}
table inet pre {
	chain prerouting {
		type filter hook prerouting priority -300; policy accept;
		ct state invalid tcp dport 8082 drop
	}
}`)
	l.read(l.probeAll([]probe{{"tcp", cliAddr4, 8080}, {"tcp", cliAddr4, 8081}, {"tcp", cliAddr4, 8082}, {"tcp", cliAddr6, 8082}}))
}

func checkPriorityOrder(t *testing.T, rs *Ruleset, seen map[probe]string) {
	if len(seen) != 4 {
		t.Errorf("%d probes, want 4", len(seen))
	}
	for p, want := range seen {
		v := rs.Evaluate("tcp", wildcard, p.port)
		if got := v.From(netip.MustParseAddr(p.src)); string(got) != want {
			t.Errorf("port %d from %s: kernel %s, verdict %s (%+v)", p.port, p.src, want, got, v)
		}
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8080); v.Kind != Closed || !strings.HasPrefix(v.Rule, "chain inet late input: tcp dport 8080 reject # handle ") {
		t.Errorf("8080: %+v", v)
	}
}

func TestIptablesNft(t *testing.T) {
	needLab(t, "iptables-nft")
	l := newLab(t, "xtnft", "tcp:8080", "tcp:8081", "tcp:8082", "tcp:8089")
	for _, rule := range [][]string{
		{"-P", "INPUT", "DROP"},
		{"-A", "INPUT", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "8080", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "8081", "-m", "comment", "--comment", "web", "-j", "ACCEPT"},
		{"-A", "INPUT", "-p", "tcp", "--dport", "8082", "-j", "REJECT"},
	} {
		l.exec(append([]string{"iptables-nft"}, rule...)...)
	}
	l.read(l.probeAll([]probe{{"tcp", cliAddr4, 8080}, {"tcp", cliAddr4, 8081}, {"tcp", cliAddr4, 8082}, {"tcp", cliAddr4, 8089}}))
	// an xtables match iptables-nft keeps as one (multiport), decided from its info
	l.exec("iptables-nft", "-I", "INPUT", "1", "-p", "tcp", "-m", "multiport", "--dports", "8089,8090", "-j", "ACCEPT")
	l.read(nil) // checkMultiport
}

func checkIptablesNft(t *testing.T, rs *Ruleset, seen map[probe]string) {
	if len(seen) != 4 {
		t.Errorf("%d probes, want 4", len(seen))
	}
	for p, want := range seen {
		v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), p.port)
		if got := v.From(netip.MustParseAddr(p.src)); string(got) != want {
			t.Errorf("port %d: kernel %s, verdict %s (%+v)", p.port, want, got, v)
		}
	}
}

func checkMultiport(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8089); v.Kind != Open || !strings.Contains(v.Rule, `xt match "multiport"`) {
		t.Errorf("multiport 8089: %+v, want open by the multiport rule", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 8081); v.Kind != Open || !strings.Contains(v.Rule, `comment "web"`) {
		t.Errorf("8081 after a multiport rule that does not hold: %+v", v)
	}
}

func TestLegacyIptables(t *testing.T) {
	needLab(t, "iptables-legacy", "ip6tables-legacy")
	l := newLab(t, "legacy")
	if out, err := exec.Command("ip", "netns", "exec", l.srv, "iptables-legacy", "-L", "INPUT").CombinedOutput(); err != nil {
		t.Skipf("iptables-legacy does not work here: %v %s", err, out)
	}
	// the table exists, empty, policy ACCEPT: harmless
	l.read(nil) // checkLegacyEmpty
	l.exec("ip6tables-legacy", "-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT")
	l.read(nil) // checkLegacyIPv6Rule
	l.exec("iptables-legacy", "-P", "INPUT", "DROP")
	l.read(nil) // checkLegacyPolicyDrop
}

func checkLegacyEmpty(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Open {
		t.Errorf("empty legacy table: %+v", v)
	}
}

func checkLegacyIPv6Rule(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr4), 22); v.Kind != Open {
		t.Errorf("IPv4 listener with IPv6 legacy rules: %+v", v)
	}
	if v := rs.Evaluate("tcp", netip.MustParseAddr(srvAddr6), 22); v.Kind != Unknown || v.Reason != ReasonLegacy {
		t.Errorf("IPv6 listener with IPv6 legacy rules: %+v", v)
	}
}

func checkLegacyPolicyDrop(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Unknown || v.Reason != ReasonLegacy {
		t.Errorf("legacy policy drop: %+v", v)
	}
}

// TestNotRoot reads the ruleset from a thread without CAP_NET_ADMIN: the kernel refuses (EPERM),
// and the verdict says so.
func TestNotRoot(t *testing.T) {
	needLab(t)
	rec := newRecorder(t)
	type result struct {
		rs  *Ruleset
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		// never unlocked: the thread goes away with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- result{err: err}
			return
		}
		rs, err := rec.capture(0, nil)
		done <- result{rs, err}
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	rec.check(r.rs, nil)
}

func checkNotRoot(t *testing.T, rs *Ruleset, _ map[probe]string) {
	if v := rs.Evaluate("tcp", wildcard, 22); v.Kind != Unknown || v.Reason != ReasonNotRoot {
		t.Errorf("without CAP_NET_ADMIN: %+v", v)
	}
}

// TestCacheGeneration: the cache reads a ruleset again only when its generation changes. The
// cache as portwatch makes it and one whose conversation is recorded go through the same story.
func TestCacheGeneration(t *testing.T) {
	l := newLab(t, "cache")
	l.nft(labRules)
	var plain Cache
	defer plain.Close()
	rec := l.recorder()
	recorded := &Cache{open: rec.open}
	defer recorded.Close()
	last := cacheStory(t, l.pid, l.nsInode(), func() {
		l.exec("nft", "insert", "rule", "inet", "pwfw", "input", "tcp", "dport", "8089", "accept")
	}, &plain, recorded)
	if err := rec.endStep(last, nil); err != nil {
		t.Fatal(err)
	}
}

// cacheStory runs the caches through a change of the ruleset (change makes it; in a replay the
// conversation holds it) and a Forget, and returns the last ruleset read.
func cacheStory(t *testing.T, pid int, ino uint64, change func(), caches ...*Cache) *Ruleset {
	t.Helper()
	before := make([]*Ruleset, len(caches))
	for i, c := range caches {
		rs1, err := c.Ruleset(pid, ino)
		if err != nil {
			t.Fatal(err)
		}
		rs2, err := c.Ruleset(pid, ino)
		if err != nil {
			t.Fatal(err)
		}
		if rs1 != rs2 || c.reads.Load() != 1 {
			t.Fatalf("cache %d: unchanged ruleset read again: %d reads", i, c.reads.Load())
		}
		if v := rs2.Evaluate("tcp", wildcard, 8089); v.Kind != Filtered {
			t.Fatalf("cache %d: 8089 before: %+v", i, v)
		}
		before[i] = rs2
	}
	change()
	var last *Ruleset
	for i, c := range caches {
		rs3, err := c.Ruleset(pid, ino)
		if err != nil {
			t.Fatal(err)
		}
		if rs3 == before[i] || c.reads.Load() != 2 || rs3.Generation() == before[i].Generation() {
			t.Fatalf("cache %d: changed ruleset not read again: %d reads", i, c.reads.Load())
		}
		if v := rs3.Evaluate("tcp", wildcard, 8089); v.Kind != Open {
			t.Errorf("cache %d: 8089 after: %+v", i, v)
		}
		if _, err := c.Ruleset(pid, ino+1); err == nil {
			t.Errorf("cache %d: a process in another namespace was taken for this one", i)
		}
		c.Forget(ino)
		if last, err = c.Ruleset(pid, ino); err != nil || c.reads.Load() != 3 {
			t.Errorf("cache %d: after Forget: %v, %d reads", i, err, c.reads.Load())
		}
	}
	return last
}
