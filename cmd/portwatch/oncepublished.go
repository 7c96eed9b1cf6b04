//go:build linux

package main

import (
	"strconv"

	"github.com/portwatch/portwatch/sockets/assess"
)

// printPublished is the --once section of the published ports (DNAT rules), each listed
// whether or not a socket backs it: where it goes, who publishes it, and what the forward path
// does to it, with the deciding rule as its frontend writes it where it has one. Their findings
// (published-past-firewall, with the remedy) are in FINDINGS with the sockets'.
func printPublished(out *errWriter, pubs []*assess.Verdict) {
	if len(pubs) == 0 {
		return
	}
	out.printf("\nPUBLISHED (%d)\n", len(pubs))
	t := &textTable{}
	t.add("NETNS", "PROTO", "HOST", "PORT", "TO", "INSIDE", "SERVICE", "RISK", "PUBLISHED BY", "FIREWALL", "RULE")
	for _, v := range pubs {
		p, s := v.Published, &v.Socket
		if p == nil {
			continue
		}
		inside := "-"
		if in := p.Inside; in != nil {
			inside = in.Netns
			if in.Process != "" {
				inside = in.Process + "[" + strconv.Itoa(int(in.PID)) + "] in " + in.Netns
			}
		}
		by := p.Mapping()
		if by == "" {
			by = p.Publisher()
		}
		if by == "" {
			by = "DNAT"
		}
		fw := v.Firewall()
		rule := fw.Source
		if rule == "" {
			rule = fw.Rule
		}
		if rule == "" {
			rule = fw.Reason
		}
		kind := string(fw.Kind)
		if kind == "" {
			kind = "-"
		}
		t.add(s.Netns, s.ProtoLabel(), s.Local.String(), strconv.Itoa(int(s.LPort)), p.To.String(), inside,
			v.Service.Name, v.Risk.String(), by, kind, rule)
	}
	out.table(t)
}
