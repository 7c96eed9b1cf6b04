package assess

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

func TestTheFirewallsVerdictChangesTheJudgement(t *testing.T) {
	kb := testKnowledge(t)
	redis := proc(3, "/usr/bin/redis-server", "redis-server", "redis", 100)
	app := proc(4, "/opt/app/app", "app", "app", 1000)
	rule := "chain inet filter input: policy drop"
	cases := []struct {
		name string
		s    sockets.Socket
		fw   reach.Verdict
		risk Risk
		code string
		not  string
		text string
	}{
		{"database, filtered", owned("0.0.0.0", 6379, redis), reach.Verdict{Kind: reach.Filtered, Rule: rule}, RiskMedium, CodeBehindFirewall, CodeDBExposed, "Bind it to 127.0.0.1 anyway"},
		{"database, closed", owned("0.0.0.0", 6379, redis), reach.Verdict{Kind: reach.Closed, Rule: "chain inet filter input: tcp dport 6379 reject with tcp reset"}, RiskMedium, CodeBehindFirewall, CodeDBExposed, "rejects new connections"},
		{"database, open", owned("0.0.0.0", 6379, redis), reach.Verdict{Kind: reach.Open, Rule: "chain inet filter input: tcp dport 6379 accept"}, RiskHigh, CodeDBExposed, "", ""},
		{"database, restricted", owned("0.0.0.0", 6379, redis), reach.Verdict{Kind: reach.Restricted, Rule: "chain inet filter input: ip saddr 10.0.0.0/8 accept", Sources: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, RiskMedium, CodeRestricted, CodeDBExposed, "only from 10.0.0.0/8"},
		{"unknown listener, filtered", owned("0.0.0.0", 5001, app), reach.Verdict{Kind: reach.Filtered, Rule: rule}, RiskMedium, CodeUnknownListener, "", "the firewall drops"},
		{"firewall unknown", owned("0.0.0.0", 6379, redis), reach.Verdict{Kind: reach.Unknown, Reason: reach.ReasonLegacy}, RiskHigh, CodeFirewallUnknown, "", "legacy iptables not evaluated"},
	}
	for _, c := range cases {
		fw := c.fw
		socks := []sockets.Socket{c.s}
		sockets.SetDirections(socks)
		v := AssessWith(&sockets.Snapshot{Sockets: socks}, kb, Context{Firewall: func(*sockets.Socket) (reach.Verdict, bool) { return fw, true }}).Verdicts[0]
		f := hasCode(v.Findings, c.code)
		if v.Risk != c.risk || f == nil || !strings.Contains(f.Text, c.text) || v.FirewallKind() != c.fw.Kind {
			t.Errorf("%s: risk %s, %s: %+v", c.name, v.Risk, c.code, v.Findings)
		}
		if c.not != "" && hasCode(v.Findings, c.not) != nil {
			t.Errorf("%s: still %s", c.name, c.not)
		}
		if want := c.fw.Kind != reach.Filtered && c.fw.Kind != reach.Closed; v.Reachable() != want {
			t.Errorf("%s: reachable %v", c.name, v.Reachable())
		}
	}
	// A loopback listener meets no outside packet: no verdict is asked.
	asked := false
	lo := []sockets.Socket{owned("127.0.0.1", 6379, redis)}
	v := AssessWith(&sockets.Snapshot{Sockets: lo}, kb, Context{Firewall: func(*sockets.Socket) (reach.Verdict, bool) {
		asked = true
		return reach.Verdict{Kind: reach.Open}, true
	}}).Verdicts[0]
	if asked || v.FirewallKind() != "" || v.Reachable() {
		t.Errorf("loopback: asked %v, %+v", asked, v.Firewall())
	}
}
