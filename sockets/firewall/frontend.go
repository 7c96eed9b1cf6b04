//go:build linux

package firewall

import (
	"encoding/binary"
	"strings"

	"github.com/google/nftables/expr"
	"github.com/google/nftables/xt"
	"golang.org/x/sys/unix"
)

// Frontends: the tools that write most rule sets, recognised by the tables and chains they make
// (ufw's ufw-* chains, firewalld's inet firewalld table, Docker's DOCKER* chains, kube-proxy's
// KUBE-* chains and kube-proxy table), and the deciding rule said as the tool's user writes it.

// frontendOf names the frontend of a deciding rule or policy, and the rule in its words.
func frontendOf(ev *evaluator, d decider) (frontend, source string) {
	rs := ev.rs
	var c *chain
	var r *rule
	switch x := d.(type) {
	case *rule:
		r, c = x, x.chain
	case policyOf:
		c = x.c
	default:
		return "", ""
	}
	if c == nil || c.table == nil {
		return "", ""
	}
	switch {
	case strings.HasPrefix(c.name, "ufw-") || strings.HasPrefix(c.name, "ufw6-"):
		return "ufw", ufwSource(ev, c, r)
	case r == nil && c.base && rs.hasChainPrefix("ufw"):
		if c.policy == nfAccept {
			return "ufw", "ufw default allow incoming"
		}
		return "ufw", "ufw default deny incoming"
	case c.table.name == "firewalld" && c.table.family == famINET:
		return "firewalld", firewalldSource(ev, c, r)
	case strings.HasPrefix(c.name, "DOCKER"):
		return "docker", ""
	case strings.HasPrefix(c.name, "KUBE-") || c.table.name == "kube-proxy":
		return "kube-proxy", ""
	}
	return "", ""
}

// hasChainPrefix: some chain of the ruleset is named with the prefix and a dash.
func (r *Ruleset) hasChainPrefix(p string) bool {
	for k := range r.chains {
		if strings.HasPrefix(k.name, p+"-") || strings.HasPrefix(k.name, p+"6-") {
			return true
		}
	}
	return false
}

// ufwSource is a ufw user rule as ufw's command writes it: "ufw allow 22/tcp", "ufw limit 22/tcp",
// "ufw deny from 10.0.0.0/8 to any port 5432 proto tcp"; "" for ufw's own before and after rules.
// ufwAction is the ufw word a rule's verdict stands for ("allow", "deny",
// "limit", "reject"), or "" for a node that is no verdict.
func ufwAction(n node) string {
	switch e := n.e.(type) {
	case *expr.Verdict:
		switch e.Kind {
		case expr.VerdictAccept:
			return "allow"
		case expr.VerdictDrop:
			return "deny"
		case expr.VerdictJump, expr.VerdictGoto:
			if strings.Contains(e.Chain, "limit") {
				return "limit"
			}
		}
	case *expr.Reject:
		return "reject"
	case *expr.Target:
		if e.Name == "REJECT" {
			return "reject"
		}
	}
	return ""
}

func ufwSource(ev *evaluator, c *chain, r *rule) string {
	name := strings.TrimPrefix(strings.TrimPrefix(c.name, "ufw6-"), "ufw-")
	switch name {
	case "user-limit", "user-limit-accept":
		return "ufw limit " + itoa16(ev.port) + "/" + protoWord(ev.proto)
	case "reject-input": // DEFAULT_INPUT_POLICY="REJECT": the policy is drop, this chain rejects
		return "ufw default reject incoming"
	case "user-input":
	default:
		return ""
	}
	if r == nil {
		return ""
	}
	action := ""
	proto, port := "", ""
	for _, n := range r.nodes {
		if a := ufwAction(n); a != "" {
			action = a
		}
		switch e := n.e.(type) {
		case *expr.Match:
			switch info := e.Info.(type) {
			case *xt.Tcp:
				proto, port = "tcp", portText(info.DstPorts)
			case *xt.Udp:
				proto, port = "udp", portText(info.DstPorts)
			case *xt.Unknown:
				if e.Name == "multiport" {
					port = multiportText(e.Rev, *info)
				}
			}
		}
	}
	text := r.String()
	if proto == "" || port == "" {
		for _, p := range []string{"tcp", "udp"} {
			if v := ruleField(text, p+" dport"); v != "" {
				proto, port = p, strings.ReplaceAll(v, "-", ":")
			}
		}
	}
	if proto == "" && (strings.Contains(text, "l4proto tcp") || strings.Contains(text, "l4proto udp")) {
		proto = protoWord(ev.proto)
	}
	app := ufwApp(text)
	iface := strings.Trim(ruleField(text, "iifname"), `"`)
	from := ruleField(text, "ip saddr") + ruleField(text, "ip6 saddr")
	to := ruleField(text, "ip daddr") + ruleField(text, "ip6 daddr")
	if action == "" || (port == "" && from == "" && to == "") {
		return ""
	}
	if iface == "" && from == "" && to == "" {
		if app != "" {
			return "ufw " + action + " " + app
		}
		return "ufw " + action + " " + port + "/" + protoWord(ev.proto)
	}
	// ufw's long form: ufw ACTION [in on IF] [from SRC] [to DST [port P]] [proto P]
	out := "ufw " + action
	if iface != "" {
		out += " in on " + iface
	}
	if from != "" {
		out += " from " + from
	}
	if to != "" || port != "" {
		if to == "" {
			to = "any"
		}
		out += " to " + to
		if app != "" {
			return out + " app " + app
		}
		if port != "" {
			out += " port " + port
		}
	}
	if proto != "" {
		out += " proto " + proto
	}
	return out
}

// ufwApp is the application profile a ufw rule was made for ("ufw allow IMAPS"), from the comment
// ufw gives it ('dapp_Mail%20submission'), quoted as a shell needs it when it holds a space; "" for
// none, or a name that is not a profile's.
func ufwApp(text string) string {
	const mark = `comment "'dapp_`
	i := strings.Index(text, mark)
	if i < 0 {
		return ""
	}
	name, _, ok := strings.Cut(text[i+len(mark):], `'"`)
	if !ok || len(name) > 64 {
		return ""
	}
	name = strings.ReplaceAll(name, "%20", " ")
	for _, r := range name {
		if !(r == ' ' || r == '-' || r == '_' || r == '.' || r == '+' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return ""
		}
	}
	if strings.Contains(name, " ") {
		return "'" + name + "'"
	}
	return name
}

// ruleField is the value after key in a rule's nft text ("tcp dport" in "tcp dport { 80, 443 }
// accept" is "80,443"), or "" when the rule does not match on it.
func ruleField(text, key string) string {
	i := strings.Index(" "+text, " "+key+" ")
	if i < 0 {
		return ""
	}
	rest := text[i+len(key)+1:]
	if strings.HasPrefix(rest, "!= ") {
		return "" // a negation is no ufw rule's
	}
	if strings.HasPrefix(rest, "{ ") {
		if j := strings.Index(rest, " }"); j > 0 {
			return strings.ReplaceAll(rest[2:j], ", ", ",")
		}
		return ""
	}
	if f := strings.Fields(rest); len(f) > 0 {
		return f[0]
	}
	return ""
}

func protoWord(p uint8) string {
	if p == unix.IPPROTO_UDP {
		return "udp"
	}
	return "tcp"
}

// multiportText is a multiport match's ports as ufw writes them: "80,443", "8000:8002".
func multiportText(rev uint32, b []byte) string {
	const maxPorts = 15
	if len(b) < 2+2*maxPorts || int(b[1]) > maxPorts {
		return ""
	}
	var parts []string
	count := int(b[1])
	for i := 0; i < count; i++ {
		p := itoa16(binary.NativeEndian.Uint16(b[2+2*i:]))
		if rev == 1 && len(b) >= 2+3*maxPorts && b[2+2*maxPorts+i] != 0 && i+1 < count {
			i++
			p += ":" + itoa16(binary.NativeEndian.Uint16(b[2+2*i:]))
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

func portText(r [2]uint16) string {
	if r[0] == r[1] {
		return itoa16(r[0])
	}
	return itoa16(r[0]) + ":" + itoa16(r[1])
}
