package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/baseline"
)

func TestListenersAreJudgedAgainstTheBaseline(t *testing.T) {
	kb := testKnowledge(t)
	b, err := baseline.Parse(strings.NewReader(`host tcp all 22 /usr/sbin/sshd root
host tcp loopback 6379 redis-server redis
host tcp all 443 /usr/sbin/nginx *
`), "/etc/portwatch/baseline")
	if err != nil {
		t.Fatal(err)
	}
	sshd := proc(1, "/usr/sbin/sshd", "sshd", "root", 0)
	python := proc(2, "/usr/bin/python3", "python3 x.py", "root", 0)
	redis := proc(3, "/usr/bin/redis-server", "redis-server", "redis", 100)
	socks := []sockets.Socket{owned("0.0.0.0", 22, sshd), owned("127.0.0.1", 6379, python), owned("0.0.0.0", 4444, redis)}
	for i := range socks {
		socks[i].Netns = sockets.HostNetns
	}
	sockets.SetDirections(socks)
	a := AssessWith(&sockets.Snapshot{Sockets: socks}, kb, Context{Baseline: b})
	want := []struct {
		status baseline.Status
		code   string
		text   string
	}{
		{baseline.Expected, "", ""},
		{baseline.Changed, CodeChanged, "line 2) expects redis-server as redis on this port; now it is /usr/bin/python3 (pid 2) as root"},
		{baseline.Unexpected, CodeUnexpected, "Not in the baseline (/etc/portwatch/baseline)"},
	}
	for i, w := range want {
		v := a.Verdicts[i]
		if v.Baseline.Status != w.status {
			t.Errorf("port %d: %v, want %v", v.Socket.LPort, v.Baseline.Status, w.status)
		}
		if w.code == "" {
			if hasCode(v.Findings, CodeChanged) != nil || hasCode(v.Findings, CodeUnexpected) != nil {
				t.Errorf("port %d: a baseline finding on an expected listener", v.Socket.LPort)
			}
			continue
		}
		if f := hasCode(v.Findings, w.code); f == nil || f.Severity != RiskHigh || !strings.Contains(f.Text, w.text) || v.Risk != RiskHigh || v.Findings[0].Severity != RiskHigh {
			t.Errorf("port %d: %+v, want a HIGH %s with %q", v.Socket.LPort, v.Findings, w.code, w.text)
		}
	}
	if len(a.Missing) != 1 {
		t.Fatalf("%d missing, want the nginx entry", len(a.Missing))
	}
	m := a.Missing[0]
	if m.Baseline.Status != baseline.Missing || m.Socket.LPort != 443 || m.Service.Name != "https" || hasCode(m.Findings, CodeMissing) == nil || m.Risk != RiskMedium {
		t.Errorf("missing verdict %+v", m)
	}
	// Without a baseline nothing is compared.
	if v := Assess(&sockets.Snapshot{Sockets: socks}, kb).Verdicts[2]; v.Baseline.Status != baseline.NotCompared || hasCode(v.Findings, CodeUnexpected) != nil {
		t.Errorf("compared without a baseline: %v", v.Baseline.Status)
	}
}

// A listener no registry names, which the baseline expects, is not "may be
// a backdoor": the admin's baseline is evidence, and the finding says so.
func TestBaselineExpectsAnUnknownListener(t *testing.T) {
	kb := testKnowledge(t)
	b, err := baseline.Parse(strings.NewReader("host tcp all 40123 * *\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	s := sock(sockets.TCP, "0.0.0.0", 40123, "0.0.0.0", 0, sockets.StateListen, 1)
	s.Netns = sockets.HostNetns
	with := AssessWith(&sockets.Snapshot{Sockets: []sockets.Socket{s}}, kb, Context{Baseline: b}).Verdicts[0]
	without := AssessWith(&sockets.Snapshot{Sockets: []sockets.Socket{s}}, kb, Context{}).Verdicts[0]
	if hasCode(without.Findings, CodeUnknownListener) == nil {
		t.Fatalf("without a baseline an unknown listener is unknown-listener: %+v", without.Findings)
	}
	if hasCode(with.Findings, CodeUnknownListener) != nil || hasCode(with.Findings, CodeExpectedUnknown) == nil || with.Risk >= without.Risk {
		t.Errorf("expected by the baseline: %s %+v (without: %s)", with.Risk, with.Findings, without.Risk)
	}
}

// A baseline line that names the very program on a port the registry
// gives to another (the lab's lab-sshd on 22) answers "a service in
// disguise?": a note, not HIGH. A line with any program (*) answers
// nothing about which program, and the question stands.
func TestBaselineNamesTheProgramOnAWellKnownPort(t *testing.T) {
	kb := testKnowledge(t)
	stand := proc(300, "/run/lab/lab-sshd", "lab-sshd", "root", 0)
	s := owned("0.0.0.0", 22, stand)
	s.Netns = sockets.HostNetns
	for _, c := range []struct {
		line     string
		answered bool
	}{
		{"host tcp * 22 lab-sshd *\n", true},
		{"host tcp * 22 * *\n", false},
		{"host tcp * 22 sshd *\n", false}, // another program: CHANGED, not this note
	} {
		b, err := baseline.Parse(strings.NewReader(c.line), "test")
		if err != nil {
			t.Fatal(err)
		}
		v := AssessWith(&sockets.Snapshot{Sockets: []sockets.Socket{s}}, kb, Context{Baseline: b}).Verdicts[0]
		mismatch, note := hasCode(v.Findings, CodeServiceMismatch) != nil, hasCode(v.Findings, CodeExpectedProgram) != nil
		if c.answered && (mismatch || !note || v.Risk >= RiskHigh) {
			t.Errorf("%q: %s %+v, want the expected-program note in place of service-mismatch", c.line, v.Risk, v.Findings)
		}
		if !c.answered && (!mismatch || note) {
			t.Errorf("%q: %+v, want service-mismatch to stand", c.line, v.Findings)
		}
	}
}
