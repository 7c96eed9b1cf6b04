package assess

import (
	"net/netip"

	"github.com/portwatch/portwatch/sockets"
)

// maxPublishedRows bounds the published ports made rows: rules are anyone's to write (a
// kube-proxy with thousands of NodePorts still fits).
const maxPublishedRows = 1 << 14

// publishedRows makes a verdict of each published port, a row of its own whether or not a
// socket backs it (no docker-proxy: Podman, kube-proxy, Docker without its userland proxy).
// Its socket is made from the DNAT: the host address and port it answers on as the local
// end, where the DNAT sends it as the remote end, state PUBLISHED, no owner; its firewall
// verdict is the forward path's, its findings PublishedFindings', and its service the one
// inside's, named by the destination port.
func (as *Assessor) publishedRows(pubs []sockets.Published) []*Verdict {
	var out []*Verdict
	for i := range pubs {
		if i >= maxPublishedRows {
			break
		}
		p := pubs[i] // copied: the snapshot is handed back after each poll
		out = append(out, as.publishedRow(&p))
	}
	return out
}

func (as *Assessor) publishedRow(p *sockets.Published) *Verdict {
	proto := sockets.TCP
	if p.Proto == "udp" {
		proto = sockets.UDP
	}
	host := p.Host
	if !host.IsValid() {
		host = netip.IPv4Unspecified()
		if p.To.Addr().Is6() && !p.To.Addr().Is4In6() {
			host = netip.IPv6Unspecified()
		}
	}
	s := sockets.Socket{Proto: proto, Family: 4, Local: host, LPort: p.HostPort, Remote: p.To.Addr(), RPort: p.To.Port(),
		State: sockets.StatePublished, Netns: p.Netns, NetnsInode: p.NetnsInode, OwnerStatus: sockets.OwnerNone}
	if host.Is6() && !host.Is4In6() {
		s.Family = 6
	}
	var info ServiceInfo
	if as.kb != nil {
		info = as.kb.Lookup(proto, p.To.Port())
	}
	info.Source = ByPort
	fw := p.Verdict
	v := newVerdict(&s)
	v.Service, v.fw, v.Role, v.Published = &info, &fw, RoleListener, p
	v.Findings = PublishedFindings(*p)
	v.Risk = info.Risk
	if len(v.Findings) > 0 && v.Findings[0].Severity > v.Risk {
		v.Risk = v.Findings[0].Severity
	}
	return v
}
