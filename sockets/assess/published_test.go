package assess

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

func TestPublishedFindings(t *testing.T) {
	pub := func(in, fwd reach.Verdict) sockets.Published {
		return sockets.Published{Published: reach.Published{Proto: "tcp", Host: netip.IPv4Unspecified(), HostPort: 8081,
			To: netip.MustParseAddrPort("172.17.0.2:81"), Rule: "chain ip nat DOCKER: DNAT # handle 9", Verdict: fwd, Input: in}}
	}
	deny := reach.Verdict{Kind: reach.Filtered, Rule: "chain ip filter ufw-user-input: tcp dport 8081 drop # handle 4"}
	open := reach.Verdict{Kind: reach.Open, Rule: "chain ip filter DOCKER: accept # handle 21"}
	for _, tc := range []struct {
		name     string
		in, fwd  reach.Verdict
		wantHigh bool
	}{
		{"ufw deny, Docker publishes", deny, open, true},
		{"both refuse", deny, reach.Verdict{Kind: reach.Filtered}, false},
		{"input admits", open, open, false},
		{"restricted input, forward open", reach.Verdict{Kind: reach.Restricted, Except: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, open, true},
	} {
		f := PublishedFindings(pub(tc.in, tc.fwd))
		if got := len(f) == 1 && f[0].Severity == RiskHigh && f[0].Code == CodePublishedPastFirewall; got != tc.wantHigh {
			t.Errorf("%s: %+v", tc.name, f)
		}
		if tc.wantHigh && (!strings.Contains(f[0].Text, deny.Rule) && tc.in.Rule != "" || !strings.Contains(f[0].Remedy, "-p 127.0.0.1:8081:81") ||
			!strings.Contains(f[0].Remedy, "DOCKER-USER") || !strings.Contains(f[0].Remedy, "ufw-docker")) {
			t.Errorf("%s: the text names the rules and the remedy the fixes: %s", tc.name, f[0].Text)
		}
	}
}

// The finding names the listener the published port reaches, where the join found it.
func TestPublishedFindingNamesTheListenerInside(t *testing.T) {
	p := sockets.Published{Published: reach.Published{Proto: "tcp", Host: netip.IPv4Unspecified(), HostPort: 6379,
		To: netip.MustParseAddrPort("172.17.0.2:6379"), Rule: "chain ip nat DOCKER: DNAT # handle 9",
		Verdict: reach.Verdict{Kind: reach.Open}, Input: reach.Verdict{Kind: reach.Filtered}},
		Inside: &sockets.PublishedListener{Netns: "docker:cache", PID: 4242, Process: "redis-server", Port: 6379}}
	if f := PublishedFindings(p); len(f) != 1 || !strings.Contains(f[0].Text, "172.17.0.2:6379 (redis-server, pid 4242, in docker:cache)") {
		t.Errorf("%+v", f)
	}
}

// The fix is written for the tool that published the port.
func TestPublishedRemedyPerFrontend(t *testing.T) {
	for rule, want := range map[string]string{
		`chain ip nat DOCKER: iifname != "docker0" meta l4proto tcp tcp dport 8081 counter xt target "DNAT" # handle 12`:  "docker run -p 127.0.0.1:8081:81",
		`chain inet netavark NETAVARK-DN-1D8721804F16F: ip daddr 10.0.0.5 tcp dport 8081 dnat to 10.88.0.2:81 # handle 7`: "podman run -p 127.0.0.1:8081:81",
		`chain ip nat KUBE-NODEPORTS: meta l4proto tcp tcp dport 8081 counter jump KUBE-EXT-X # handle 40`:                "make the Service ClusterIP",
		`chain ip nat PREROUTING: meta l4proto tcp tcp dport 8081 counter xt target "DNAT" # handle 9`:                    "iptables -t nat -D PREROUTING N",
		`chain ip nat pre: tcp dport 8081 dnat to 172.17.0.2:81 # handle 3`:                                               "nft delete rule ip nat pre handle 3",
		`chain ip x;reboot pre: tcp dport 8081 dnat to 172.17.0.2:81 # handle 3`:                                          "remove the DNAT rule that publishes it",
	} {
		p := sockets.Published{Published: reach.Published{Proto: "tcp", Host: netip.IPv4Unspecified(), HostPort: 8081,
			To: netip.MustParseAddrPort("172.17.0.2:81"), Rule: rule, Verdict: reach.Verdict{Kind: reach.Open},
			Input: reach.Verdict{Kind: reach.Filtered}}}
		if f := PublishedFindings(p); len(f) != 1 || !strings.Contains(f[0].Remedy, want) {
			t.Errorf("%s:\n %+v\nwant %q", rule, f, want)
		}
	}
}
