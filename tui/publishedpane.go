package tui

import (
	"fmt"
	"net/netip"

	"github.com/portwatch/portwatch/sockets"
)

// publishedLines is a published port's part of the detail pane, in place of a socket's and
// its processes': what publishes it (the -p mapping as its user wrote it, else the tool, else
// an admin's DNAT), where the DNAT sends it and what answers there, the rule, and what the
// input path would have said of the port, the DNAT aside (the deny it bypasses).
func publishedLines(label func(string) string, p *sockets.Published, multiNetns bool, w int) []string {
	host := p.Host
	if !host.IsValid() {
		host = netip.IPv4Unspecified()
	}
	by := p.Mapping()
	if by == "" && p.Publisher() != "" {
		by = p.Publisher() + "'s DNAT"
	}
	if by == "" {
		by = "a DNAT rule"
	}
	out := []string{label("Published")}
	out = append(out, hanging("  ", "  ", fmt.Sprintf("%s %s sent on to %s by %s, whether or not a socket listens on the host.",
		p.Proto, netip.AddrPortFrom(host, p.HostPort), p.To, by), w)...)
	if p.Rule != "" {
		out = append(out, hanging("  DNAT ", "       ", p.Rule, w)...)
	}
	if in := p.Inside; in != nil {
		who := "a listener"
		if in.Process != "" {
			who = fmt.Sprintf("%s (pid %d)", in.Process, in.PID)
		}
		out = append(out, hanging("  ", "  ", fmt.Sprintf("answered by %s on %s in %s", who, netip.AddrPortFrom(in.Local, in.Port), in.Netns), w)...)
	} else {
		out = append(out, hanging("  ", "  ", "nothing in this machine's namespaces listens there: another machine answers, or the connections meet a reset", w)...)
	}
	if k := p.Input.Kind; k != "" {
		in := "  input path, the DNAT aside: " + string(k)
		out = append(out, hanging("", "  ", in, w)...)
		if p.Input.Rule != "" {
			out = append(out, hanging("  rule ", "       ", p.Input.Rule, w)...)
		}
		if p.Input.Source != "" { // as its frontend writes it: the admin's intent the DNAT bypasses
			out = append(out, hanging("  as "+p.Input.Frontend+" says it: ", "  ", p.Input.Source, w)...)
		}
	}
	if multiNetns || p.Netns != sockets.HostNetns {
		out = append(out, "  network namespace: "+p.Netns)
	}
	return out
}
