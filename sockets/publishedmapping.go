package sockets

import (
	"net/netip"
	"strconv"
	"strings"
)

// Publisher names the tool whose DNAT rule publishes the port, from the chain the rule lives in
// as each writes it: "docker" (table nat, chain DOCKER), "podman" (netavark's NETAVARK-* chains,
// or CNI's CNI-* ones), "kube-proxy" (KUBE-* chains, or its own kube-proxy table); "" for any
// other DNAT (an admin's own).
func (p *Published) Publisher() string {
	head, _, ok := strings.Cut(p.Rule, ": ")
	f := strings.Fields(head)
	if !ok || len(f) != 4 || f[0] != "chain" {
		return ""
	}
	table, chain := f[2], f[3]
	switch {
	case chain == "DOCKER" || strings.HasPrefix(chain, "DOCKER-"):
		return "docker"
	case table == "netavark" || strings.HasPrefix(chain, "NETAVARK") || strings.HasPrefix(chain, "CNI-"):
		return "podman"
	case table == "kube-proxy" || strings.HasPrefix(chain, "KUBE-"):
		return "kube-proxy"
	}
	return ""
}

// Mapping is the published port as its publisher's user wrote it, the container's -p mapping:
// "docker run -p 0.0.0.0:8080:80", "podman run -p [::]:8443:443/udp"; "" when another tool or
// an admin's rule publishes it (the rule itself says it then).
func (p *Published) Mapping() string {
	tool := p.Publisher()
	if tool != "docker" && tool != "podman" {
		return ""
	}
	host := p.Host
	if !host.IsValid() {
		host = netip.IPv4Unspecified()
	}
	h := host.String()
	if host.Is6() && !host.Is4In6() {
		h = "[" + h + "]"
	}
	m := tool + " run -p " + h + ":" + strconv.Itoa(int(p.HostPort)) + ":" + strconv.Itoa(int(p.To.Port()))
	if p.Proto == "udp" {
		m += "/udp"
	}
	return m
}
