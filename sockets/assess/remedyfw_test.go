package assess

import (
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// The remedies the recorded rule sets do not reach (sockets/firewall's TestRemedyFrontends and
// TestRemedyApplied do the rest): a database behind ufw's allow or default, firewalld's service,
// legacy iptables, and a table name no admin should paste.
func TestFirewallRemedyPerFrontend(t *testing.T) {
	s := sock(sockets.TCP, "0.0.0.0", 6379, "0.0.0.0", 0, sockets.StateListen, 1)
	for _, tc := range []struct {
		fw   reach.Verdict
		want string
		v6   bool // an IPv6 listener
	}{
		{reach.Verdict{Kind: reach.Open, Frontend: "ufw", Source: "ufw allow 6379/tcp",
			Rule: "chain ip filter ufw-user-input: tcp dport 6379 counter accept # handle 9"}, "ufw insert 1 deny 6379/tcp", false},
		{reach.Verdict{Kind: reach.Open, Frontend: "ufw", Source: "ufw default allow incoming",
			Rule: "chain ip filter INPUT: policy accept"}, "ufw deny 6379/tcp", false},
		{reach.Verdict{Kind: reach.Open, Frontend: "firewalld", Source: "firewall-cmd --zone=internal --add-service=redis",
			Rule: "chain inet firewalld filter_IN_internal_allow: tcp dport 6379 accept # handle 40"},
			"firewall-cmd --permanent --zone=internal --remove-service=redis && firewall-cmd --reload", false},
		{reach.Verdict{Kind: reach.Open, Frontend: "firewalld", Source: "firewalld zone public",
			Rule: "chain inet firewalld filter_IN_public_allow: tcp dport 6379 accept # handle 40"},
			"firewall-cmd --permanent --zone=public --remove-port=6379/tcp && firewall-cmd --reload", false},
		{reach.Verdict{Kind: reach.Unknown, Reason: reach.ReasonLegacy}, "iptables -I INPUT -p tcp --dport 6379 ! -i lo -j DROP", false},
		{reach.Verdict{Kind: reach.Open, Rule: "chain ip filter INPUT: tcp dport 6379 counter accept # handle 3"},
			"iptables -I INPUT -p tcp --dport 6379 ! -i lo -j DROP", false},
		{reach.Verdict{Kind: reach.Open, Rule: "chain ip6 filter INPUT: policy accept"}, "ip6tables -I INPUT -p tcp --dport 6379 ! -i lo -j DROP", true},
		{reach.Verdict{Kind: reach.Open, Rule: "chain inet host in: tcp dport 6379 accept # handle 3"},
			"nft insert rule inet host in tcp dport 6379 iif != lo drop", false},
		{reach.Verdict{Kind: reach.Open, Rule: "chain inet x;reboot in: tcp dport 6379 accept # handle 3"},
			"nft add rule inet filter input tcp dport 6379 iif != lo drop (the table and chain as the ruleset names them)", false},
		{reach.Verdict{Kind: reach.Open, Frontend: "firewalld", Source: "firewall-cmd --zone=$(reboot) --add-service=redis"},
			"nft add rule inet filter input", false},
	} {
		s := s
		if tc.v6 {
			s = sock(sockets.TCP, "::", 6379, "::", 0, sockets.StateListen, 2)
		}
		if got := firewallRule(&s, tc.fw, "drop"); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%+v:\n got %q\nwant %q", tc.fw, got, tc.want)
		}
	}
}
