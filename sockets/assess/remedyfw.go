package assess

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/portwatch/portwatch/sockets/reach"
)

// A firewall remedy is written in the syntax of the tool whose rule decides the port today (the
// verdict's frontend and its deciding rule): ufw's command for a ufw machine, firewall-cmd with
// the zone for firewalld, iptables for iptables-nft's tables and legacy iptables, and nft with the
// real table and chain otherwise. Every rule goes before the one that admits the port now, so it
// takes effect: ufw insert 1, nft insert, iptables -I in the deciding rule's chain.

// fwTarget is where a remedy goes: the tool and, for each, what it needs to name.
type fwTarget struct {
	tool                 string // "ufw", "firewalld", "iptables", "nft", "" (no firewall known)
	family, table, chain string // the deciding rule's (nft, iptables)
	zone, service        string // firewalld's
	userRule             bool   // ufw: a user rule decides (ufw insert 1 can place a rule before it)
	v6                   bool
	both                 bool // firewalld: a dual-stack listener, one command for both families
}

// nftName is what a table, chain, zone or service name must look like to be written into a
// command: the names come from the kernel's ruleset, which anyone may have written (a name like
// "x; rm -rf /" is not repeated to an admin to paste).
var nftName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$`)

// targetOf reads where a remedy for the port goes from a family's verdict.
func targetOf(fw reach.Verdict, legacy, v6 bool) fwTarget {
	t := fwTarget{v6: v6}
	family, table, chain, ok := ruleChain(fw.Rule)
	switch {
	case legacy:
		t.tool, t.table, t.chain = "iptables", "filter", "INPUT"
	case fw.Frontend == "ufw":
		t.tool, t.v6 = "ufw", false // ufw's rules cover both families; the admin names the networks
		t.userRule = strings.HasPrefix(fw.Source, "ufw allow ") || strings.HasPrefix(fw.Source, "ufw limit ")
	case fw.Frontend == "firewalld":
		t.tool = "firewalld"
		t.zone, t.service = firewalldZone(fw.Source), flagValue(fw.Source, "--add-service=")
		if !nftName.MatchString(t.zone) {
			t.tool = "" // no zone accepts it, or a zone not named: the general rule
		}
		if !nftName.MatchString(t.service) {
			t.service = ""
		}
	case ok && iptablesTable(family, table, chain, fw.Rule):
		t.tool, t.table, t.chain = "iptables", table, chain
	case ok:
		t.tool, t.family, t.table, t.chain = "nft", family, table, chain
	}
	return t
}

// ruleChain reads "chain FAMILY TABLE CHAIN: ..." (the verdict's Rule), each name checked.
func ruleChain(rule string) (family, table, chain string, ok bool) {
	head, _, found := strings.Cut(rule, ": ")
	f := strings.Fields(head)
	if !found || len(f) != 4 || f[0] != "chain" {
		return "", "", "", false
	}
	switch f[1] {
	case "inet", "ip", "ip6", "netdev", "bridge":
	default:
		return "", "", "", false
	}
	if !nftName.MatchString(f[2]) || !nftName.MatchString(f[3]) {
		return "", "", "", false
	}
	return f[1], f[2], f[3], true
}

// iptablesTable: a table iptables-nft writes (ip or ip6 family, one of iptables' own tables) with
// a built-in chain's name or a rule only iptables writes (an xt match or target): iptables is
// what its admin uses, and nft rules added to its tables confuse iptables-save.
func iptablesTable(family, table, chain, rule string) bool {
	if family != "ip" && family != "ip6" {
		return false
	}
	switch table {
	case "filter", "raw", "mangle", "nat", "security":
	default:
		return false
	}
	switch chain {
	case "INPUT", "PREROUTING", "FORWARD", "OUTPUT", "POSTROUTING":
		return true
	}
	return strings.Contains(rule, "xt match ") || strings.Contains(rule, "xt target ")
}

// firewalldZone is the zone a firewalld verdict's source names: "firewalld zone public", or
// firewall-cmd's "--zone=public".
func firewalldZone(src string) string {
	if z := flagValue(src, "--zone="); z != "" {
		return z
	}
	if rest, ok := strings.CutPrefix(src, "firewalld zone "); ok {
		return strings.Fields(rest + " ")[0]
	}
	return ""
}

// flagValue is the word after flag in s ("" when absent).
func flagValue(s, flag string) string {
	i := strings.Index(s, flag)
	if i < 0 {
		return ""
	}
	return strings.Fields(s[i+len(flag):] + " ")[0]
}

// placeholder is the networks a restricted service is for, to be named in its place.
func placeholder(v6 bool) string {
	if v6 {
		return "2001:db8::/32"
	}
	return "192.0.2.0/24"
}

// formatFor writes the remedy in the target's tool: "drop" keeps everyone but this machine from
// the port, "restrict" admits only the networks it serves (the placeholder).
func formatFor(t fwTarget, proto string, port uint16, how string) string {
	nets := placeholder(t.v6)
	serves := " (" + nets + ": the networks it serves)"
	ipt := "iptables"
	if t.v6 {
		ipt = "ip6tables"
	}
	saddr := "ip saddr"
	if t.v6 {
		saddr = "ip6 saddr"
	}
	switch t.tool {
	case "ufw":
		rule := fmt.Sprintf("%d/%s", port, proto)
		allow := fmt.Sprintf("allow from %s to any port %d proto %s", nets, port, proto)
		switch {
		case how == "restrict" && t.userRule:
			return "ufw insert 1 " + allow + " && ufw insert 2 deny " + rule + serves
		case how == "restrict":
			return "ufw " + allow + " && ufw deny " + rule + serves
		case t.userRule:
			return "ufw insert 1 deny " + rule + " (before the rule that allows it)"
		}
		return "ufw deny " + rule
	case "firewalld":
		zone := "firewall-cmd --permanent --zone=" + t.zone
		cmd := fmt.Sprintf("%s --remove-port=%d/%s", zone, port, proto)
		if t.service != "" {
			cmd = zone + " --remove-service=" + t.service
		}
		var notes []string
		if how == "restrict" {
			fams := []bool{t.v6}
			if t.both {
				fams = []bool{false, true}
			}
			var nets []string
			for _, v6 := range fams {
				fam := "ipv4"
				if v6 {
					fam = "ipv6"
				}
				cmd += fmt.Sprintf(" && %s --add-rich-rule='rule family=\"%s\" source address=\"%s\" port port=\"%d\" protocol=\"%s\" accept'",
					zone, fam, placeholder(v6), port, proto)
				nets = append(nets, placeholder(v6))
			}
			notes = append(notes, strings.Join(nets, " and ")+": the networks it serves")
		}
		if t.service == "" {
			notes = append(notes, "--remove-service=NAME in place of --remove-port if a service opens it: firewall-cmd --zone="+t.zone+" --list-services")
		}
		return cmd + " && firewall-cmd --reload (" + strings.Join(notes, "; ") + ")"
	case "iptables":
		table := ""
		if t.table != "filter" {
			table = " -t " + t.table
		}
		if how == "restrict" {
			return fmt.Sprintf("%s%s -I %s -p %s --dport %d ! -s %s -j DROP%s", ipt, table, t.chain, proto, port, nets, serves)
		}
		return fmt.Sprintf("%s%s -I %s -p %s --dport %d ! -i lo -j DROP", ipt, table, t.chain, proto, port)
	case "nft":
		where := t.family + " " + t.table + " " + t.chain
		if how == "restrict" {
			return fmt.Sprintf("nft insert rule %s %s dport %d %s != %s drop%s", where, proto, port, saddr, nets, serves)
		}
		return fmt.Sprintf("nft insert rule %s %s dport %d iif != lo drop", where, proto, port)
	}
	// No rule decides (no firewall): a table of its own.
	if how == "restrict" {
		return fmt.Sprintf("nft add rule inet filter input %s dport %d %s != %s drop (%s: the networks it serves; the table and chain as the ruleset names them)", proto, port, saddr, nets, nets)
	}
	return fmt.Sprintf("nft add rule inet filter input %s dport %d iif != lo drop (the table and chain as the ruleset names them)", proto, port)
}
