//go:build linux

package firewall

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
)

// Remedies in the frontend's own syntax, made by assess from the evaluator's verdicts on real
// rule sets: the nft and iptables ones are run in the lab and the kernel's answer must change
// as they say; ufw's and firewalld's are checked against the recorded rule sets those tools wrote.

// remediesOf judges a dual-stack wildcard TCP listener on each port under rs, with no owner
// known, and gives each port's firewall remedy (the first finding's that has one).
func remediesOf(t *testing.T, rs *Ruleset, ports ...uint16) map[uint16]string {
	t.Helper()
	snap := &sockets.Snapshot{Firewalls: map[uint64]sockets.Firewall{1: rs}}
	for _, p := range ports {
		snap.Sockets = append(snap.Sockets, sockets.Socket{Proto: sockets.TCP, Family: 6, Local: netip.IPv6Unspecified(),
			LPort: p, Remote: netip.IPv6Unspecified(), State: sockets.StateListen, Inode: uint64(p), DualStack: true,
			NetnsInode: 1, Netns: "host", OwnerStatus: sockets.OwnerKnown})
	}
	a := assess.AssessWith(snap, assess.NewKnowledge("/nonexistent", "/nonexistent"), assess.Context{Firewall: assess.FirewallOf(snap.Firewalls)})
	out := map[uint16]string{}
	for _, v := range a.Verdicts {
		for _, f := range v.Findings {
			if f.Remedy != "" {
				out[v.Socket.LPort] = f.Remedy
				break
			}
		}
	}
	return out
}

// TestRemedyFrontends: on the rule sets ufw, firewalld, iptables-nft and nft wrote (the
// recordings), each remedy is that tool's command, naming its zone or its table and chain.
func TestRemedyFrontends(t *testing.T) {
	for _, tc := range []struct {
		test string
		port uint16
		want []string
	}{
		// ufw limit 22/tcp decides: a rule before it, then the deny
		{"TestUfw", 22, []string{"ufw insert 1 allow from 192.0.2.0/24 to any port 22 proto tcp && ufw insert 2 deny 22/tcp"}},
		// firewalld's public zone opens 80: the port out, a rich rule per family in, one reload
		{"TestFirewalld", 80, []string{"firewall-cmd --permanent --zone=public --remove-port=80/tcp && ",
			`--add-rich-rule='rule family="ipv4" source address="192.0.2.0/24" port port="80" protocol="tcp" accept'`,
			`--add-rich-rule='rule family="ipv6" source address="2001:db8::/32" port port="80" protocol="tcp" accept' && firewall-cmd --reload`}},
		// iptables-nft decides IPv4, nothing IPv6: iptables and ip6tables
		{"TestIptablesNft", 8080, []string{"IPv4: iptables -I INPUT -p tcp --dport 8080 ! -s 192.0.2.0/24 -j DROP",
			"IPv6: ip6tables -I INPUT -p tcp --dport 8080 ! -s 2001:db8::/32 -j DROP"}},
		// an admin's nft table: its own name and chain
		{"TestAgainstKernel", 8080, []string{"IPv4: nft insert rule inet pwfw input tcp dport 8080 ip saddr != 192.0.2.0/24 drop",
			"IPv6: nft insert rule inet pwfw input tcp dport 8080 ip6 saddr != 2001:db8::/32 drop"}},
	} {
		rec, err := loadRecording(recordingPath(tc.test))
		if err != nil {
			t.Fatal(err)
		}
		rs := replayRead(t, rec.Steps[0])
		if tc.test == "TestFirewalld" {
			rs.SetLocal(firewalldLocal)
		}
		got := remediesOf(t, rs, tc.port)[tc.port]
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s port %d: remedy %q\nwant it to hold %q", tc.test, tc.port, got, w)
			}
		}
	}
}

// TestRemedyApplied: the nft and iptables remedies, run in the lab as an admin would run them
// (the placeholder networks named: the first client), make the kernel refuse what they say.
func TestRemedyApplied(t *testing.T) {
	needLab(t, "iptables-nft-restore", "ip6tables-nft")
	for _, tc := range []struct{ name, rules string }{
		{"nft", `table inet pwrem {
	chain input {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		meta l4proto ipv6-icmp accept
		tcp dport 6379 accept
		tcp dport 443 accept
	}
}`},
		{"iptables", "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n" +
			"-A INPUT -p tcp --dport 6379 -j ACCEPT\n-A INPUT -p tcp --dport 443 -j ACCEPT\nCOMMIT\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, "rem"+tc.name, "tcp:6379", "tcp:443")
			if tc.name == "nft" {
				l.nft(tc.rules)
			} else {
				run(t, tc.rules, "ip", "netns", "exec", l.srv, "iptables-nft-restore")
			}
			ps := []probe{{"tcp", cliAddr4, 6379}, {"tcp", cliAddr6, 6379}, {"tcp", cliAddr4, 443}, {"tcp", cli2Addr4, 443}, {"tcp", cliAddr6, 443}}
			before := l.probeAll(ps)
			for _, p := range ps {
				if before[p] != "open" {
					t.Fatalf("before the remedy: %s from %s to %d %s, the lab expects open", p.proto, p.src, p.port, before[p])
				}
			}
			rs, err := Read(l.pid)
			if err != nil {
				t.Fatal(err)
			}
			for port, remedy := range remediesOf(t, rs, 6379, 443) {
				t.Logf("%d: %s", port, remedy)
				for _, cmd := range commandsOf(remedy) {
					l.exec("sh", "-c", cmd)
				}
			}
			after := l.probeAll(ps)
			for p, want := range map[probe]string{
				{"tcp", cliAddr4, 6379}: "filtered", {"tcp", cliAddr6, 6379}: "filtered",
				{"tcp", cliAddr4, 443}: "open", {"tcp", cli2Addr4, 443}: "filtered", {"tcp", cliAddr6, 443}: "open",
			} {
				if after[p] != want {
					t.Errorf("after the remedies: %s from %s to %d %s, want %s", p.proto, p.src, p.port, after[p], want)
				}
			}
			rs, err = Read(l.pid)
			if err != nil {
				t.Fatal(err)
			}
			if v := rs.Evaluate("tcp", wildcard, 6379); v.Kind != Filtered {
				t.Errorf("6379 after its remedy: %+v", v)
			}
		})
	}
}

// commandsOf is what an admin runs of a remedy: each family's command, without the explanation,
// the placeholder networks named as the lab's first client, iptables as iptables-nft.
func commandsOf(remedy string) []string {
	var out []string
	for _, part := range strings.Split(remedy, "; ") {
		part = strings.TrimPrefix(strings.TrimPrefix(part, "IPv4: "), "IPv6: ")
		if i := strings.Index(part, " ("); i >= 0 {
			part = part[:i]
		}
		part = strings.NewReplacer("192.0.2.0/24", cliAddr4+"/32", "2001:db8::/32", cliAddr6+"/128").Replace(part)
		if rest, ok := strings.CutPrefix(part, "iptables "); ok {
			part = "iptables-nft " + rest
		}
		if rest, ok := strings.CutPrefix(part, "ip6tables "); ok {
			part = "ip6tables-nft " + rest
		}
		out = append(out, part)
	}
	return out
}
