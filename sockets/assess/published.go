package assess

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/reach"
)

// CodePublishedPastFirewall: a published port (a DNAT on the way in) that the machine's input
// rules refuse and its forward rules admit: the admin's deny never applies (ufw and Docker).
const CodePublishedPastFirewall = "published-past-firewall"

// PublishedFindings judges a published port: HIGH when the input path refuses the host port
// and the forward path admits what the input refuses, naming both rules and the fixes.
func PublishedFindings(p sockets.Published) []Finding {
	in, fwd := p.Input, p.Verdict
	if !refusesSome(in) || !admitsSome(fwd) {
		return nil
	}
	sample := refusedSample(in)
	if sample.IsValid() && fwd.From(sample) != reach.Open {
		return nil // the forward path refuses them too
	}
	host := p.Host.String()
	to := p.To.String()
	if l := p.Inside; l != nil && l.Process != "" {
		to += fmt.Sprintf(" (%s, pid %d, in %s)", l.Process, l.PID, l.Netns)
	}
	return []Finding{{Severity: RiskHigh, Code: CodePublishedPastFirewall, Text: fmt.Sprintf(
		"%s port %d on %s is published to %s past the input firewall: %s refuses it, but the DNAT (%s) sends it through the forward path, where %s admits it.",
		p.Proto, p.HostPort, host, to, ruleOr(in), p.Rule, ruleOr(fwd)),
		Remedy: publishedRemedy(p)}}
}

// publishedRemedy is the fix in the words of the tool that published the port: Docker's and
// Podman's -p on loopback, Docker's DOCKER-USER, kube-proxy's Service, or an admin's own DNAT
// rule deleted by its handle.
func publishedRemedy(p sockets.Published) string {
	family, table, chain, ok := ruleChain(p.Rule)
	switch {
	case strings.HasPrefix(chain, "DOCKER") || p.Verdict.Frontend == "docker":
		return fmt.Sprintf("publish it on loopback only (docker run -p 127.0.0.1:%d:%d), filter it in DOCKER-USER (iptables -I DOCKER-USER -p %s --dport %d -j DROP), or let ufw-docker manage it",
			p.HostPort, p.To.Port(), p.Proto, p.To.Port())
	case strings.HasPrefix(chain, "NETAVARK") || strings.HasPrefix(chain, "CNI-") || table == "netavark":
		return fmt.Sprintf("publish it on loopback only (podman run -p 127.0.0.1:%d:%d)", p.HostPort, p.To.Port())
	case strings.HasPrefix(chain, "KUBE-") || table == "kube-proxy" || p.Verdict.Frontend == "kube-proxy":
		return "make the Service ClusterIP rather than NodePort or LoadBalancer, or limit who reaches it (spec.loadBalancerSourceRanges; a NetworkPolicy for its pods)"
	case ok && iptablesTable(family, table, chain, p.Rule):
		return fmt.Sprintf("if the port forward is not meant: iptables -t %s -D %s N (N: its number in iptables -t %s -L %s --line-numbers); else restrict it to the networks it serves (-s 192.0.2.0/24 on the rule)",
			table, chain, table, chain)
	case ok:
		if h := ruleHandle(p.Rule); h != "" {
			return fmt.Sprintf("if the port forward is not meant: nft delete rule %s %s %s handle %s; else restrict it to the networks it serves (ip saddr 192.0.2.0/24 on the rule)",
				family, table, chain, h)
		}
	}
	return "remove the DNAT rule that publishes it if it is not meant, or restrict it to the networks it serves"
}

// ruleHandle is the handle at the end of a verdict's rule ("... # handle 12"), a number or "".
func ruleHandle(rule string) string {
	_, h, ok := strings.Cut(rule, " # handle ")
	if !ok || h == "" || len(h) > 10 || strings.Trim(h, "0123456789") != "" {
		return ""
	}
	return h
}

func refusesSome(v reach.Verdict) bool {
	return v.Kind == reach.Filtered || v.Kind == reach.Closed || v.Kind == reach.Restricted
}

func admitsSome(v reach.Verdict) bool { return v.Kind == reach.Open || v.Kind == reach.Restricted }

// refusedSample is a source the input path refuses (invalid: every source, or none known).
func refusedSample(v reach.Verdict) netip.Addr {
	if v.Kind != reach.Restricted {
		return netip.Addr{}
	}
	for _, p := range v.Except {
		return p.Addr()
	}
	return netip.Addr{}
}

func ruleOr(v reach.Verdict) string {
	if v.Rule != "" {
		return v.Rule
	}
	return "its policy"
}
