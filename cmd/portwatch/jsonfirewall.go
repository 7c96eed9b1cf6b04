//go:build linux

package main

import (
	"net/netip"

	"github.com/portwatch/portwatch/sockets"
	"github.com/portwatch/portwatch/sockets/assess"
	"github.com/portwatch/portwatch/sockets/reach"
)

// jsonFirewall is what a new connection from outside meets at a listener:
// the verdict, the rule that decides it (nft syntax), the sources a
// restricted listener accepts ("!" before the ones a block list refuses) and
// what the others meet (filtered: dropped or rejected as unreachable;
// closed: rejected with a reset or port unreachable), why an unknown verdict
// is unknown, and the notes (rate limits, assumptions). A dual-stack
// listener whose families differ has both in by_family; a wildcard
// listener whose addresses differ has each in by_address.
type jsonFirewall struct {
	Verdict   string         `json:"verdict"`
	Rule      string         `json:"rule"`
	Sources   []string       `json:"sources"`
	Others    string         `json:"others,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Note      string         `json:"note,omitempty"`
	Frontend  string         `json:"frontend,omitempty"`
	Source    string         `json:"source,omitempty"`
	Family    string         `json:"family,omitempty"`  // in by_family: ipv4 or ipv6
	Address   string         `json:"address,omitempty"` // in by_address
	ByFamily  []jsonFirewall `json:"by_family,omitempty"`
	ByAddress []jsonFirewall `json:"by_address,omitempty"`

	// refused sources that meet the other of filtered and closed, with their rule
	Exceptions []jsonException `json:"exceptions,omitempty"`
}

type jsonException struct {
	Sources []string `json:"sources"`
	Verdict string   `json:"verdict"`
	Rule    string   `json:"rule,omitempty"`
}

func toJSONFirewall(fw reach.Verdict) *jsonFirewall {
	j := &jsonFirewall{Verdict: string(fw.Kind), Rule: fw.Rule, Sources: []string{}, Others: string(fw.Others),
		Reason: fw.Reason, Note: fw.Note, Frontend: fw.Frontend, Source: fw.Source}
	for _, p := range fw.Sources {
		j.Sources = append(j.Sources, p.String())
	}
	for _, p := range fw.Except {
		j.Sources = append(j.Sources, "!"+p.String())
	}
	for _, e := range fw.Exceptions {
		je := jsonException{Sources: []string{}, Verdict: string(e.Kind), Rule: e.Rule}
		for _, p := range e.Sources {
			je.Sources = append(je.Sources, p.String())
		}
		j.Exceptions = append(j.Exceptions, je)
	}
	for i, f := range fw.ByFamily {
		jf := toJSONFirewall(f)
		jf.Family = "ipv4"
		if i == 1 {
			jf.Family = "ipv6"
		}
		j.ByFamily = append(j.ByFamily, *jf)
	}
	for _, a := range fw.ByAddress {
		ja := toJSONFirewall(a.Verdict)
		ja.Address = a.Addr.String()
		j.ByAddress = append(j.ByAddress, *ja)
	}
	return j
}

// jsonPublished is a published port: connections to host:host_port go to
// to (DNAT), with what they meet on the forward path.
type jsonPublished struct {
	Netns    string `json:"netns"`
	Proto    string `json:"proto"`
	Host     string `json:"host"`
	HostPort uint16 `json:"host_port"`
	To       string `json:"to"`
	Rule     string `json:"rule"`
	// Publisher and Mapping say who publishes it, in that tool's words:
	// "docker", "docker run -p 0.0.0.0:8080:80"; "" for an admin's own DNAT.
	Publisher string        `json:"publisher"`
	Mapping   string        `json:"mapping"`
	Firewall  *jsonFirewall `json:"firewall"`
	// Input is what the machine's input rules say about the host port, the DNAT left aside.
	Input *jsonFirewall `json:"input"`
	// Inside is the listener that answers it, where one of this machine's
	// namespaces holds the destination and listens there; null otherwise.
	Inside   *jsonInside      `json:"inside"`
	Findings []assess.Finding `json:"findings"`
}

// jsonInside is the listener a published port reaches.
type jsonInside struct {
	Netns   string `json:"netns"`
	Address string `json:"address"`
	Port    uint16 `json:"port"`
	Inode   uint64 `json:"inode"`
	PID     int32  `json:"pid"`
	Process string `json:"process"`
}

func toJSONPublished(ps []sockets.Published) []jsonPublished {
	out := []jsonPublished{}
	for _, p := range ps {
		host := p.Host
		if !host.IsValid() {
			host = netip.IPv4Unspecified()
		}
		j := jsonPublished{Netns: p.Netns, Proto: p.Proto, Host: host.String(), HostPort: p.HostPort,
			To: p.To.String(), Rule: p.Rule, Publisher: p.Publisher(), Mapping: p.Mapping(), Firewall: toJSONFirewall(p.Verdict), Input: toJSONFirewall(p.Input),
			Findings: append([]assess.Finding{}, assess.PublishedFindings(p)...)}
		if in := p.Inside; in != nil {
			j.Inside = &jsonInside{Netns: in.Netns, Address: in.Local.String(), Port: in.Port, Inode: in.Inode, PID: in.PID, Process: in.Process}
		}
		out = append(out, j)
	}
	return out
}
